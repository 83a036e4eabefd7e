// RegistryTransport: HTTP for the OCI distribution API (libcurl). Unlike the AWS client it
// streams bodies to a callback (blobs are never held whole), follows redirects (registries send
// blob GETs to S3 or a CDN; curl drops our Authorization header when the host changes) and
// keeps a pool of keep-alive handles so concurrent Range requests use several connections.
//
// It sends one request; retries and auth belong to RegistryClient.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace gpufleet::image {

struct RegistryRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string_view body;  // PUT/POST body (must outlive Send)
  // Receives a successful (2xx) response's body in pieces; an error from it aborts the transfer
  // and is returned. Unset: the body is collected into RegistryResponse::body (up to max_body).
  std::function<Status(std::string_view)> on_body;
  // Called once before the first byte given to on_body, with the response's status and headers
  // (e.g. to tell a 206 from a 200 answer to a Range request). An error aborts as on_body's does.
  std::function<Status(long, const std::map<std::string, std::string>&)> on_response;
  size_t max_body = 8 << 20;
  bool follow_redirects = true;
  bool head = false;
};

struct RegistryResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // final response's, lower-case names
  std::string body;                            // error bodies are kept even when streaming
};

struct TransportOptions {
  bool insecure_skip_verify = false;                           // HTTPS without certificate checks
  std::string ca_file;                                         // extra CA bundle (a registry's own CA)
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds stall_timeout{30};                      // abort when under 1 KiB/s this long
  std::string user_agent = "gpufleet";
};

class RegistryTransport {
 public:
  explicit RegistryTransport(TransportOptions options = {});
  ~RegistryTransport();
  RegistryTransport(const RegistryTransport&) = delete;
  RegistryTransport& operator=(const RegistryTransport&) = delete;

  // Any HTTP status comes back as a response. Errors: kUnavailable when no answer came (naming the
  // URL without its query and curl's reason), the on_body callback's error, kResourceExhausted
  // when a collected body passes max_body. Thread-safe.
  Result<RegistryResponse> Send(const RegistryRequest& request);

 private:
  struct Pool;
  std::unique_ptr<Pool> pool_;
  TransportOptions options_;
};

}  // namespace gpufleet::image
