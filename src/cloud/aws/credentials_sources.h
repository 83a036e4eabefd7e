// Internal to credentials.cc: the sources of the default chain. Each source first looks at its
// configuration (environment and shared files only, no network) and either skips, saying why,
// fails (configured but broken), or returns a Fetcher bound to that configuration, which the chain
// calls for the first credentials and again for every refresh.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "cloud/aws/aws_config.h"
#include "cloud/aws/http_client.h"
#include "cloud/aws/sigv4.h"
#include "core/clock.h"
#include "core/status.h"

namespace gpufleet::cloud::aws::internal {

struct SourceContext {
  const Environment* env = nullptr;
  HttpClient* http = nullptr;
  core::Clock* clock = nullptr;
  std::string profile;           // resolved profile name
  bool profile_explicit = false;  // named by ChainOptions::profile (--profile)
  std::string region_flag;       // ChainOptions::region
  const SharedConfig* shared = nullptr;  // loaded shared files (empty when they could not be read)
};

// Fetches credentials. `absent` is set (with an error) when the source turned out to have nothing
// here after all (IMDS unreachable: not on EC2; no instance profile): during the first resolution
// the chain then moves on instead of failing.
using Fetcher = std::function<Result<Credentials>(bool* absent)>;

struct Skip {
  std::string reason;
};
// A source's verdict on its configuration.
using Detection = std::variant<Fetcher, Skip, Status>;

Detection DetectEnvironment(const SourceContext& ctx);
Detection DetectWebIdentity(const SourceContext& ctx);
Detection DetectSharedFiles(const SourceContext& ctx);
Detection DetectContainer(const SourceContext& ctx);
Detection DetectImds(const SourceContext& ctx);

// Helpers shared by the sources.
// `text` with every occurrence of each non-empty secret replaced by "<redacted>", cut to 300 bytes.
std::string Redact(std::string text, std::initializer_list<std::string_view> secrets);
// A token file's content, trimmed; errors name the file and `what` ("AWS_WEB_IDENTITY_TOKEN_FILE").
Result<std::string> ReadTokenFile(const std::string& path, std::string_view what);
// Credentials from the JSON that the container endpoint and IMDS return
// (AccessKeyId, SecretAccessKey, Token, Expiration).
Result<Credentials> CredentialsFromJson(std::string_view body, std::string_view source);

}  // namespace gpufleet::cloud::aws::internal
