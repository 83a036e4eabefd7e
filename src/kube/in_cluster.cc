#include "kube/in_cluster.h"

#include <cstdlib>

#include "core/log.h"
#include "kube/encoding.h"
#include "kube/read_file.h"

namespace gpufleet::kube {
namespace {

std::optional<std::string> ProcessGetenv(std::string_view name) {
  const char* v = std::getenv(std::string(name).c_str());
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// Go's net.JoinHostPort: a host holding ':' (IPv6) is bracketed.
std::string JoinHostPort(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

}  // namespace

Result<RestConfig> InClusterConfig(const InClusterOptions& options) {
  auto getenv = options.getenv ? options.getenv : ProcessGetenv;
  const std::string host = getenv("KUBERNETES_SERVICE_HOST").value_or("");
  const std::string port = getenv("KUBERNETES_SERVICE_PORT").value_or("");
  if (host.empty() || port.empty()) {
    return FailedPreconditionError(
        "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
        "KUBERNETES_SERVICE_PORT must be defined");
  }
  RestConfig out;
  out.source = "in-cluster";
  out.server = "https://" + JoinHostPort(host, port);

  const std::filesystem::path token_file = options.service_account_dir / "token";
  Result<std::string> token = ReadConfigFile(token_file);
  if (!token.ok()) {
    return Status(token.status().code(),
                  "in-cluster service account token " + std::string(token.status().message()));
  }
  out.token = TrimSpace(*token);
  if (out.token.empty()) {
    return InvalidArgumentError("in-cluster service account token " + token_file.string() +
                                " is empty");
  }
  out.token_file = token_file.string();

  const std::filesystem::path ca_file = options.service_account_dir / "ca.crt";
  Result<std::string> ca = ReadConfigFile(ca_file);
  Status ca_ok = ca.ok() ? CheckPemCertificates(*ca) : ca.status();
  if (ca_ok.ok()) {
    out.ca_pem = std::move(ca).value();
  } else {
    // client-go logs this and goes on with the system roots.
    core::log::Logger("kube").Error("expected to load root CA config, but got an error",
                                    {{"path", ca_file.string()}, {"error", ca_ok}});
  }
  return out;
}

}  // namespace gpufleet::kube
