// Transport against the embedded API server (in-process, TLS on loopback), with faults injected
// through ApiServer::Options::intercept. Waits go through a clock that records them and returns
// at once, so retry and backoff behaviour is asserted without sleeping.
#include "kube/transport.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "embedded_server.h"
#include "kube/rate_limiter.h"
#include "testing/status_matchers.h"

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;
using apiserver::HttpRequest;
using apiserver::HttpResponse;
using gpufleet::testing::StatusIs;

std::filesystem::path TestdataDir() {
  if (const char* src = std::getenv("GPUFLEET_SOURCE_DIR")) {
    return std::filesystem::path(src) / "tests" / "kube" / "testdata";
  }
  return std::filesystem::path(__FILE__).parent_path() / "testdata";
}

// Time that jumps to each deadline instead of waiting, remembering how long each wait was.
class InstantClock final : public core::Clock {
 public:
  core::TimePoint Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }
  bool SleepUntil(core::TimePoint deadline, std::stop_token stop) override {
    std::lock_guard lock(mu_);
    if (stop.stop_requested()) return false;
    if (deadline > now_) {
      waits_.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now_));
      now_ = deadline;
    }
    return true;
  }
  std::vector<std::chrono::milliseconds> waits() const {
    std::lock_guard lock(mu_);
    return waits_;
  }

 private:
  mutable std::mutex mu_;
  core::TimePoint now_ = core::TimePoint() + std::chrono::hours(24 * 365 * 56);
  std::vector<std::chrono::milliseconds> waits_;
};

class TransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::StartEmbeddedServer("transport", [this](const HttpRequest& r) -> std::optional<HttpResponse> {
      std::lock_guard lock(mu_);
      seen_.push_back(r.method + " " + r.path + " " + std::string(r.Header("authorization")));
      if (faults_.empty()) return std::nullopt;
      HttpResponse injected = faults_.front();
      faults_.erase(faults_.begin());
      return injected;
    });
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started->server);
    config_ = started->config;
  }
  void TearDown() override { server_->Stop(); }

  std::unique_ptr<Transport> Make(TransportOptions options = {}) {
    auto t = Transport::Create(config_, options, clock_);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? std::move(t).value() : nullptr;
  }
  void Inject(int status, std::map<std::string, std::string> headers = {}) {
    HttpResponse r;
    r.status = status;
    r.headers = std::move(headers);
    r.body = json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"}, {"code", status}}.dump();
    std::lock_guard lock(mu_);
    faults_.push_back(std::move(r));
  }
  size_t Seen() {
    std::lock_guard lock(mu_);
    return seen_.size();
  }

  InstantClock clock_;
  std::unique_ptr<apiserver::ApiServer> server_;
  RestConfig config_;
  std::mutex mu_;
  std::vector<HttpResponse> faults_;
  std::vector<std::string> seen_;
};

TEST_F(TransportTest, SendsAuthenticatedRequestsOverTls) {
  auto t = Make();
  GF_ASSERT_OK_AND_ASSIGN(Response r, t->Send({.path = "/api/v1/namespaces/default"}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["metadata"]["name"], "default");
  EXPECT_EQ(r.attempts, 1);
  // The same connection serves the next request (no new TLS handshake is observable here, but
  // a pooled handle must still work after reuse).
  GF_ASSERT_OK_AND_ASSIGN(Response again, t->Send({.path = "/api/v1/namespaces/kube-system"}));
  EXPECT_EQ(again.status, 200);
}

TEST_F(TransportTest, PostsBodies) {
  auto t = Make();
  json cm = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "c"}}}, {"data", {{"a", "b"}}}};
  GF_ASSERT_OK_AND_ASSIGN(Response r, t->Send({.method = "POST",
                                               .path = "/api/v1/namespaces/default/configmaps",
                                               .body = cm.dump(),
                                               .content_type = "application/json"}));
  EXPECT_EQ(r.status, 201) << r.body;
  GF_ASSERT_OK_AND_ASSIGN(Response del, t->Send({.method = "DELETE", .path = "/api/v1/namespaces/default/configmaps/c"}));
  EXPECT_EQ(del.status, 200) << del.body;
}

