// TypedClient and typed informers against the embedded API server: objects go in and come out
// as views, lists are paged, conflicts and decode failures are errors, and a PodInformer keeps
// a cache of views that follows the server.
#include "kube/types/typed_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "../embedded_server.h"
#include "kube/types/informers.h"
#include "testing/status_matchers.h"

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;
using gpufleet::testing::StatusIs;

template <typename T>
concept CanUpdate = requires(TypedClient<T> c, const T& obj) { c.Update(obj); };

class TypedClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::StartEmbeddedServer("typed", [this](const apiserver::HttpRequest& r)
                                                              -> std::optional<apiserver::HttpResponse> {
      if (corrupt_lists_ && r.method == "GET" && !r.QueryFlag("watch") && r.path == "/api/v1/namespaces/default/pods") {
        apiserver::HttpResponse list;
        list.headers["Content-Type"] = "application/json";
        list.body = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"1"},"items":[)"
                    R"({"metadata":{"name":"good","namespace":"default","resourceVersion":"1"}},)"
                    R"({"metadata":{"name":"bad","namespace":"default","resourceVersion":"1"},"spec":{"priority":"high"}}]})";
        return list;
      }
      return std::nullopt;
    });
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started->server);
    auto transport = Transport::Create(started->config, {}, core::RealClock());
    ASSERT_TRUE(transport.ok()) << transport.status();
    transport_ = std::move(transport).value();
    client_ = std::make_unique<Client>(*transport_);
  }
  void TearDown() override { server_->Stop(); }

  static Pod MakePod(const std::string& name, const std::string& node = "") {
    Pod pod;
    pod.metadata.name = name;
    pod.metadata.ns = "default";
    pod.metadata.labels = {{"app", "vllm"}};
    Container c;
    c.name = "vllm";
    c.image = "vllm/vllm-openai";
    c.resources.requests.Set("nvidia.com/gpu", core::Quantity::FromInt(1));
    c.resources.limits.Set("nvidia.com/gpu", core::Quantity::FromInt(1));
    pod.spec.containers.push_back(c);
    pod.spec.node_name = node;
    return pod;
  }

  std::atomic<bool> corrupt_lists_{false};
  std::unique_ptr<apiserver::ApiServer> server_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Client> client_;
};

