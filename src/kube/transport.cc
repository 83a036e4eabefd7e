#include "kube/transport.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <random>

#include "core/log.h"

namespace gpufleet::kube {
namespace {

const core::log::Logger kLog("kube");

// libcurl's global state is set up once per process, before any handle exists.
void GlobalInit() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

struct Url {
  std::string scheme, host, port, prefix;  // prefix: path after the authority, no trailing '/'
};

Result<Url> ParseServer(const std::string& server, const std::string& source) {
  Url u;
  size_t sep = server.find("://");
  if (sep == std::string::npos) return InvalidArgumentError(source + ": server \"" + server + "\" has no scheme");
  u.scheme = server.substr(0, sep);
  if (u.scheme != "https" && u.scheme != "http") {
    return InvalidArgumentError(source + ": server \"" + server + "\" is not http or https");
  }
  std::string rest = server.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos) u.prefix = rest.substr(slash);
  while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.scheme == "https" ? "443" : "80";
  }
  if (u.host.empty()) return InvalidArgumentError(source + ": server \"" + server + "\" has no host");
  return u;
}

bool Retryable(const Request& r, const Response& resp) {
  // client-go retries a 429 only when the server says when (Retry-After: API priority and
  // fairness, max-in-flight). An eviction refused by a PodDisruptionBudget is a 429 without it:
  // that answer belongs to the caller, who decides when to try again.
  if (resp.status == 429) return resp.retry_after.has_value();
  if (resp.status >= 500) return r.method == "GET" || resp.retry_after.has_value();
  return false;
}

struct StreamState {
  CURL* curl;
  const std::function<bool(std::string_view)>* on_line;
  Response* response;
  std::string pending;      // a partial line
  bool streamed = false;    // a line reached on_line
  bool stopped_by_caller = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* s = static_cast<StreamState*>(user);
  std::string_view chunk(data, size * n);
  if (s->on_line == nullptr) {
    s->response->body.append(chunk);
    return chunk.size();
  }
  long status = 0;
  curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &status);
  if (status < 200 || status > 299) {  // an error: collect the Status body whole
    s->response->body.append(chunk);
    return chunk.size();
  }
  s->pending.append(chunk);
  size_t start = 0, nl;
  while ((nl = s->pending.find('\n', start)) != std::string::npos) {
    std::string_view line(s->pending.data() + start, nl - start);
    start = nl + 1;
    if (line.empty()) continue;
    s->streamed = true;
    if (!(*s->on_line)(line)) {
      s->stopped_by_caller = true;
      return 0;  // curl aborts the transfer with CURLE_WRITE_ERROR
    }
  }
  s->pending.erase(0, start);
  return chunk.size();
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* response = static_cast<Response*>(user);
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
  if (name == "content-type") response->content_type = std::string(value);
  if (name == "retry-after") {
    // Seconds only; an HTTP-date Retry-After falls back to the backoff.
    int64_t seconds = 0;
    bool digits = !value.empty() && value.size() < 10;
    for (char c : value) digits = digits && c >= '0' && c <= '9';
    if (digits) {
      for (char c : value) seconds = seconds * 10 + (c - '0');
      response->retry_after = std::chrono::seconds(seconds);
    }
  }
  return line.size();
}

struct ProgressState {
  std::stop_token stop;
  core::Clock* clock;
  std::chrono::milliseconds idle_limit;
  curl_off_t last_bytes = -1;
  std::chrono::steady_clock::time_point last_change = std::chrono::steady_clock::now();
  bool idle_expired = false;
};

int OnProgress(void* user, curl_off_t, curl_off_t downloaded, curl_off_t, curl_off_t) {
  auto* p = static_cast<ProgressState*>(user);
  if (p->stop.stop_requested()) return 1;
  auto now = std::chrono::steady_clock::now();
  if (downloaded != p->last_bytes) {
    p->last_bytes = downloaded;
    p->last_change = now;
  } else if (p->idle_limit.count() > 0 && now - p->last_change > p->idle_limit) {
    p->idle_expired = true;
    return 1;
  }
  return 0;
}

}  // namespace

struct Transport::Handle {
  CURL* curl = curl_easy_init();
  ~Handle() { curl_easy_cleanup(curl); }
};

Result<std::unique_ptr<Transport>> Transport::Create(const RestConfig& config,
                                                     const TransportOptions& options,
                                                     core::Clock& clock) {
  return Create(config, options, clock, MakeCredentialSource(config, clock));
}

