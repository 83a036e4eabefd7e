#include "image/registry_transport.h"

#include <curl/curl.h>

#include <mutex>

#include "core/ascii.h"

namespace gpufleet::image {
namespace {

bool CurlReady() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  return done;
}

std::string WithoutQuery(std::string_view url) { return std::string(url.substr(0, url.find_first_of("?#"))); }

// State of one exchange, shared with curl's callbacks.
struct Exchange {
  const RegistryRequest* request;
  RegistryResponse* response;
  CURL* curl;
  Status sink_error;
  bool too_large = false;
  bool started = false;

  bool Success() const { return response->status >= 200 && response->status < 300; }
};

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    // A new response (after a redirect or a 100 Continue): forget the previous one's headers.
    ex->response->headers.clear();
    const size_t sp = line.find(' ');
    ex->response->status = sp == std::string_view::npos ? 0 : std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
    return line.size();
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string name = core::AsciiLower(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  auto [it, inserted] = ex->response->headers.emplace(std::move(name), std::string(value));
  if (!inserted) it->second += ", " + std::string(value);
  return line.size();
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t len = size * n;
  if (ex->request->on_body && ex->Success()) {
    if (!ex->started) {
      ex->started = true;
      if (ex->request->on_response) {
        ex->sink_error = ex->request->on_response(ex->response->status, ex->response->headers);
        if (!ex->sink_error.ok()) return 0;
      }
    }
    ex->sink_error = ex->request->on_body(std::string_view(data, len));
    return ex->sink_error.ok() ? len : 0;  // 0 aborts the transfer
  }
  // Error bodies (and collected bodies) are kept, bounded.
  const size_t limit = ex->request->on_body ? 64 * 1024 : ex->request->max_body;
  if (ex->response->body.size() + len > limit) {
    if (ex->request->on_body) return len;  // an error body: keep its start only
    ex->too_large = true;
    return 0;
  }
  ex->response->body.append(data, len);
  return len;
}

}  // namespace

struct RegistryTransport::Pool {
  std::mutex mu;
  std::vector<CURL*> idle;
  ~Pool() {
    for (CURL* c : idle) curl_easy_cleanup(c);
  }
  CURL* Take() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        CURL* c = idle.back();
        idle.pop_back();
        curl_easy_reset(c);  // keeps the handle's live connections
        return c;
      }
    }
    return curl_easy_init();
  }
  void Give(CURL* c) {
    std::lock_guard lock(mu);
    if (idle.size() < 32) {
      idle.push_back(c);
    } else {
      curl_easy_cleanup(c);
    }
  }
};

RegistryTransport::RegistryTransport(TransportOptions options) : pool_(std::make_unique<Pool>()), options_(std::move(options)) {}
RegistryTransport::~RegistryTransport() = default;

Result<RegistryResponse> RegistryTransport::Send(const RegistryRequest& request) {
  if (!CurlReady()) return InternalError("curl_global_init failed");
  if (!request.url.starts_with("http://") && !request.url.starts_with("https://")) {
    return InvalidArgumentError("registry URL \"" + WithoutQuery(request.url) + "\" is not http(s)");
  }
  CURL* c = pool_->Take();
  if (c == nullptr) return InternalError("curl_easy_init failed");
  RegistryResponse response;
  Exchange ex{&request, &response, c, OkStatus()};
  char error_detail[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) headers = curl_slist_append(headers, (name + ": " + value).c_str());
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall_timeout.count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 512L * 1024);
  if (options_.insecure_skip_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  if (request.head) {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_detail);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &ex);
  const CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(headers);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  pool_->Give(c);
  if (!ex.sink_error.ok()) return ex.sink_error;
  if (ex.too_large) {
    return ResourceExhaustedError(request.method + " " + WithoutQuery(request.url) + ": the response is larger than " +
                                  std::to_string(request.max_body) + " bytes");
  }
  if (rc != CURLE_OK) {
    const std::string reason = error_detail[0] ? error_detail : curl_easy_strerror(rc);
    return UnavailableError(request.method + " " + WithoutQuery(request.url) + ": " + reason);
  }
  return response;
}

}  // namespace gpufleet::image
