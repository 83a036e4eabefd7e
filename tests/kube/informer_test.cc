// Informers against the embedded API server with faults injected: dropped watches, 410 Expired,
// 500s on lists and watches. Each test waits (in real time, generously bounded) for the cache to
// converge to the server's state; nothing asserts how fast.
#include "kube/informer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <thread>

#include "embedded_server.h"
#include "testing/status_matchers.h"

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;

const Gvr kPods{"", "v1", "pods", true};

// Backoff sleeps return at once (the tests are about convergence, not waiting).
class NoWaitClock final : public core::Clock {
 public:
  core::TimePoint Now() const override { return core::RealClock().Now(); }
  bool SleepUntil(core::TimePoint, std::stop_token stop) override { return !stop.stop_requested(); }
};

class InformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::StartEmbeddedServer("informer", [this](const apiserver::HttpRequest& r)
                                                                 -> std::optional<apiserver::HttpResponse> {
      const bool watch = r.QueryFlag("watch");
      if (r.method == "GET" && !watch && slow_lists_ > 0) {  // a server that answers late
        --slow_lists_;
        std::this_thread::sleep_for(slow_list_delay_);
      }
      if (watch && expire_watches_) return testing::ExpiredWatch();
      if (watch && drop_watches_ > 0) {
        --drop_watches_;
        apiserver::HttpResponse dropped;  // the connection's stream ends with no events
        dropped.stream = [](apiserver::StreamIo&) {};
        return dropped;
      }
      if (r.method == "GET" && fail_requests_ > 0) {  // only reads: the informer's lists and watches
        --fail_requests_;
        apiserver::HttpResponse failed;
        failed.status = 500;
        failed.body = R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"InternalError","code":500})";
        return failed;
      }
      return std::nullopt;
    });
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started->server);
    server_config_ = started->config;
    auto transport = Transport::Create(started->config, {.max_retries = 0}, clock_);
    ASSERT_TRUE(transport.ok()) << transport.status();
    transport_ = std::move(transport).value();
    client_ = std::make_unique<Client>(*transport_);
  }
  void TearDown() override { server_->Stop(); }

  // Runs `informer` until the returned thread is destroyed (it requests stop and joins). Keep
  // it in a local declared after the informer, so the thread ends before the informer does.
  [[nodiscard]] std::jthread Start(Informer& informer) {
    std::jthread runner([&informer](std::stop_token stop) { informer.Run(stop); });
    EXPECT_TRUE(informer.WaitForSync(std::chrono::seconds(20)));
    return runner;
  }
  static json Pod(const std::string& name, const std::string& node = "") {
    json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}}},
                {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
    if (!node.empty()) pod["spec"]["nodeName"] = node;
    return pod;
  }
  // The names in the cache equal the server's, within 20 s.
  ::testing::AssertionResult Converges(const Informer& informer) {
    std::set<std::string> server, cache;
    for (int i = 0; i < 400; ++i) {
      auto list = client_->ListAll(kPods, "default", {});
      if (!list.ok()) {  // an injected failure hit this read: look again
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
      server.clear();
      cache.clear();
      for (const auto& item : (*list)["items"]) server.insert(item["metadata"]["name"].get<std::string>() + "@" + item["metadata"]["resourceVersion"].get<std::string>());
      for (const auto& obj : informer.List()) cache.insert((*obj)["metadata"]["name"].get<std::string>() + "@" + (*obj)["metadata"]["resourceVersion"].get<std::string>());
      if (server == cache) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ::testing::AssertionFailure() << "cache never matched the server: " << cache.size() << " vs " << server.size();
  }

  NoWaitClock clock_;
  std::atomic<bool> expire_watches_{false};
  std::atomic<int> drop_watches_{0};
  std::atomic<int> fail_requests_{0};
  std::atomic<int> slow_lists_{0};
  std::chrono::milliseconds slow_list_delay_{0};
  std::unique_ptr<apiserver::ApiServer> server_;
  RestConfig server_config_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Client> client_;
};

TEST_F(InformerTest, SyncsThenFollowsAddsUpdatesAndDeletes) {
  for (const char* name : {"a", "b", "c"}) GF_ASSERT_OK(client_->Create(kPods, "default", Pod(name)).status());
  Informer informer(*client_, {.gvr = kPods, .ns = "default"}, clock_);
  std::atomic<int> adds{0}, updates{0}, deletes{0};
  informer.AddEventHandler({.on_add = [&](const ObjectPtr&) { ++adds; },
                            .on_update = [&](const ObjectPtr&, const ObjectPtr&) { ++updates; },
                            .on_delete = [&](const ObjectPtr&) { ++deletes; }});
  auto running = Start(informer);
  EXPECT_EQ(informer.List().size(), 3u);
  EXPECT_EQ(adds, 3);
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("d")).status());
  GF_ASSERT_OK(client_->Patch(kPods, "default", "a", PatchType::kMerge, {{"metadata", {{"labels", {{"x", "1"}}}}}}).status());
  GF_ASSERT_OK(client_->Delete(kPods, "default", "b").status());
  EXPECT_TRUE(Converges(informer));
  EXPECT_EQ(adds, 4);
  EXPECT_EQ(updates, 1);
  EXPECT_EQ(deletes, 1);
  ASSERT_NE(informer.Get("default/a"), nullptr);
  EXPECT_EQ((*informer.Get("default/a"))["metadata"]["labels"]["x"], "1");
  EXPECT_EQ(informer.Get("default/b"), nullptr);
  EXPECT_EQ(informer.ListCount(), 1);  // no relist was needed
}

