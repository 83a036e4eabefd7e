#include "image/registry_auth.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/ascii.h"
#include "core/json.h"
#include "kube/encoding.h"

namespace gpufleet::image {
namespace {

bool IsTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~/").find(c) != std::string_view::npos;
}

void SkipSpace(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) ++i;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

}  // namespace

std::vector<Challenge> ParseChallenges(std::string_view h) {
  std::vector<Challenge> out;
  size_t i = 0;
  while (true) {
    SkipSpace(h, i);
    const size_t start = i;
    while (i < h.size() && IsTokenChar(h[i])) ++i;
    if (i == start) return out;
    std::string token(h.substr(start, i - start));
    size_t j = i;
    while (j < h.size() && h[j] == ' ') ++j;
    if (j < h.size() && h[j] == '=' && !out.empty()) {
      // A parameter of the current challenge.
      i = j + 1;
      while (i < h.size() && h[i] == ' ') ++i;
      std::string value;
      if (i < h.size() && h[i] == '"') {
        for (++i; i < h.size() && h[i] != '"'; ++i) {
          if (h[i] == '\\' && i + 1 < h.size()) ++i;
          value.push_back(h[i]);
        }
        if (i >= h.size()) return out;  // unterminated quote
        ++i;
      } else {
        const size_t v = i;
        while (i < h.size() && IsTokenChar(h[i])) ++i;
        value = std::string(h.substr(v, i - v));
      }
      out.back().params[core::AsciiLower(token)] = value;
    } else {
      out.push_back(Challenge{core::AsciiLower(token), {}});
    }
  }
}

std::vector<std::string> DefaultAuthFiles() {
  std::vector<std::string> files;
  if (auto f = Env("REGISTRY_AUTH_FILE"); !f.empty()) files.push_back(f);
  if (auto d = Env("XDG_RUNTIME_DIR"); !d.empty()) files.push_back(d + "/containers/auth.json");
  if (auto d = Env("DOCKER_CONFIG"); !d.empty()) {
    files.push_back(d + "/config.json");
  } else if (auto home = Env("HOME"); !home.empty()) {
    files.push_back(home + "/.docker/config.json");
  }
  return files;
}

Result<std::optional<Credentials>> LookupCredentials(std::string_view registry, const std::vector<std::string>& files) {
  std::vector<std::string> keys = {std::string(registry), "https://" + std::string(registry), "http://" + std::string(registry),
                                   "https://" + std::string(registry) + "/v1/", "https://" + std::string(registry) + "/v2/"};
  if (registry == "docker.io" || registry == "registry-1.docker.io") {
    keys.insert(keys.begin(), {"https://index.docker.io/v1/", "docker.io", "index.docker.io"});
  }
  for (const std::string& file : files) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec)) continue;
    std::ifstream in(file);
    std::stringstream text;
    text << in.rdbuf();
    auto doc = core::ParseJson(text.str(), 16);
    if (!doc.ok()) return doc.status().WithContext("auth file " + file);
    auto auths = doc->find("auths");
    if (auths == doc->end() || !auths->is_object()) continue;
    for (const std::string& key : keys) {
      auto entry = auths->find(key);
      if (entry == auths->end() || !entry->is_object()) continue;
      const std::string where = "auth file " + file + ", entry \"" + key + "\"";
      Credentials c;
      if (auto a = entry->find("auth"); a != entry->end() && a->is_string() && !a->get<std::string>().empty()) {
        auto decoded = kube::Base64Decode(a->get<std::string>());
        const size_t colon = decoded.ok() ? decoded->find(':') : std::string::npos;
        if (colon == std::string::npos) return InvalidArgumentError(where + ": \"auth\" is not base64 of user:password");
        c.username = decoded->substr(0, colon);
        c.password = decoded->substr(colon + 1);
      }
      if (auto u = entry->find("username"); u != entry->end() && u->is_string()) c.username = u->get<std::string>();
      if (auto p = entry->find("password"); p != entry->end() && p->is_string()) c.password = p->get<std::string>();
      if (auto t = entry->find("identitytoken"); t != entry->end() && t->is_string()) c.identity_token = t->get<std::string>();
      if (c.username.empty() && c.identity_token.empty()) continue;
      return std::optional<Credentials>(std::move(c));
    }
  }
  return std::optional<Credentials>();
}

Result<std::string> ParseTokenResponse(std::string_view body) {
  auto doc = core::ParseJson(body, 8);
  if (!doc.ok() || !doc->is_object()) return UnauthenticatedError("the token service's answer is not a JSON object");
  for (const char* key : {"token", "access_token"}) {
    if (auto t = doc->find(key); t != doc->end() && t->is_string() && !t->get<std::string>().empty()) return t->get<std::string>();
  }
  return UnauthenticatedError("the token service's answer has no \"token\" or \"access_token\"");
}

}  // namespace gpufleet::image
