// HttpServer: HTTPS (TLS 1.2+) on Boost.Beast, one thread per connection, keep-alive, chunked
// streaming for watches. Authenticates every request (bearer token or client certificate) before
// the handler sees it. Design and limits: docs/apiserver.md.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "apiserver/http.h"
#include "core/status.h"
#include "core/thread_annotations.h"

typedef struct x509_st X509;

namespace gpufleet::apiserver {

// Returns the user name, or kUnauthenticated. `peer` is the verified client certificate or null.
using Authenticate = std::function<Result<std::string>(const HttpRequest& request, X509* peer)>;

class HttpServer {
 public:
  struct Options {
    std::string listen = "127.0.0.1:6443";  // host:port; port 0 picks a free port
    // Plain HTTP instead of TLS, for loopback-only endpoints whose clients sign every request
    // themselves (the EC2 emulator: the aws CLI's --endpoint-url http://...). Refused unless
    // `listen` is a loopback address.
    bool plain_http = false;
    std::string cert_pem;                   // serving certificate chain
    std::string key_pem;
    std::string client_ca_pem;              // CA for client certificates; empty: none accepted
    size_t max_body_bytes = 3 * 1024 * 1024;  // kube-apiserver's limit; bigger bodies get 413
    size_t max_connections = 1024;
    int idle_timeout_seconds = 300;
  };

  // Binds and starts accepting. InvalidArgument for a bad address or TLS material, Unavailable
  // when the address is in use.
  static Result<std::unique_ptr<HttpServer>> Start(const Options& options, Handler handler,
                                                   Authenticate authenticate);
  ~HttpServer();

  uint16_t port() const { return port_; }
  // Stops accepting, closes every connection (ending watches) and waits for their threads.
  void Stop();

 private:
  struct Impl;
  HttpServer() = default;
  void AcceptLoop();
  void Serve(int fd);
  template <typename Stream>
  void ServeRequests(Stream& stream, int fd, X509* peer);

  std::unique_ptr<Impl> impl_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::set<int> connections_ GF_GUARDED_BY(mu_);
  std::condition_variable_any drained_;
};

}  // namespace gpufleet::apiserver