TEST_F(InformerTest, TransformRunsBeforeCaching) {
  GF_ASSERT_OK(client_->Patch(kPods, "default", "t", PatchType::kApply, Pod("t"), {.field_manager = "test"}).status());
  GF_ASSERT_OK_AND_ASSIGN(json stored, client_->Get(kPods, "default", "t"));
  ASSERT_TRUE(stored["metadata"].contains("managedFields"));
  Informer informer(*client_, {.gvr = kPods, .ns = "default", .transform = StripManagedFields}, clock_);
  auto running = Start(informer);
  ASSERT_NE(informer.Get("default/t"), nullptr);
  EXPECT_FALSE((*informer.Get("default/t"))["metadata"].contains("managedFields"));
  json labelled = Pod("t");
  labelled["metadata"]["labels"] = {{"seen", "yes"}};
  GF_ASSERT_OK(client_->Patch(kPods, "default", "t", PatchType::kApply, labelled, {.field_manager = "test"}).status());
  ASSERT_TRUE(Converges(informer));
  EXPECT_EQ((*informer.Get("default/t"))["metadata"]["labels"]["seen"], "yes");
  EXPECT_FALSE((*informer.Get("default/t"))["metadata"].contains("managedFields"));
}

TEST_F(InformerTest, IndexesFollowChanges) {
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("p1", "node-1")).status());
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("p2", "node-1")).status());
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("p3", "node-2")).status());
  Informer informer(*client_, {.gvr = kPods}, clock_);  // all namespaces
  informer.AddIndex("node", [](const json& pod) -> std::vector<std::string> {
    std::string node = pod["spec"].value("nodeName", "");
    if (node.empty()) return {};
    return {node};
  });
  auto running = Start(informer);
  EXPECT_EQ(informer.ByIndex("node", "node-1").size(), 2u);
  EXPECT_EQ(informer.ByIndex(Informer::kByNamespace, "default").size(), 3u);
  GF_ASSERT_OK(client_->Delete(kPods, "default", "p1", {.grace_period_seconds = 0}).status());
  EXPECT_TRUE(Converges(informer));
  EXPECT_EQ(informer.ByIndex("node", "node-1").size(), 1u);
  EXPECT_EQ(informer.ByIndex("node", "node-2").size(), 1u);
}