TEST_F(TransportTest, RetriesTooManyRequestsHonouringRetryAfter) {
  auto t = Make();
  Inject(429, {{"Retry-After", "3"}});
  Inject(429, {{"Retry-After", "7"}});
  GF_ASSERT_OK_AND_ASSIGN(Response r, t->Send({.method = "POST",
                                               .path = "/api/v1/namespaces",
                                               .body = R"({"metadata":{"name":"n1"}})",
                                               .content_type = "application/json"}));
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(clock_.waits(), (std::vector<std::chrono::milliseconds>{std::chrono::seconds(3), std::chrono::seconds(7)}));
}

TEST_F(TransportTest, TooManyRequestsWithoutRetryAfterIsTheCallersAnswer) {
  // An eviction a PodDisruptionBudget refuses: 429 and no Retry-After. The drain decides when
  // to try again; the transport must not spin on it.
  auto t = Make();
  Inject(429);
  GF_ASSERT_OK_AND_ASSIGN(Response r, t->Send({.method = "POST",
                                               .path = "/api/v1/namespaces",
                                               .body = R"({"metadata":{"name":"n2"}})",
                                               .content_type = "application/json"}));
  EXPECT_EQ(r.status, 429);
  EXPECT_EQ(r.attempts, 1);
  EXPECT_TRUE(clock_.waits().empty());
}

TEST_F(TransportTest, RetriesServerErrorsOnlyWhereSafe) {
  auto t = Make();
  Inject(500);
  GF_ASSERT_OK_AND_ASSIGN(Response get, t->Send({.path = "/api/v1/namespaces/default"}));
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.attempts, 2);
  ASSERT_EQ(clock_.waits().size(), 1u);
  EXPECT_GE(clock_.waits()[0], std::chrono::milliseconds(400));  // 500 ms base, ±20% jitter
  EXPECT_LE(clock_.waits()[0], std::chrono::milliseconds(600));
  // A write that failed with 500 may have happened: not retried without Retry-After.
  Inject(500);
  GF_ASSERT_OK_AND_ASSIGN(Response post, t->Send({.method = "POST",
                                                  .path = "/api/v1/namespaces",
                                                  .body = R"({"metadata":{"name":"n2"}})",
                                                  .content_type = "application/json"}));
  EXPECT_EQ(post.status, 500);
  EXPECT_EQ(post.attempts, 1);
  // Unless the server said when to come back.
  Inject(503, {{"Retry-After", "1"}});
  GF_ASSERT_OK_AND_ASSIGN(Response later, t->Send({.method = "POST",
                                                   .path = "/api/v1/namespaces",
                                                   .body = R"({"metadata":{"name":"n3"}})",
                                                   .content_type = "application/json"}));
  EXPECT_EQ(later.status, 201);
}

TEST_F(TransportTest, GivesUpAfterMaxRetriesWithCappedBackoff) {
  auto t = Make({.max_retries = 4, .backoff_base = std::chrono::milliseconds(1000),
                 .backoff_cap = std::chrono::milliseconds(3000)});
  for (int i = 0; i < 10; ++i) Inject(503);
  GF_ASSERT_OK_AND_ASSIGN(Response r, t->Send({.path = "/api/v1/nodes"}));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.attempts, 5);
  auto waits = clock_.waits();
  ASSERT_EQ(waits.size(), 4u);
  EXPECT_LE(waits[3], std::chrono::milliseconds(3600));  // capped (plus jitter), not 8 s
  EXPECT_GE(waits[3], std::chrono::milliseconds(2400));
}

class SwappingCredentials final : public CredentialSource {
 public:
  explicit SwappingCredentials(std::string good) : good_(std::move(good)) {}
  Result<Credentials> Current() override {
    std::lock_guard lock(mu_);
    return Credentials{.bearer_token = refreshed_ ? good_ : "expired-token"};
  }
  void OnUnauthorized(const Credentials&) override {
    std::lock_guard lock(mu_);
    ++refreshes_;
    refreshed_ = true;
  }
  int refreshes() {
    std::lock_guard lock(mu_);
    return refreshes_;
  }

 private:
  std::mutex mu_;
  std::string good_;
  bool refreshed_ = false;
  int refreshes_ = 0;
};

