#include "kube/credentials.h"

#include <mutex>
#include <utility>

#include "core/log.h"
#include "core/thread_annotations.h"
#include "kube/exec_plugin.h"
#include "kube/read_file.h"

namespace gpufleet::kube {
namespace {

const core::log::Logger& Log() {
  static const core::log::Logger logger("kube");
  return logger;
}

// A token and/or client certificate fixed for the life of the source.
class StaticCredentialSource final : public CredentialSource {
 public:
  explicit StaticCredentialSource(Credentials credentials) : credentials_(std::move(credentials)) {}
  Result<Credentials> Current() override { return credentials_; }
  void OnUnauthorized(const Credentials&) override {}

 private:
  const Credentials credentials_;
};

// client-go's cachedFileTokenSource inside bearerAuthRoundTripper: the file is re-read once the
// last read is `refresh` old; a failed read keeps the last token (else the static fallback).
class TokenFileCredentialSource final : public CredentialSource {
 public:
  TokenFileCredentialSource(std::string path, std::string fallback, Credentials base,
                            core::Clock& clock, std::chrono::seconds refresh)
      : path_(std::move(path)),
        fallback_(std::move(fallback)),
        base_(std::move(base)),
        clock_(clock),
        refresh_(refresh) {}

  Result<Credentials> Current() override {
    std::lock_guard<std::mutex> lock(mu_);
    const core::TimePoint now = clock_.Now();
    if (!token_.empty() && !stale_ && now - read_at_ < refresh_) return With(token_);
    Result<std::string> read = Read();
    if (read.ok()) {
      token_ = std::move(read).value();
      read_at_ = now;
      stale_ = false;
      failing_ = false;
      return With(token_);
    }
    if (!failing_) {
      // The path is logged, the token never is.
      Log().Warn("unable to read bearer token file", {{"path", path_}, {"error", read.status()}});
      failing_ = true;
    }
    if (!token_.empty()) return With(token_);
    if (!fallback_.empty()) return With(fallback_);
    return read.status();
  }

  void OnUnauthorized(const Credentials& rejected) override {
    std::lock_guard<std::mutex> lock(mu_);
    // The token may have rotated since the last read; a rejection of an older token is news
    // already acted on.
    if (rejected.bearer_token == token_) stale_ = true;
  }

 private:
  Result<std::string> Read() const {
    Result<std::string> content = ReadConfigFile(path_);
    if (!content.ok()) {
      return Status(content.status().code(),
                    "bearer token file " + std::string(content.status().message()));
    }
    std::string token = TrimSpace(*content);
    if (token.empty()) return UnavailableError("bearer token file " + path_ + " is empty");
    return token;
  }

  Credentials With(const std::string& token) const {
    Credentials c = base_;
    c.bearer_token = token;
    return c;
  }

  // Immutable after construction.
  const std::string path_;
  const std::string fallback_;
  const Credentials base_;  // the config's client certificate, if any
  core::Clock& clock_;
  const std::chrono::seconds refresh_;

  std::mutex mu_;
  std::string token_ GF_GUARDED_BY(mu_);  // "" until a read succeeds
  core::TimePoint read_at_ GF_GUARDED_BY(mu_);
  bool stale_ GF_GUARDED_BY(mu_) = false;
  bool failing_ GF_GUARDED_BY(mu_) = false;  // logged once per run of failures
};

}  // namespace

std::unique_ptr<CredentialSource> MakeCredentialSource(const RestConfig& config,
                                                       core::Clock& clock) {
  return MakeCredentialSource(config, clock, CredentialSourceOptions{});
}

std::unique_ptr<CredentialSource> MakeCredentialSource(const RestConfig& config, core::Clock& clock,
                                                       const CredentialSourceOptions& options) {
  Credentials base;
  base.client_cert_pem = config.client_cert_pem;
  base.client_key_pem = config.client_key_pem;
  const bool has_cert = !config.client_cert_pem.empty();
  const bool has_token = !config.token.empty() || !config.token_file.empty();
  if ((has_cert || has_token) && config.exec.has_value()) {
    // client-go's exec authenticator steps aside when the config already identifies the user.
    Log().Debug("static credentials take precedence over the exec plugin",
                {{"source", config.source}, {"command", config.exec->command}});
  }
  if (!config.token_file.empty()) {
    return std::make_unique<TokenFileCredentialSource>(
        config.token_file, config.token, std::move(base), clock, options.token_file_refresh);
  }
  if (has_cert || has_token || !config.exec.has_value()) {
    base.bearer_token = config.token;
    return std::make_unique<StaticCredentialSource>(std::move(base));
  }
  return MakeExecCredentialSource(config, clock, options.exec_timeout);
}

}  // namespace gpufleet::kube