TEST_F(InformerTest, RelistsAfterExpiredAndReportsWhatItMissed) {
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("keep")).status());
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("gone")).status());
  // Real (short) backoff: a server that only ever answers "expired" is retried every few ms
  // instead of in a hot loop that would starve the test's own requests.
  Informer informer(*client_,
                    {.gvr = kPods, .ns = "default", .backoff_initial = std::chrono::milliseconds(5),
                     .backoff_max = std::chrono::milliseconds(20)},
                    core::RealClock());
  std::atomic<int> deletes{0};
  informer.AddEventHandler({.on_delete = [&](const ObjectPtr& last) {
    if ((*last)["metadata"]["name"] == "gone") ++deletes;
  }});
  expire_watches_ = true;  // every watch is told its version is too old: only relists see changes
  auto running = Start(informer);
  GF_ASSERT_OK(client_->Delete(kPods, "default", "gone").status());
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("new")).status());
  EXPECT_TRUE(Converges(informer));
  expire_watches_ = false;
  EXPECT_GE(informer.ListCount(), 2);
  EXPECT_EQ(deletes, 1);  // the relist noticed the object missing from the list
}

TEST_F(InformerTest, SurvivesDroppedWatchesAndServerErrors) {
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("x")).status());
  fail_requests_ = 3;  // the first list fails three times
  drop_watches_ = 5;   // then five watches end at once with nothing
  Informer informer(*client_, {.gvr = kPods, .ns = "default"}, clock_);
  auto running = Start(informer);
  for (int i = 0; i < 5; ++i) {
    GF_ASSERT_OK(client_->Create(kPods, "default", Pod("later-" + std::to_string(i))).status());
  }
  fail_requests_ = 2;  // reads fail again; the informer backs off and resumes from its version
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("after-errors")).status());
  EXPECT_TRUE(Converges(informer));
}

TEST_F(InformerTest, SlowListsPastTheRequestTimeoutAreRetried) {
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("early")).status());
  slow_list_delay_ = std::chrono::milliseconds(1500);
  slow_lists_ = 2;  // the first two lists answer after the client has given up
  auto impatient = Transport::Create(server_config_, {.timeout = std::chrono::milliseconds(300), .max_retries = 0}, clock_);
  ASSERT_TRUE(impatient.ok()) << impatient.status();
  Client client(**impatient);
  Informer informer(client, {.gvr = kPods, .ns = "default"}, clock_);
  auto running = Start(informer);
  EXPECT_GE(informer.ListCount(), 1);
  EXPECT_NE(informer.Get("default/early"), nullptr);
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("late")).status());
  EXPECT_TRUE(Converges(informer));
}

TEST_F(InformerTest, ConvergesAcrossAServerRestart) {
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("before")).status());
  Informer informer(*client_, {.gvr = kPods, .ns = "default"}, clock_);
  std::atomic<int> deletes{0};
  informer.AddEventHandler({.on_delete = [&](const ObjectPtr&) { ++deletes; }});
  auto running = Start(informer);
  // Restart on the same address and data: the watch drops and the informer resumes from its
  // resourceVersion (the new server accepts the current version; an older one would get 410
  // and a relist, which RelistsAfterExpiredAndReportsWhatItMissed covers).
  const std::string listen = "127.0.0.1:" + std::to_string(server_->port());
  const auto data_dir = server_->kubeconfig_path().parent_path();
  server_->Stop();
  server_.reset();
  apiserver::ApiServer::Options o;
  o.data_dir = data_dir;
  o.listen = listen;
  o.durable = false;
  auto restarted = apiserver::ApiServer::Start(o, core::RealClock());
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  server_ = std::move(restarted).value();
  GF_ASSERT_OK(client_->Delete(kPods, "default", "before").status());
  GF_ASSERT_OK(client_->Create(kPods, "default", Pod("after")).status());
  EXPECT_TRUE(Converges(informer));
  EXPECT_EQ(deletes, 1);
}

}  // namespace
}  // namespace gpufleet::kube