TEST_F(TypedClientTest, CreateGetPatchDeletePods) {
  TypedClient<Pod> pods(*client_);
  GF_ASSERT_OK_AND_ASSIGN(Pod created, pods.Create(MakePod("vllm-0")));
  EXPECT_FALSE(created.metadata.uid.empty());
  EXPECT_FALSE(created.metadata.resource_version.empty());
  GF_ASSERT_OK_AND_ASSIGN(Pod got, pods.Get("default", "vllm-0"));
  EXPECT_EQ(got.spec.containers[0].resources.requests.Get("nvidia.com/gpu").Value(), 1);
  GF_ASSERT_OK_AND_ASSIGN(Pod patched, pods.Patch("default", "vllm-0", PatchType::kMerge,
                                                  {{"metadata", {{"labels", {{"tier", "gpu"}}}}}}));
  EXPECT_EQ(patched.metadata.labels.at("tier"), "gpu");
  EXPECT_EQ(patched.metadata.labels.at("app"), "vllm");
  EXPECT_THAT(pods.Get("default", "missing").status(), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(pods.Create(MakePod("vllm-0")).status(), StatusIs(StatusCode::kAlreadyExists));
  // An unscheduled pod goes at once: the server answers with the deleted object.
  GF_ASSERT_OK_AND_ASSIGN(std::optional<Pod> deleted, pods.Delete("default", "vllm-0"));
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->metadata.name, "vllm-0");
  EXPECT_THAT(pods.Get("default", "vllm-0").status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(TypedClientTest, ListsPageByPage) {
  TypedClient<Pod> pods(*client_);
  for (int i = 0; i < 7; ++i) GF_ASSERT_OK(pods.Create(MakePod("p" + std::to_string(i))).status());
  GF_ASSERT_OK_AND_ASSIGN(ObjectList<Pod> page, pods.List("default", {.limit = 3}));
  EXPECT_EQ(page.items.size(), 3u);
  EXPECT_FALSE(page.continue_token.empty());
  GF_ASSERT_OK_AND_ASSIGN(ObjectList<Pod> all, pods.ListAll("default", {.limit = 3}));
  EXPECT_EQ(all.items.size(), 7u);
  EXPECT_TRUE(all.continue_token.empty());
  EXPECT_FALSE(all.resource_version.empty());
}

TEST_F(TypedClientTest, CompleteKindsUpdateWithOptimisticConcurrency) {
  TypedClient<Lease> leases(*client_);
  Lease lease;
  lease.metadata.name = "gpufleet-controller";
  lease.metadata.ns = "default";
  lease.spec.holder_identity = "a";
  lease.spec.lease_duration_seconds = 15;
  GF_ASSERT_OK_AND_ASSIGN(Lease stored, leases.Create(lease));
  Lease mine = stored;
  mine.spec.holder_identity = "b";
  GF_ASSERT_OK_AND_ASSIGN(Lease updated, leases.Update(mine));
  EXPECT_EQ(updated.spec.holder_identity, "b");
  // The first copy's resourceVersion is stale now.
  stored.spec.holder_identity = "c";
  EXPECT_THAT(leases.Update(stored).status(), StatusIs(StatusCode::kAborted));
  // Pod's view is not complete: TypedClient<Pod>::Update does not exist (checked here).
  static_assert(!CanUpdate<Pod>);
  static_assert(CanUpdate<Lease>);
}

TEST_F(TypedClientTest, WatchDeliversViews) {
  TypedClient<Pod> pods(*client_);
  GF_ASSERT_OK_AND_ASSIGN(ObjectList<Pod> start, pods.List("default"));
  GF_ASSERT_OK(pods.Create(MakePod("watched", "node-1")).status());
  std::vector<std::string> seen;
  Status s = pods.Watch("default", {.resource_version = start.resource_version, .timeout_seconds = 5},
                        [&](TypedWatchEvent<Pod>& e) {
                          seen.push_back(e.type + " " + e.object.metadata.name + " " + e.object.spec.node_name);
                          return false;  // one event is enough
                        });
  GF_EXPECT_OK(s);
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED watched node-1"}));
}

TEST_F(TypedClientTest, MalformedObjectsAreErrorsForCallsAndSkippedByInformers) {
  corrupt_lists_ = true;
  TypedClient<Pod> pods(*client_);
  EXPECT_THAT(pods.List("default").status(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("default/bad: spec.priority")));
  PodInformer informer(*client_, {.ns = "default", .min_watch_timeout = std::chrono::seconds(1)}, core::RealClock());
  std::jthread running([&](std::stop_token stop) { informer.Run(stop); });
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(20)));
  EXPECT_NE(informer.Get("default/good"), nullptr);
  EXPECT_EQ(informer.Get("default/bad"), nullptr);
  EXPECT_EQ(informer.DecodeErrors(), 1);
}

TEST_F(TypedClientTest, PodInformerCachesViewsAndIndexesByNode) {
  TypedClient<Pod> pods(*client_);
  GF_ASSERT_OK(pods.Create(MakePod("a", "node-1")).status());
  GF_ASSERT_OK(pods.Create(MakePod("b", "node-1")).status());
  GF_ASSERT_OK(pods.Create(MakePod("pending")).status());
  PodInformer informer(*client_, {.ns = "default", .page_size = 2}, core::RealClock());
  informer.AddIndex(kPodsByNodeName, PodNodeNameIndex);
  std::atomic<int> updates{0};
  informer.AddEventHandler({.on_update = [&](const PodInformer::Ptr& old_pod, const PodInformer::Ptr& new_pod) {
    if (old_pod->spec.node_name.empty() && !new_pod->spec.node_name.empty()) ++updates;
  }});
  std::jthread running([&](std::stop_token stop) { informer.Run(stop); });
  ASSERT_TRUE(informer.WaitForSync(std::chrono::seconds(20)));
  EXPECT_EQ(informer.Size(), 3u);
  EXPECT_EQ(informer.ByIndex(kPodsByNodeName, "node-1").size(), 2u);
  EXPECT_EQ(informer.ByIndex(kPodsByNodeName, "").size(), 1u);
  GF_ASSERT_OK(client_->Bind("default", "pending", "node-2"));
  for (int i = 0; i < 400 && informer.ByIndex(kPodsByNodeName, "node-2").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(informer.ByIndex(kPodsByNodeName, "node-2").size(), 1u);
  EXPECT_TRUE(informer.ByIndex(kPodsByNodeName, "").empty());
  EXPECT_EQ(updates, 1);
  EXPECT_EQ(informer.Get("default/pending")->spec.containers[0].resources.requests.Get("nvidia.com/gpu").Value(), 1);
}

}  // namespace
}  // namespace gpufleet::kube
