// A small libcurl client for the API server load generator: one keep-alive TLS connection per
// object, bearer token, the server's CA. Bench-only; the project's client is src/kube (issue 4).
#pragma once

#include <functional>
#include <string>
#include <string_view>

typedef void CURL;

namespace gpufleet::bench {

struct Endpoint {
  std::string url;     // https://127.0.0.1:PORT
  std::string token;
  std::string cacert;  // path of the CA bundle
};

struct Reply {
  long status = 0;     // 0 when the transport failed
  std::string body;
  std::string error;   // curl's message when status is 0
};

class BenchHttp {
 public:
  explicit BenchHttp(const Endpoint& endpoint);
  ~BenchHttp();
  BenchHttp(const BenchHttp&) = delete;
  BenchHttp& operator=(const BenchHttp&) = delete;

  Reply Send(const char* method, const std::string& path, std::string_view body = {},
             const char* content_type = "application/json");

  // Streams a GET: on_data gets each chunk as it arrives and returns false to stop.
  Reply Stream(const std::string& path, const std::function<bool(std::string_view)>& on_data);

 private:
  void Prepare(const std::string& path);

  Endpoint endpoint_;
  CURL* curl_;
  std::string auth_header_;
};

}  // namespace gpufleet::bench