TEST_F(TransportTest, RefreshesCredentialsOnceAfterUnauthorized) {
  auto creds = std::make_unique<SwappingCredentials>(config_.token);
  auto* source = creds.get();
  RestConfig anonymous = config_;
  anonymous.token.clear();
  GF_ASSERT_OK_AND_ASSIGN(auto t, Transport::Create(anonymous, {}, clock_, std::move(creds)));
  GF_ASSERT_OK_AND_ASSIGN(Response r, t->Send({.path = "/api/v1/namespaces/default"}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(source->refreshes(), 1);
  // Credentials the server keeps refusing come back as the 401, after one refresh.
  auto bad = std::make_unique<SwappingCredentials>("still-wrong");
  auto* bad_source = bad.get();
  GF_ASSERT_OK_AND_ASSIGN(auto t2, Transport::Create(anonymous, {}, clock_, std::move(bad)));
  GF_ASSERT_OK_AND_ASSIGN(Response refused, t2->Send({.path = "/api/v1/namespaces/default"}));
  EXPECT_EQ(refused.status, 401);
  EXPECT_EQ(bad_source->refreshes(), 1);
}

// The `aws eks get-token` path end to end: an exec plugin whose first token the server refuses
// (a token revoked before its expirationTimestamp); the 401 makes the transport re-run the
// plugin once and send the request again with the new token.
TEST_F(TransportTest, ExecPluginIsReRunAfterUnauthorized) {
  const auto dir = std::filesystem::path(::testing::TempDir()) / "transport_exec_plugin";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokens") << "revoked-token\n" << config_.token << "\n";
  RestConfig exec_config = config_;
  exec_config.token.clear();
  ExecConfig exec;
  exec.api_version = "client.authentication.k8s.io/v1";
  exec.command = "/bin/sh";
  exec.args = {(TestdataDir() / "fake_exec_plugin.sh").string(), dir.string(), "lines",
               (dir / "tokens").string()};
  exec.env = {{"FAKE_PLUGIN_EXPIRY", "2099-01-01T00:00:00Z"}};  // cached: only a 401 re-runs it
  exec.interactive_mode = "Never";
  exec_config.exec = exec;
  GF_ASSERT_OK_AND_ASSIGN(auto t, Transport::Create(exec_config, {}, clock_));
  GF_ASSERT_OK_AND_ASSIGN(Response r, t->Send({.path = "/api/v1/namespaces/default"}));
  EXPECT_EQ(r.status, 200);
  GF_ASSERT_OK_AND_ASSIGN(Response again, t->Send({.path = "/api/v1/namespaces/kube-system"}));
  EXPECT_EQ(again.status, 200);
  std::ifstream runs(dir / "runs");
  int n = 0;
  for (std::string line; std::getline(runs, line);) ++n;
  EXPECT_EQ(n, 2);  // the refused token and its replacement; the second request used the cache
  std::lock_guard lock(mu_);
  ASSERT_GE(seen_.size(), 2u);
  EXPECT_EQ(seen_.back(), "GET /api/v1/namespaces/kube-system Bearer " + config_.token);
}

TEST_F(TransportTest, StreamsWatchEventsLineByLine) {
  auto t = Make();
  std::vector<json> events;
  std::thread writer([&] {
    auto w = Make();
    for (const char* name : {"w1", "w2", "w3"}) {
      json cm = {{"metadata", {{"name", name}}}};
      w->Send({.method = "POST", .path = "/api/v1/namespaces/default/configmaps", .body = cm.dump(),
               .content_type = "application/json"})
          .status()
          .IgnoreError();
    }
  });
  GF_ASSERT_OK_AND_ASSIGN(
      Response r, t->Stream({.path = "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=1&timeoutSeconds=60"},
                            [&](std::string_view line) {
                              events.push_back(json::parse(line));
                              return events.size() < 3;  // stop after three events
                            }));
  writer.join();
  EXPECT_EQ(r.status, 200);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[2]["object"]["metadata"]["name"], "w3");
}

TEST_F(TransportTest, StreamErrorsComeBackWhole) {
  auto t = Make();
  bool called = false;
  GF_ASSERT_OK_AND_ASSIGN(Response r, t->Stream({.path = "/api/v1/namespaces/default/nosuchthings?watch=1"},
                                                [&](std::string_view) { return called = true; }));
  EXPECT_EQ(r.status, 404);
  EXPECT_FALSE(called);
  EXPECT_EQ(json::parse(r.body)["reason"], "NotFound");
}

TEST_F(TransportTest, StopTokenEndsAStream) {
  auto t = Make();
  std::stop_source stop;
  std::thread stopper([&] {
    while (Seen() == 0) std::this_thread::yield();
    stop.request_stop();
  });
  auto r = t->Stream({.path = "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=60"},
                     [](std::string_view) { return true; }, stop.get_token());
  stopper.join();
  EXPECT_THAT(r, StatusIs(StatusCode::kCancelled));
}

TEST_F(TransportTest, VerifiesTheServerCertificate) {
  RestConfig wrong_name = config_;
  wrong_name.tls_server_name = "kubernetes.example";  // not a SAN of the serving certificate
  GF_ASSERT_OK_AND_ASSIGN(auto t, Transport::Create(wrong_name, {.max_retries = 0}, clock_));
  EXPECT_THAT(t->Send({.path = "/version"}), StatusIs(StatusCode::kFailedPrecondition));
  RestConfig other_name = config_;
  other_name.tls_server_name = "localhost";  // a SAN: dialled at 127.0.0.1, verified as localhost
  GF_ASSERT_OK_AND_ASSIGN(auto ok, Transport::Create(other_name, {}, clock_));
  GF_ASSERT_OK_AND_ASSIGN(Response r, ok->Send({.path = "/version"}));
  EXPECT_EQ(r.status, 200);
  RestConfig insecure = config_;
  insecure.ca_pem.clear();
  insecure.insecure_skip_tls_verify = true;
  GF_ASSERT_OK_AND_ASSIGN(auto skip, Transport::Create(insecure, {}, clock_));
  GF_ASSERT_OK_AND_ASSIGN(Response r2, skip->Send({.path = "/version"}));
  EXPECT_EQ(r2.status, 200);
}

TEST_F(TransportTest, UnreachableServerIsUnavailableNamingTheUrl) {
  RestConfig gone = config_;
  gone.server = "https://127.0.0.1:1";
  GF_ASSERT_OK_AND_ASSIGN(auto t, Transport::Create(gone, {.max_retries = 2}, clock_));
  auto r = t->Send({.path = "/version"});
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable));
  EXPECT_NE(r.status().message().find("https://127.0.0.1:1/version"), std::string::npos);
  EXPECT_EQ(clock_.waits().size(), 2u);  // reads are retried on connection failures
}