Result<std::unique_ptr<Transport>> Transport::Create(const RestConfig& config,
                                                     const TransportOptions& options,
                                                     core::Clock& clock,
                                                     std::unique_ptr<CredentialSource> credentials) {
  GlobalInit();
  GF_ASSIGN_OR_RETURN(Url url, ParseServer(config.server, config.source.empty() ? "config" : config.source));
  std::unique_ptr<Transport> t(new Transport(config, options, clock, std::move(credentials)));
  std::string host = url.host;
  if (!config.tls_server_name.empty() && config.tls_server_name != url.host) {
    // Dial the real host but present and verify the other name: curl takes the name from the
    // URL and the address from CONNECT_TO. The Host header keeps the server's own authority.
    host = config.tls_server_name;
    t->connect_to_ = host + ":" + url.port + ":" + url.host + ":" + url.port;
    t->host_header_ = "Host: " + url.host + ":" + url.port;
  }
  t->base_url_ = url.scheme + "://" + host + ":" + url.port + url.prefix;
  return t;
}

Transport::Transport(RestConfig config, TransportOptions options, core::Clock& clock,
                     std::unique_ptr<CredentialSource> credentials)
    : config_(std::move(config)),
      options_(std::move(options)),
      clock_(clock),
      credentials_(std::move(credentials)),
      limiter_(options_.qps, options_.burst, clock) {}

Transport::~Transport() = default;

std::unique_ptr<Transport::Handle> Transport::Acquire() {
  std::lock_guard lock(pool_mu_);
  if (pool_.empty()) return std::make_unique<Handle>();
  auto h = std::move(pool_.back());
  pool_.pop_back();
  return h;
}

void Transport::Release(std::unique_ptr<Handle> handle) {
  std::lock_guard lock(pool_mu_);
  if (pool_.size() < 64) pool_.push_back(std::move(handle));  // it keeps its live connection
}

std::chrono::milliseconds Transport::Backoff(int attempt) {
  thread_local std::mt19937 rng{std::random_device{}()};
  double base = static_cast<double>(options_.backoff_base.count()) * std::pow(2.0, std::min(attempt, 20));
  double capped = std::min(base, static_cast<double>(options_.backoff_cap.count()));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return std::chrono::milliseconds(static_cast<int64_t>(capped * jitter(rng)));
}

Result<Response> Transport::Send(const Request& request, std::stop_token stop) {
  return Run(request, nullptr, stop);
}

Result<Response> Transport::Stream(const Request& request,
                                   const std::function<bool(std::string_view)>& on_line,
                                   std::stop_token stop) {
  return Run(request, &on_line, stop);
}

Result<Response> Transport::Run(const Request& request,
                                const std::function<bool(std::string_view)>* on_line,
                                std::stop_token stop) {
  bool reauthenticated = false;
  int attempts = 0;
  for (int retry = 0;; ++retry) {
    if (!limiter_.Wait(stop)) return CancelledError("request cancelled");
    Credentials creds;
    if (credentials_) {
      auto current = credentials_->Current();
      if (!current.ok()) return current.status().WithContext("credentials for " + config_.source);
      creds = std::move(*current);
    }
    bool streamed = false;
    ++attempts;
    Result<Response> result = Perform(request, creds, on_line, stop, &streamed);
    if (stop.stop_requested()) return CancelledError("request cancelled");
    std::chrono::milliseconds wait{0};
    if (!result.ok()) {
      const bool can_retry = request.method == "GET" && !streamed &&
                             result.status().code() == StatusCode::kUnavailable;
      if (!can_retry || retry >= options_.max_retries) return result;
      wait = Backoff(retry);
    } else {
      result->attempts = attempts;
      if (result->status == 401 && credentials_ && !reauthenticated) {
        reauthenticated = true;  // a rotated token or expired exec credential: refresh once
        credentials_->OnUnauthorized(creds);
        --retry;
        continue;
      }
      if (streamed || !Retryable(request, *result) || retry >= options_.max_retries) return result;
      wait = result->retry_after ? std::min<std::chrono::milliseconds>(*result->retry_after, options_.max_retry_after)
                                 : Backoff(retry);
    }
    kLog.Debug("retrying request", {{"method", request.method},
                                    {"path", request.path},
                                    {"attempt", attempts},
                                    {"wait_ms", wait.count()}});
    if (!clock_.SleepFor(wait, stop)) return CancelledError("request cancelled");
  }
}

