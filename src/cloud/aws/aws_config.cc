#include "cloud/aws/aws_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/log.h"
#include "core/ascii.h"

namespace gpufleet::cloud::aws {
namespace {

const core::log::Logger kLog("aws.config");

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\f' || c == '\v' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}



bool IsTrue(std::string_view v) { return core::AsciiLower(Trim(v)) == "true"; }

// "profile NAME" -> NAME (quotes removed); nullopt for other section names.
std::optional<std::string> ProfileSectionName(std::string_view section) {
  constexpr std::string_view kPrefix = "profile";
  if (section.size() <= kPrefix.size() || section.substr(0, kPrefix.size()) != kPrefix ||
      !IsSpace(section[kPrefix.size()])) {
    return std::nullopt;
  }
  std::string_view name = Trim(section.substr(kPrefix.size()));
  if (name.size() >= 2 && (name.front() == '"' || name.front() == '\'') && name.back() == name.front()) {
    name = name.substr(1, name.size() - 2);
  }
  if (name.empty()) return std::nullopt;
  return std::string(name);
}

// An option being read: its value lines until the next option or section.
struct PendingOption {
  IniSection* section = nullptr;
  std::string key;
  size_t indent = 0;
  int line = 0;
  std::vector<std::pair<int, std::string>> continuation;  // (line, trimmed text)
};

Status FinishOption(PendingOption& p, std::string_view path) {
  if (p.section == nullptr) return OkStatus();
  std::string& value = p.section->values[p.key];
  if (!p.continuation.empty()) {
    if (value.empty()) {
      auto& nested = p.section->nested[p.key];
      for (const auto& [line, text] : p.continuation) {
        size_t eq = text.find('=');
        if (eq == std::string::npos) {
          return InvalidArgumentError(std::string(path) + ":" + std::to_string(line) + ": nested setting of \"" +
                                      p.key + "\" is not \"key = value\"");
        }
        nested[std::string(Trim(std::string_view(text).substr(0, eq)))] =
            std::string(Trim(std::string_view(text).substr(eq + 1)));
      }
    } else {
      for (const auto& entry : p.continuation) value.append("\n").append(entry.second);
    }
  }
  p = PendingOption{};
  return OkStatus();
}

}  // namespace

// ---- Environment ----

std::optional<std::string> Environment::ProcessGetenv(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

std::string Environment::ProcessHome() {
  const char* v = std::getenv("HOME");
  return v == nullptr ? "" : v;
}

Environment Environment::FromMap(std::map<std::string, std::string, std::less<>> vars, std::string home) {
  Environment env;
  env.getenv = [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  env.home = std::move(home);
  return env;
}

std::optional<std::string> Environment::Get(std::string_view name) const {
  if (!getenv) return std::nullopt;
  std::optional<std::string> v = getenv(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

std::string Environment::ExpandHome(std::string_view path) const {
  if (path == "~") return home;
  if (path.substr(0, 2) == "~/") return home + std::string(path.substr(1));
  return std::string(path);
}

// ---- INI ----

const IniSection* IniFile::Find(std::string_view name) const {
  for (const IniSection& s : sections) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

Result<IniFile> ParseIni(std::string_view text, std::string_view path_for_errors) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 byte order mark
  IniFile file;
  PendingOption pending;
  IniSection* current = nullptr;
  auto error = [&](int line, const std::string& what) {
    return InvalidArgumentError(std::string(path_for_errors) + ":" + std::to_string(line) + ": " + what);
  };
  int line_number = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_number;
    std::string_view stripped = Trim(line);
    if (stripped.empty() || stripped.front() == '#' || stripped.front() == ';') continue;
    size_t indent = 0;
    while (indent < line.size() && IsSpace(line[indent])) ++indent;
    if (pending.section != nullptr && indent > pending.indent) {
      pending.continuation.emplace_back(line_number, std::string(stripped));
      continue;
    }
    GF_RETURN_IF_ERROR(FinishOption(pending, path_for_errors));
    if (stripped.front() == '[') {
      size_t close = stripped.rfind(']');
      std::string_view name = close == std::string_view::npos ? std::string_view() : Trim(stripped.substr(1, close - 1));
      if (name.empty()) return error(line_number, "malformed section header");
      if (file.Find(name) != nullptr) {
        return error(line_number, "section \"" + std::string(name) + "\" appears twice");
      }
      file.sections.push_back(IniSection{std::string(name), line_number, {}, {}});
      current = &file.sections.back();
      continue;
    }
    size_t delimiter = stripped.find_first_of("=:");
    if (delimiter == std::string_view::npos) {
      return error(line_number, "expected \"[section]\" or \"key = value\"");
    }
    std::string key = core::AsciiLower(Trim(stripped.substr(0, delimiter)));
    if (key.empty()) return error(line_number, "a setting without a name");
    if (current == nullptr) return error(line_number, "setting \"" + key + "\" comes before any [section]");
    if (current->values.count(key) > 0) {
      return error(line_number, "setting \"" + key + "\" appears twice in [" + current->name + "]");
    }
    current->values[key] = std::string(Trim(stripped.substr(delimiter + 1)));
    pending = PendingOption{current, key, indent, line_number, {}};
  }
  GF_RETURN_IF_ERROR(FinishOption(pending, path_for_errors));
  return file;
}

Result<std::optional<std::string>> ReadOptionalFile(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::string>();
    return FailedPreconditionError("reading " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  // Regular files, and /dev/null (AWS_CONFIG_FILE=/dev/null is the usual "no config file").
  if (::fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISCHR(st.st_mode))) {
    ::close(fd);
    return FailedPreconditionError("reading " + path + ": not a regular file");
  }
  std::string content;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      ::close(fd);
      return FailedPreconditionError("reading " + path + ": " + std::strerror(saved));
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > max_bytes) {
      ::close(fd);
      return OutOfRangeError("reading " + path + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return std::optional<std::string>(std::move(content));
}

// ---- Shared files ----

std::string ResolveProfileName(const Environment& env, std::string_view flag) {
  if (!flag.empty()) return std::string(flag);
  return env.Get("AWS_PROFILE").value_or("default");
}

const IniSection* SharedConfig::ConfigProfile(std::string_view profile) const {
  const IniSection* found = nullptr;  // the last matching section wins, as in botocore
  for (const IniSection& s : config.sections) {
    std::optional<std::string> name = ProfileSectionName(s.name);
    if ((name && *name == profile) || (profile == "default" && s.name == "default")) found = &s;
  }
  return found;
}

const IniSection* SharedConfig::CredentialsProfile(std::string_view profile) const {
  return credentials.Find(profile);
}

std::map<std::string, std::string> SharedConfig::Profile(std::string_view profile) const {
  std::map<std::string, std::string> out;
  if (const IniSection* s = ConfigProfile(profile)) out = s->values;
  if (const IniSection* s = CredentialsProfile(profile)) {
    for (const auto& [k, v] : s->values) out[k] = v;
  }
  return out;
}

const IniSection* SharedConfig::Services(std::string_view name) const {
  for (const IniSection& s : config.sections) {
    constexpr std::string_view kPrefix = "services";
    if (s.name.size() > kPrefix.size() && s.name.compare(0, kPrefix.size(), kPrefix) == 0 &&
        IsSpace(s.name[kPrefix.size()]) && Trim(std::string_view(s.name).substr(kPrefix.size())) == name) {
      return &s;
    }
  }
  return nullptr;
}

Result<SharedConfig> LoadSharedConfig(const Environment& env) {
  SharedConfig shared;
  auto path_of = [&env](std::string_view var, std::string_view default_name) -> std::string {
    if (auto v = env.Get(var)) return env.ExpandHome(*v);
    if (env.home.empty()) return "";
    return env.home + "/.aws/" + std::string(default_name);
  };
  shared.config_path = path_of("AWS_CONFIG_FILE", "config");
  shared.credentials_path = path_of("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  for (auto [path, file] : {std::pair{&shared.config_path, &shared.config},
                            std::pair{&shared.credentials_path, &shared.credentials}}) {
    if (path->empty()) continue;
    GF_ASSIGN_OR_RETURN(std::optional<std::string> text, ReadOptionalFile(*path));
    if (!text) continue;
    GF_ASSIGN_OR_RETURN(*file, ParseIni(*text, *path));
  }
  return shared;
}

// ---- Region and endpoints ----

Result<std::string> ResolveRegion(const Environment& env, std::string_view profile, std::string_view flag) {
  if (!flag.empty()) return std::string(flag);
  if (auto v = env.Get("AWS_REGION")) return *v;
  if (auto v = env.Get("AWS_DEFAULT_REGION")) return *v;
  const std::string name = profile.empty() ? ResolveProfileName(env, "") : std::string(profile);
  GF_ASSIGN_OR_RETURN(SharedConfig shared, LoadSharedConfig(env));
  auto values = shared.Profile(name);
  if (auto it = values.find("region"); it != values.end() && !it->second.empty()) return it->second;
  return FailedPreconditionError(
      "no AWS region: --region is not given, AWS_REGION and AWS_DEFAULT_REGION are not set, and profile \"" +
      name + "\" has no region in " + (shared.config_path.empty() ? "(no config file)" : shared.config_path) +
      " or " + (shared.credentials_path.empty() ? "(no credentials file)" : shared.credentials_path));
}

std::string ResolveEndpoint(const Environment& env, std::string_view profile,
                            std::string_view service_env_suffix, std::string_view flag,
                            std::string_view default_url) {
  if (!flag.empty()) return std::string(flag);
  const std::string name = profile.empty() ? ResolveProfileName(env, "") : std::string(profile);
  Result<SharedConfig> loaded = LoadSharedConfig(env);
  if (!loaded.ok()) {
    kLog.Debug("shared config ignored for the endpoint", {{"error", loaded.status()}});
    loaded = SharedConfig{};
  }
  const std::map<std::string, std::string> values = loaded->Profile(name);
  bool ignore = false;
  if (auto v = env.Get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) {
    ignore = IsTrue(*v);
  } else if (auto it = values.find("ignore_configured_endpoint_urls"); it != values.end()) {
    ignore = IsTrue(it->second);
  }
  if (ignore) return std::string(default_url);

  std::string suffix = core::AsciiUpper(service_env_suffix);
  std::replace(suffix.begin(), suffix.end(), ' ', '_');
  std::replace(suffix.begin(), suffix.end(), '-', '_');
  if (auto v = env.Get("AWS_ENDPOINT_URL_" + suffix)) return *v;
  if (auto v = env.Get("AWS_ENDPOINT_URL")) return *v;
  if (auto it = values.find("services"); it != values.end()) {
    if (const IniSection* services = loaded->Services(it->second)) {
      std::string key = core::AsciiLower(suffix);
      if (auto n = services->nested.find(key); n != services->nested.end()) {
        if (auto e = n->second.find("endpoint_url"); e != n->second.end() && !e->second.empty()) return e->second;
      }
    }
  }
  if (auto it = values.find("endpoint_url"); it != values.end() && !it->second.empty()) return it->second;
  return std::string(default_url);
}

}  // namespace gpufleet::cloud::aws
