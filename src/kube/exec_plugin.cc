#include "kube/exec_plugin.h"

#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/log.h"
#include "core/thread_annotations.h"
#include "core/time_format.h"
#include "kube/encoding.h"
#include "kube/exec_process.h"
#include "kube/read_file.h"

extern char** environ;

namespace gpufleet::kube {
namespace {

using nlohmann::json;

constexpr std::string_view kExecInfoEnv = "KUBERNETES_EXEC_INFO";
// How much of a failed plugin's stderr goes into the error message.
constexpr size_t kStderrInError = 512;

const core::log::Logger& Log() {
  static const core::log::Logger logger("kube");
  return logger;
}

std::string Quoted(std::string_view command) {
  return "exec plugin \"" + std::string(command) + "\"";
}

// Sets NAME=value in a "NAME=value" list, replacing an earlier entry (Go's exec keeps the last
// value of a duplicated name; a C getenv would see the first).
void SetEnv(std::vector<std::string>& env, std::string_view name, std::string_view value) {
  std::string prefix = std::string(name) + "=";
  std::string entry = prefix + std::string(value);
  for (std::string& e : env) {
    if (e.starts_with(prefix)) {
      e = std::move(entry);
      return;
    }
  }
  env.push_back(std::move(entry));
}

class ExecCredentialSource final : public CredentialSource {
 public:
  ExecCredentialSource(const RestConfig& config, core::Clock& clock,
                       std::chrono::milliseconds timeout)
      : exec_(*config.exec),
        request_(core::DumpJson(ExecCredentialRequest(*config.exec, config))),
        clock_(clock),
        timeout_(timeout) {}

  Result<Credentials> Current() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_.has_value() && !Expired()) return *cached_;
    GF_ASSIGN_OR_RETURN(ExecCredentialResponse response, Run());
    cached_ = std::move(response.credentials);
    expiration_ = response.expiration;
    return *cached_;
  }

  void OnUnauthorized(const Credentials& rejected) override {
    std::lock_guard<std::mutex> lock(mu_);
    if (cached_.has_value() && *cached_ == rejected) cached_.reset();
  }

 private:
  // client-go: expired once now is after the timestamp; no timestamp never expires.
  bool Expired() const GF_REQUIRES(mu_) {
    return expiration_.has_value() && clock_.Now() > *expiration_;
  }

  Result<ExecCredentialResponse> Run() GF_REQUIRES(mu_) {
    const std::string& command = exec_.command;
    if (exec_.interactive_mode == "Always") {
      return FailedPreconditionError(Quoted(command) +
                                     ": interactiveMode Always needs a terminal on standard "
                                     "input, and this process has none");
    }
    ProcessSpec spec;
    spec.command = command;
    spec.args = exec_.args;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) spec.env.emplace_back(*e);
    for (const auto& [name, value] : exec_.env) SetEnv(spec.env, name, value);
    SetEnv(spec.env, kExecInfoEnv, request_);
    const char* path = std::getenv("PATH");
    spec.path_env = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
    spec.timeout = timeout_;

    Result<ProcessResult> ran = RunProcess(spec);
    if (!ran.ok()) {
      const Status& s = ran.status();
      if (IsNotFound(s) || s.code() == StatusCode::kPermissionDenied) {
        std::string message = Quoted(command) + ": " + std::string(s.message());
        if (!exec_.install_hint.empty()) message += "; install hint: " + exec_.install_hint;
        return FailedPreconditionError(message);
      }
      return s.WithContext(Quoted(command));
    }
    const ProcessResult& result = *ran;
    if (!result.stderr_data.empty()) {
      Log().Debug("exec plugin stderr", {{"command", command}, {"stderr", result.stderr_data}});
    }
    if (result.exit_code != 0) {
      std::string message =
          Quoted(command) + (result.signal != 0
                                 ? " was killed by signal " + std::to_string(result.signal)
                                 : " failed with exit code " + std::to_string(result.exit_code));
      std::string tail = TrimSpace(result.stderr_data);
      if (tail.size() > kStderrInError) tail = "..." + tail.substr(tail.size() - kStderrInError);
      if (!tail.empty()) message += ": " + tail;
      return UnavailableError(message);
    }
    return ParseExecCredential(result.stdout_data, exec_.api_version, command);
  }

  // Immutable after construction.
  const ExecConfig exec_;
  const std::string request_;  // KUBERNETES_EXEC_INFO
  core::Clock& clock_;
  const std::chrono::milliseconds timeout_;

  // Held while the plugin runs, so concurrent callers wait for that run.
  std::mutex mu_;
  std::optional<Credentials> cached_ GF_GUARDED_BY(mu_);
  std::optional<core::TimePoint> expiration_ GF_GUARDED_BY(mu_);
};

}  // namespace

