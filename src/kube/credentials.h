// CredentialSource: what the transport attaches to each request (bearer token, client
// certificate), kept fresh the way client-go does it: token files re-read every minute, exec
// plugin output cached until it expires or the server answers 401.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "kube/rest_config.h"

namespace gpufleet::kube {

// What the transport attaches to one request.
struct Credentials {
  std::string bearer_token;  // "" when none
  std::string client_cert_pem,
      client_key_pem;  // from the config or an exec plugin; both or neither

  friend bool operator==(const Credentials&, const Credentials&) = default;
};

// Thread-safe. Current() is called before every request; OnUnauthorized(rejected) after a 401 (the
// transport then retries once).
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  // The credentials to use now; may block while a token file is read or an exec plugin runs
  // (concurrent callers wait for that one run instead of starting their own).
  // Errors: those of the token file read (when no token was ever read and no static fallback
  // exists) or of the exec plugin (see kube/exec_plugin.h). Never throws.
  virtual Result<Credentials> Current() = 0;
  // The server rejected the last credentials: the next Current() re-reads the token file or
  // re-runs the exec plugin. Idempotent; static credentials ignore it.
  // `rejected` is what the failed request carried: only a source still handing out exactly
  // that refreshes, so a burst of 401s from requests sent with the same stale token causes one
  // refresh (one exec plugin run), not one per request (client-go compares the same way).
  virtual void OnUnauthorized(const Credentials& rejected) = 0;
};

struct CredentialSourceOptions {
  // A token file is re-read when its last read is at least this old (client-go: 1 minute).
  std::chrono::seconds token_file_refresh{60};
  // An exec plugin that runs longer is killed (with its process group) and Current() fails
  // with kDeadlineExceeded. Measured in real time, not on the injected clock.
  std::chrono::milliseconds exec_timeout{std::chrono::seconds(60)};
};

// Builds the right source for `config`, following client-go's precedence:
//   - token_file set: the file's (trimmed) content, re-read when older than
//     options.token_file_refresh or after OnUnauthorized() for the current token; while it cannot be read, the last
//     content read, else config.token;
//   - else token and/or client certificate: static;
//   - else exec: the plugin (kube/exec_plugin.h), cached until its expirationTimestamp;
//   - else anonymous (empty Credentials).
// A token or certificate disables the exec plugin, as in client-go; the config's client
// certificate is attached together with a token. `clock` (expiry and file ages) must outlive
// the source. Never fails: problems surface from Current().
std::unique_ptr<CredentialSource> MakeCredentialSource(const RestConfig& config,
                                                       core::Clock& clock);
std::unique_ptr<CredentialSource> MakeCredentialSource(const RestConfig& config, core::Clock& clock,
                                                       const CredentialSourceOptions& options);

}  // namespace gpufleet::kube
