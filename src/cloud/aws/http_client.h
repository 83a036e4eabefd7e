// HttpClient: the one HTTP door of the AWS code (EC2, SSM, STS, container credentials, IMDS). An
// interface so tests can watch or refuse requests; NewCurlHttpClient is the real one.
//
// It sends exactly the request it is given: no retries, no signing, no redirects followed, no
// headers added beyond curl's own Host, Content-Length and Accept. Retries and signing belong to
// the callers, who know which requests are idempotent and which credentials to use.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace gpufleet::cloud::aws {

struct HttpRequest {
  std::string method = "GET";
  std::string url;                                           // absolute http(s) URL
  std::vector<std::pair<std::string, std::string>> headers;  // sent as given
  std::string body;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};  // the whole exchange
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; repeats joined with ", "
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Any HTTP status comes back as a response; errors only for no answer: kUnavailable naming the
  // method, the URL without its query (a presigned query carries a token) and curl's reason,
  // kDeadlineExceeded when `request.timeout` passed, kInvalidArgument for a URL that is not
  // http(s). Thread-safe.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

// libcurl with a pool of keep-alive handles (connections are reused across calls); thread-safe.
// Proxies only as curl itself reads them (http_proxy, https_proxy, no_proxy); no
// Expect: 100-continue; no Content-Type unless the request names one; HTTPS verified against the
// system CA store; HTTP/1.1 (the AWS query APIs gain nothing from HTTP/2).
std::unique_ptr<HttpClient> NewCurlHttpClient();

// "https://host/path" of `url`: the query and fragment dropped, for messages and logs.
std::string UrlForMessages(std::string_view url);

}  // namespace gpufleet::cloud::aws
