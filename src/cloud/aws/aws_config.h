// The AWS shared configuration as the aws CLI reads it: environment variables, ~/.aws/config and
// ~/.aws/credentials, profiles, region and endpoint resolution. Shared by the credentials chain
// (credentials.h) and the EC2/SSM clients, so `gpufleet` and `aws` agree on what a profile means.
//
// The environment is injected (Environment) so tests never read the real process environment or
// $HOME. Files are re-read on every call: they are small and change rarely, and re-reading keeps
// a long-running controller in step with an edited profile.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gpufleet::cloud::aws {

struct Environment {
  // Returns the variable's value, nullopt when unset. Default: the process environment.
  std::function<std::optional<std::string>(std::string_view)> getenv = ProcessGetenv;
  std::string home = ProcessHome();  // for "~/.aws/..."; default: $HOME

  // A fixed environment (tests, and callers that build one from flags).
  static Environment FromMap(std::map<std::string, std::string, std::less<>> vars, std::string home);
  static std::optional<std::string> ProcessGetenv(std::string_view name);
  static std::string ProcessHome();

  // The variable's value; nullopt when unset or empty (the aws CLI treats "" as unset).
  std::optional<std::string> Get(std::string_view name) const;
  // "~" or "~/x" against home; other paths unchanged.
  std::string ExpandHome(std::string_view path) const;
};

// ---- INI files ----
// The shared files' dialect is Python configparser's (botocore reads them with RawConfigParser):
//   - "[name]" section headers (name trimmed); "key = value" or "key: value"; keys are
//     lower-cased, keys and values trimmed; empty values allowed.
//   - Whole-line comments start with '#' or ';' (after optional whitespace); there are no inline
//     comments: "region = us-east-1 # x" has the value "us-east-1 # x", as in the aws CLI.
//   - An indented line continues the previous value. When the value's first line is empty the
//     continuation lines are nested "key = value" settings (botocore's "s3 =\n  addressing_style
//     = path"); otherwise they are appended with '\n'.
//   - A key outside any section, a line that is none of these, a repeated section or a repeated
//     key within a section is an error naming the file and line (configparser's strict mode).
struct IniSection {
  std::string name;
  int line = 0;                                // of the header, 1-based
  std::map<std::string, std::string> values;   // keys lower-case
  std::map<std::string, std::map<std::string, std::string>> nested;  // key -> nested settings
};
struct IniFile {
  std::vector<IniSection> sections;  // in file order
  const IniSection* Find(std::string_view name) const;
};
// kInvalidArgument "PATH:LINE: ..." for malformed text.
Result<IniFile> ParseIni(std::string_view text, std::string_view path_for_errors);

// A file's content; nullopt when it does not exist. kFailedPrecondition naming the path when it
// exists but cannot be read; kOutOfRange beyond `max_bytes`.
Result<std::optional<std::string>> ReadOptionalFile(const std::string& path, size_t max_bytes = 1 << 20);

// ---- Shared config and credentials files ----

// The profile to use: `flag` (--profile) > AWS_PROFILE > "default".
std::string ResolveProfileName(const Environment& env, std::string_view flag);

struct SharedConfig {
  std::string config_path;       // AWS_CONFIG_FILE, default ~/.aws/config
  std::string credentials_path;  // AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials
  IniFile config, credentials;   // empty when the file does not exist

  // "[profile NAME]" in the config file ("[default]" or "[profile default]" for default).
  const IniSection* ConfigProfile(std::string_view profile) const;
  // "[NAME]" in the credentials file.
  const IniSection* CredentialsProfile(std::string_view profile) const;
  bool HasProfile(std::string_view profile) const {
    return ConfigProfile(profile) != nullptr || CredentialsProfile(profile) != nullptr;
  }
  // The profile's settings: the config file's, overridden key by key by the credentials file's.
  std::map<std::string, std::string> Profile(std::string_view profile) const;
  // A "[services NAME]" section of the config file.
  const IniSection* Services(std::string_view name) const;
};
// Reads both files (missing files are empty). Errors: a file that cannot be read or parsed.
Result<SharedConfig> LoadSharedConfig(const Environment& env);

// ---- Region and endpoints ----

// `flag` (--region) > AWS_REGION > AWS_DEFAULT_REGION > the profile's `region` (config file,
// credentials file on top, as the aws CLI merges them). `profile` empty: ResolveProfileName(env, "").
// kFailedPrecondition naming every place looked at when none has one; a broken shared file is its
// own error.
Result<std::string> ResolveRegion(const Environment& env, std::string_view profile, std::string_view flag);

// The endpoint URL for a service, by the AWS SDKs' precedence: `flag` (--aws-endpoint) >
// AWS_ENDPOINT_URL_<SUFFIX> > AWS_ENDPOINT_URL > the profile's services section
// ("services = NAME" -> [services NAME] -> "<suffix lower-case> =\n  endpoint_url = ...") > the
// profile's endpoint_url > `default_url`. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the
// profile's ignore_configured_endpoint_urls = true) skips the environment and the files.
// `service_env_suffix` is "EC2", "SSM", "STS". Never fails: unreadable shared files count as
// empty (ResolveRegion or the credentials chain report them).
std::string ResolveEndpoint(const Environment& env, std::string_view profile,
                            std::string_view service_env_suffix, std::string_view flag,
                            std::string_view default_url);

}  // namespace gpufleet::cloud::aws
