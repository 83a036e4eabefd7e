#include "bench_http.h"

#include <curl/curl.h>

namespace gpufleet::bench {
namespace {

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

struct StreamState {
  const std::function<bool(std::string_view)>* on_data;
};

size_t StreamBody(char* data, size_t size, size_t n, void* user) {
  auto* state = static_cast<StreamState*>(user);
  // Returning less than the chunk size makes curl abort the transfer: the caller asked to stop.
  return (*state->on_data)(std::string_view(data, size * n)) ? size * n : 0;
}

}  // namespace

BenchHttp::BenchHttp(const Endpoint& endpoint)
    : endpoint_(endpoint), curl_(curl_easy_init()), auth_header_("Authorization: Bearer " + endpoint.token) {}

BenchHttp::~BenchHttp() { curl_easy_cleanup(curl_); }

void BenchHttp::Prepare(const std::string& path) {
  curl_easy_reset(curl_);  // keeps the live connection and TLS session
  std::string url = endpoint_.url + path;
  curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl_, CURLOPT_CAINFO, endpoint_.cacert.c_str());
  curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
}

Reply BenchHttp::Send(const char* method, const std::string& path, std::string_view body,
                      const char* content_type) {
  Prepare(path);
  Reply reply;
  curl_slist* headers = curl_slist_append(nullptr, auth_header_.c_str());
  headers = curl_slist_append(headers, "Accept: application/json");
  std::string ct = std::string("Content-Type: ") + content_type;
  if (!body.empty()) headers = curl_slist_append(headers, ct.c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method);
  if (!body.empty()) {
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  }
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &reply.body);
  CURLcode rc = curl_easy_perform(curl_);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &reply.status);
  } else {
    reply.error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  return reply;
}

Reply BenchHttp::Stream(const std::string& path,
                        const std::function<bool(std::string_view)>& on_data) {
  Prepare(path);
  Reply reply;
  curl_slist* headers = curl_slist_append(nullptr, auth_header_.c_str());
  curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers);
  StreamState state{&on_data};
  curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, StreamBody);
  curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &state);
  CURLcode rc = curl_easy_perform(curl_);
  curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &reply.status);
  if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR) reply.error = curl_easy_strerror(rc);
  curl_slist_free_all(headers);
  return reply;
}

}  // namespace gpufleet::bench