Result<Response> Transport::Perform(const Request& request, const Credentials& creds,
                                    const std::function<bool(std::string_view)>* on_line,
                                    std::stop_token stop, bool* streamed) {
  std::unique_ptr<Handle> handle = Acquire();
  CURL* c = handle->curl;
  curl_easy_reset(c);  // options only: the connection and TLS session stay cached
  const std::string url = base_url_ + request.path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_slist* connect_to = nullptr;
  if (!connect_to_.empty()) {
    connect_to = curl_slist_append(nullptr, connect_to_.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECT_TO, connect_to);
  }
  if (config_.insecure_skip_tls_verify) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  // Blobs are copied: curl keeps a connection's TLS settings with the pooled connection and
  // compares them when it considers reusing it, long after this request's credentials are gone.
  curl_blob ca{const_cast<char*>(config_.ca_pem.data()), config_.ca_pem.size(), CURL_BLOB_COPY};
  if (!config_.ca_pem.empty()) curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &ca);
  curl_blob cert{const_cast<char*>(creds.client_cert_pem.data()), creds.client_cert_pem.size(), CURL_BLOB_COPY};
  curl_blob key{const_cast<char*>(creds.client_key_pem.data()), creds.client_key_pem.size(), CURL_BLOB_COPY};
  if (!creds.client_cert_pem.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
  }
  if (!config_.proxy_url.empty()) curl_easy_setopt(c, CURLOPT_PROXY, config_.proxy_url.c_str());

  std::vector<std::string> header_lines = {"Accept: " + request.accept};
  if (!request.content_type.empty()) header_lines.push_back("Content-Type: " + request.content_type);
  if (!creds.bearer_token.empty()) header_lines.push_back("Authorization: Bearer " + creds.bearer_token);
  if (!host_header_.empty()) header_lines.push_back(host_header_);
  if (!config_.impersonate_user.empty()) {
    header_lines.push_back("Impersonate-User: " + config_.impersonate_user);
    for (const auto& g : config_.impersonate_groups) header_lines.push_back("Impersonate-Group: " + g);
  }
  curl_slist* headers = nullptr;
  for (const auto& h : header_lines) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);

  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (!request.body.empty() || request.method != "DELETE") {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }

  char error_detail[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error_detail);
  Response response;
  StreamState state{c, on_line, &response, {}, false, false};
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &state);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &response);
  std::chrono::milliseconds limit = request.timeout.count() > 0 ? request.timeout : options_.timeout;
  ProgressState progress{stop, &clock_, on_line ? request.timeout : std::chrono::milliseconds(0)};
  if (on_line == nullptr) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(limit.count()));
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &progress);

  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  long version = 0;
  curl_easy_getinfo(c, CURLINFO_HTTP_VERSION, &version);
  response.http_version = version == CURL_HTTP_VERSION_2_0   ? 20
                          : version == CURL_HTTP_VERSION_1_1 ? 11
                          : version == CURL_HTTP_VERSION_1_0 ? 10
                                                             : 0;
  // The handle holds pointers into this frame (callback data, error buffer, header lists).
  // Clear them all now: the handle outlives the frame, in the pool or until its cleanup at the
  // end of this function, and curl may touch its options then. Reset keeps the connection.
  curl_easy_reset(c);
  const std::string detail = error_detail;
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
  *streamed = state.streamed;
  const bool ended_by_us = state.stopped_by_caller || (rc == CURLE_ABORTED_BY_CALLBACK && !progress.idle_expired);
  if (rc != CURLE_OK && !ended_by_us) {
    // The connection may be broken: do not return the handle to the pool.
    std::string what = request.method + " " + url + ": " + curl_easy_strerror(rc) +
                       (detail.empty() ? "" : " (" + detail + ")");
    if (progress.idle_expired) return DeadlineExceededError(what + " (no data for " + std::to_string(request.timeout.count()) + " ms)");
    if (rc == CURLE_OPERATION_TIMEDOUT) return DeadlineExceededError(what);
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_CERTPROBLEM) {
      return FailedPreconditionError(what + " (check the certificate authority and tls-server-name of " + config_.source + ")");
    }
    if (state.streamed) return response;  // a watch whose connection dropped: the caller resumes
    return UnavailableError(what);
  }
  if (stop.stop_requested()) return CancelledError("request cancelled");
  Release(std::move(handle));
  kLog.Debug("request", {{"method", request.method}, {"path", request.path}, {"status", response.status}});
  return response;
}

}  // namespace gpufleet::kube
