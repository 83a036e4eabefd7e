#include "cloud/aws/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <string_view>

#include "core/log.h"
#include "core/ascii.h"

namespace gpufleet::cloud::aws {
namespace {

const core::log::Logger kLog("aws.http");

// libcurl's global state is set up once per process, before any handle exists (the same
// function-local static as kube/transport.cc: C++ runs the initializer exactly once).
void GlobalInit() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}


bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (after a 100 Continue): only the final one's headers count
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string name = core::AsciiLower(line.substr(0, colon));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ' ||
                            value.back() == '\t')) {
    value.remove_suffix(1);
  }
  auto [it, inserted] = headers->emplace(name, std::string(value));
  if (!inserted) it->second.append(", ").append(value);
  return line.size();
}

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient() { GlobalInit(); }
  ~CurlHttpClient() override {
    for (CURL* c : pool_) curl_easy_cleanup(c);
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    if (request.url.rfind("http://", 0) != 0 && request.url.rfind("https://", 0) != 0) {
      return InvalidArgumentError("URL \"" + UrlForMessages(request.url) + "\" is not http or https");
    }
    CURL* c = Acquire();
    if (c == nullptr) return InternalError("curl_easy_init failed");
    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    const long timeout_ms = std::max<long>(1, static_cast<long>(request.timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min<long>(timeout_ms, 10'000));

    curl_slist* headers = nullptr;
    bool has_content_type = false;
    for (const auto& [name, value] : request.headers) {
      if (EqualsIgnoreCase(name, "content-type")) has_content_type = true;
      // "Name:" would make curl drop the header; "Name;" is how it sends an empty value.
      std::string line = value.empty() ? name + ";" : name + ": " + value;
      headers = curl_slist_append(headers, line.c_str());
    }
    headers = curl_slist_append(headers, "Expect:");
    // curl labels every POSTFIELDS body as a form unless told otherwise; send only what was asked.
    if (!has_content_type) headers = curl_slist_append(headers, "Content-Type:");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

    if (request.method == "GET") {
      curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }

    char error_detail[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_detail);
    HttpResponse response;
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);

    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
    // The handle points into this frame (buffers, header list); clear that before it is pooled.
    // Reset keeps the live connection.
    curl_easy_reset(c);
    curl_slist_free_all(headers);
    const std::string detail = error_detail;
    if (rc != CURLE_OK) {
      curl_easy_cleanup(c);  // the connection may be broken: not pooled
      std::string what = request.method + " " + UrlForMessages(request.url) + ": " + curl_easy_strerror(rc);
      if (!detail.empty()) what += " (" + detail + ")";
      if (rc == CURLE_OPERATION_TIMEDOUT) return DeadlineExceededError(what);
      return UnavailableError(what);
    }
    Release(c);
    kLog.Debug("request", {{"method", request.method},
                           {"url", UrlForMessages(request.url)},
                           {"status", response.status}});
    return response;
  }

 private:
  CURL* Acquire() {
    {
      std::lock_guard lock(mu_);
      if (!pool_.empty()) {
        CURL* c = pool_.back();
        pool_.pop_back();
        return c;
      }
    }
    return curl_easy_init();
  }

  void Release(CURL* c) {
    std::lock_guard lock(mu_);
    if (pool_.size() < kMaxPooled) {
      pool_.push_back(c);
      return;
    }
    curl_easy_cleanup(c);
  }

  static constexpr size_t kMaxPooled = 16;
  std::mutex mu_;
  std::vector<CURL*> pool_;  // guarded by mu_; each keeps its live connection
};

}  // namespace

std::string UrlForMessages(std::string_view url) {
  size_t cut = url.find_first_of("?#");
  if (cut != std::string_view::npos) url = url.substr(0, cut);
  // Drop user:password@ from the authority.
  size_t scheme = url.find("://");
  if (scheme != std::string_view::npos) {
    size_t authority_start = scheme + 3;
    size_t authority_end = url.find('/', authority_start);
    std::string_view authority = url.substr(authority_start, authority_end == std::string_view::npos
                                                                 ? std::string_view::npos
                                                                 : authority_end - authority_start);
    size_t at = authority.rfind('@');
    if (at != std::string_view::npos) {
      return std::string(url.substr(0, authority_start)) + std::string(url.substr(authority_start + at + 1));
    }
  }
  return std::string(url);
}

std::unique_ptr<HttpClient> NewCurlHttpClient() { return std::make_unique<CurlHttpClient>(); }

}  // namespace gpufleet::cloud::aws