TEST(TransportCreate, RejectsServersWithoutHttpScheme) {
  InstantClock clock;
  RestConfig c;
  c.server = "ftp://x";
  c.source = "kubeconfig k (context c)";
  auto t = Transport::Create(c, {}, clock, nullptr);
  EXPECT_THAT(t, StatusIs(StatusCode::kInvalidArgument));
  EXPECT_NE(t.status().message().find("kubeconfig k (context c)"), std::string::npos);
}

TEST(TokenBucket, AllowsBurstThenQps) {
  core::FakeClock clock;
  TokenBucket bucket(10, 3, clock);
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_FALSE(bucket.TryTake());
  clock.Advance(std::chrono::milliseconds(100));  // one token at 10 qps
  EXPECT_TRUE(bucket.TryTake());
  EXPECT_FALSE(bucket.TryTake());
  clock.Advance(std::chrono::seconds(10));  // refills to the burst, not beyond
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(bucket.TryTake());
  EXPECT_FALSE(bucket.TryTake());
}

TEST(TokenBucket, WaitersAreSpacedAtTheRate) {
  InstantClock clock;
  TokenBucket bucket(5, 1, clock);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(bucket.Wait());
  auto waits = clock.waits();
  ASSERT_EQ(waits.size(), 3u);  // the first token was in the bucket
  for (auto w : waits) EXPECT_EQ(w, std::chrono::milliseconds(200));
}

}  // namespace
}  // namespace gpufleet::kube
