#include "image/reference.h"

#include "image/digest.h"

namespace gpufleet::image {
namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// One path component: [a-z0-9]+ joined by ".", "_", "__" or runs of "-".
bool ValidComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  for (size_t i = 0; i < c.size(); ++i) {
    if (IsLowerAlnum(c[i])) continue;
    if (c[i] == '-') continue;
    if (c[i] == '.' || c[i] == '_') {
      const bool double_underscore = c[i] == '_' && i + 1 < c.size() && c[i + 1] == '_';
      if (double_underscore) ++i;
      if (!IsLowerAlnum(c[i + 1])) return false;
      continue;
    }
    return false;
  }
  return true;
}

bool ValidTag(std::string_view t) {
  if (t.empty() || t.size() > 128) return false;
  auto word = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; };
  if (!word(t.front())) return false;
  for (char c : t) {
    if (!word(c) && c != '.' && c != '-') return false;
  }
  return true;
}

bool ValidHost(std::string_view h) {
  if (h.empty()) return false;
  for (char c : h) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                    c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string ImageReference::ApiHost() const { return registry == "docker.io" ? "registry-1.docker.io" : registry; }

std::string ImageReference::String() const {
  std::string out = registry + "/" + repository;
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

Result<ImageReference> ParseImageReference(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("image reference \"" + std::string(text.substr(0, 256)) + "\": " + std::string(why));
  };
  if (text.empty()) return bad("empty");
  if (text.size() > 4096) return bad("longer than 4096 characters");
  ImageReference ref;
  std::string_view rest = text;
  if (const size_t at = rest.find('@'); at != std::string_view::npos) {
    ref.digest = std::string(rest.substr(at + 1));
    GF_RETURN_IF_ERROR(ValidateDigest(ref.digest, "image reference digest"));
    rest = rest.substr(0, at);
  }
  // A tag follows the last ":" after the last "/" (a ":" before it is a registry port).
  const size_t slash = rest.rfind('/');
  if (const size_t colon = rest.rfind(':'); colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    if (!ValidTag(ref.tag)) return bad("tag \"" + ref.tag + "\" is not [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    rest = rest.substr(0, colon);
  }
  std::string_view path = rest;
  if (const size_t first = rest.find('/'); first != std::string_view::npos) {
    const std::string_view head = rest.substr(0, first);
    if (head.find('.') != std::string_view::npos || head.find(':') != std::string_view::npos || head == "localhost") {
      if (!ValidHost(head)) return bad("registry host \"" + std::string(head) + "\" is not a host[:port]");
      ref.registry = std::string(head);
      path = rest.substr(first + 1);
    }
  }
  if (ref.registry.empty()) ref.registry = "docker.io";
  if (path.empty()) return bad("no repository");
  for (size_t start = 0;;) {
    const size_t end = path.find('/', start);
    const std::string_view component = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!ValidComponent(component)) {
      return bad("repository component \"" + std::string(component) +
                 "\" is not lower-case letters and digits joined by '.', '_', '__' or '-'");
    }
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  ref.repository = std::string(path);
  if (ref.registry == "docker.io" && ref.repository.find('/') == std::string::npos) ref.repository = "library/" + ref.repository;
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace gpufleet::image
