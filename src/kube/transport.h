// Transport: HTTP to one API server with client-go's behaviour, on libcurl.
//
// - TLS from RestConfig held in memory (CA, client certificate and key as PEM blobs; never temp
//   files), tls-server-name (SNI and verification name) and insecure-skip-tls-verify; HTTP/2
//   when the server offers it through ALPN, else HTTP/1.1; connections kept alive and reused
//   (a pool of curl handles, each keeping its connection).
// - Credentials from a CredentialSource before every request; after a 401 the source is told
//   (exec plugins re-run, token files are re-read) and the request is sent once more.
// - A client-side token bucket (QPS/burst; controllers default to 200/300) in front of every
//   request, as client-go's flowcontrol.
// - Retries: 429 and 5xx when the server sent Retry-After, 5xx and connection failures for
//   reads (GET) also without it, up to max_retries (a 429 without Retry-After, such as an
//   eviction a PodDisruptionBudget refuses, is the caller's to handle); the wait is Retry-After when given (capped), else an
//   exponential backoff with jitter capped at backoff_cap. All waits use the injected clock.
// - Watch streams are read line by line as they arrive, never buffered whole.
// Thread-safe: any number of threads may send at once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "kube/credentials.h"
#include "kube/rate_limiter.h"
#include "kube/rest_config.h"

namespace gpufleet::kube {

struct TransportOptions {
  double qps = 200;  // client-side limit; <= 0 disables it
  int burst = 300;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // whole request (not streams)
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(30)};
  int max_retries = 10;
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{std::chrono::seconds(30)};
  std::chrono::seconds max_retry_after{std::chrono::seconds(120)};  // a larger Retry-After is capped
  std::string user_agent = "gpufleet";
};

struct Request {
  std::string method = "GET";
  std::string path;          // absolute path with query: "/api/v1/namespaces/default/pods?limit=500"
  std::string body;
  std::string content_type;  // "" for no body
  std::string accept = "application/json";
  std::chrono::milliseconds timeout{0};  // 0 = TransportOptions::timeout; streams: idle limit
};

struct Response {
  long status = 0;
  std::string body;          // for streams: only when the status is not 2xx
  std::string content_type;
  std::optional<std::chrono::seconds> retry_after;
  int attempts = 0;          // sends it took, retries included
  int http_version = 0;      // as negotiated: 11 (HTTP/1.1), 20 (HTTP/2); 0 when unknown
};

class Transport {
 public:
  // Fails (kInvalidArgument naming config.source) when the server URL is not http(s).
  static Result<std::unique_ptr<Transport>> Create(const RestConfig& config,
                                                   const TransportOptions& options,
                                                   core::Clock& clock);
  // As Create, with the credential source given (tests); `credentials` may be null (anonymous).
  static Result<std::unique_ptr<Transport>> Create(const RestConfig& config,
                                                   const TransportOptions& options,
                                                   core::Clock& clock,
                                                   std::unique_ptr<CredentialSource> credentials);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Sends `request` with limiting, credentials and retries. Any HTTP status comes back as a
  // Response (the caller maps Kubernetes Status bodies); errors are for what never got an
  // answer: kUnavailable naming the URL and curl's reason, kDeadlineExceeded, kCancelled when
  // `stop` was requested, or the credential source's error.
  Result<Response> Send(const Request& request, std::stop_token stop = {});

  // A GET whose 2xx body is handed to `on_line` one newline-terminated line at a time as it
  // arrives (a watch). Ends when the server ends the response, `on_line` returns false, `stop`
  // is requested, or nothing arrives for request.timeout (when set). A non-2xx answer is
  // returned whole in Response::body. Retries only what Send would before any line arrived.
  Result<Response> Stream(const Request& request,
                          const std::function<bool(std::string_view line)>& on_line,
                          std::stop_token stop = {});

  const RestConfig& config() const { return config_; }

 private:
  struct Handle;
  struct Attempt;
  Transport(RestConfig config, TransportOptions options, core::Clock& clock,
            std::unique_ptr<CredentialSource> credentials);

  Result<Response> Run(const Request& request, const std::function<bool(std::string_view)>* on_line,
                       std::stop_token stop);
  Result<Response> Perform(const Request& request, const Credentials& credentials,
                           const std::function<bool(std::string_view)>* on_line,
                           std::stop_token stop, bool* streamed);
  std::chrono::milliseconds Backoff(int attempt);
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> handle);

  const RestConfig config_;
  const TransportOptions options_;
  core::Clock& clock_;
  std::unique_ptr<CredentialSource> credentials_;
  TokenBucket limiter_;
  std::string base_url_;    // scheme://authority[/prefix] actually dialled (tls-server-name applied)
  std::string connect_to_;  // CURLOPT_CONNECT_TO entry when tls-server-name differs from the host
  std::string host_header_; // the server's own authority, sent as Host when tls-server-name is set
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Handle>> pool_;
};

}  // namespace gpufleet::kube