json ExecCredentialRequest(const ExecConfig& exec, const RestConfig& config) {
  json spec = {{"interactive", false}};
  if (exec.provide_cluster_info) {
    json cluster = {{"server", config.server}};
    if (!config.tls_server_name.empty()) cluster["tls-server-name"] = config.tls_server_name;
    if (config.insecure_skip_tls_verify) cluster["insecure-skip-tls-verify"] = true;
    if (!config.ca_pem.empty()) cluster["certificate-authority-data"] = Base64Encode(config.ca_pem);
    if (!config.proxy_url.empty()) cluster["proxy-url"] = config.proxy_url;
    spec["cluster"] = std::move(cluster);
  }
  return {{"apiVersion", exec.api_version}, {"kind", "ExecCredential"}, {"spec", std::move(spec)}};
}

Result<ExecCredentialResponse> ParseExecCredential(std::string_view stdout_data,
                                                   std::string_view api_version,
                                                   std::string_view command) {
  const std::string who = Quoted(command);
  Result<json> parsed = core::ParseJson(stdout_data);
  if (!parsed.ok()) return parsed.status().WithContext(who + ": decoding stdout");
  const json& doc = *parsed;
  if (!doc.is_object()) {
    return InvalidArgumentError(who + ": decoding stdout: expected a JSON object, got " +
                                doc.type_name());
  }
  auto field = [&](std::string_view path) -> Result<std::string> {
    Result<std::optional<std::string>> s = core::GetOptionalString(doc, path);
    if (!s.ok()) return s.status().WithContext(who);
    return s->value_or("");
  };
  GF_ASSIGN_OR_RETURN(std::string got_version, field("apiVersion"));
  if (got_version != api_version) {
    return InvalidArgumentError(who + " is configured to use API version " +
                                std::string(api_version) + ", plugin returned version \"" +
                                got_version + "\"");
  }
  GF_ASSIGN_OR_RETURN(std::string kind, field("kind"));
  if (kind != "ExecCredential") {
    return InvalidArgumentError(who + ": returned kind \"" + kind + "\", want ExecCredential");
  }
  Result<const json*> status = core::GetOptionalObject(doc, "status");
  if (!status.ok()) return status.status().WithContext(who);
  if (*status == nullptr) return InvalidArgumentError(who + " didn't return a status field");

  ExecCredentialResponse out;
  GF_ASSIGN_OR_RETURN(out.credentials.bearer_token, field("status.token"));
  GF_ASSIGN_OR_RETURN(out.credentials.client_cert_pem, field("status.clientCertificateData"));
  GF_ASSIGN_OR_RETURN(out.credentials.client_key_pem, field("status.clientKeyData"));
  const Credentials& c = out.credentials;
  if (c.bearer_token.empty() && c.client_cert_pem.empty() && c.client_key_pem.empty()) {
    return InvalidArgumentError(who + " didn't return a token or cert/key pair");
  }
  if (c.client_cert_pem.empty() != c.client_key_pem.empty()) {
    return InvalidArgumentError(who + " returned only certificate or key, not both");
  }
  if (!c.client_cert_pem.empty()) {
    Status pair = CheckPemKeyPair(c.client_cert_pem, c.client_key_pem);
    if (!pair.ok()) return pair.WithContext(who);
  }
  GF_ASSIGN_OR_RETURN(std::string expiration, field("status.expirationTimestamp"));
  if (!expiration.empty()) {
    Result<core::TimePoint> t = core::ParseRfc3339(expiration);
    if (!t.ok()) return t.status().WithContext(who + ": status.expirationTimestamp");
    out.expiration = *t;
  }
  return out;
}

std::unique_ptr<CredentialSource> MakeExecCredentialSource(const RestConfig& config,
                                                           core::Clock& clock,
                                                           std::chrono::milliseconds timeout) {
  return std::make_unique<ExecCredentialSource>(config, clock, timeout);
}

}  // namespace gpufleet::kube
