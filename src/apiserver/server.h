// ApiServer: the embedded Kubernetes-compatible API server assembled from its parts: SQLite
// store, resource registry, REST handler, TLS HTTP server, PKI, token/certificate auth and an
// admin kubeconfig. Used by `gpufleet apiserver` and embedded in-process by `gpufleet up`.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "apiserver/http.h"
#include "core/status.h"

namespace gpufleet::apiserver {

class ApiHandler;
class Authenticator;
class HttpServer;
class Registry;
class SqliteStore;

class ApiServer {
 public:
  struct Options {
    std::filesystem::path data_dir;     // state.db, pki/, tokens.csv, kubeconfig
    std::string listen = "127.0.0.1:6443";
    // Names written into the kubeconfig; `gpufleet up` uses EKS-style ARNs.
    std::string cluster_name = "gpufleet";
    std::string context_name = "gpufleet";
    std::vector<std::string> extra_dns_names;
    bool durable = true;                // fsync every commit (false only for benchmarks)
    // Tests only: sees every authenticated request first and may answer it instead of the
    // server (fault injection: 429s, 500s, slow or cut responses). Must be thread-safe.
    std::function<std::optional<HttpResponse>(const HttpRequest&)> intercept;
  };

  // Opens the store, loads or creates the PKI and tokens, binds, and writes
  // <data_dir>/kubeconfig before returning: when Start returns the server is ready.
  // Errors name the file or address at fault.
  static Result<std::unique_ptr<ApiServer>> Start(const Options& options, core::Clock& clock);
  ~ApiServer();

  uint16_t port() const;
  std::string url() const;  // https://127.0.0.1:PORT
  std::filesystem::path kubeconfig_path() const { return options_.data_dir / "kubeconfig"; }
  // Keeps a container's whole output for `kubectl logs` (the embedded cluster's simulated
  // kubelets call this; a real kubelet serves its own logs).
  Status PutContainerLog(std::string_view ns, std::string_view pod, std::string_view container, std::string text);
  // Stops serving (ending watches); the store is closed by the destructor.
  void Stop();

 private:
  explicit ApiServer(Options options);

  Options options_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<ApiHandler> handler_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<HttpServer> http_;
  std::string host_;
};

}  // namespace gpufleet::apiserver
