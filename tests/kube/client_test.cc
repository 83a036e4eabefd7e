// The dynamic client against the embedded API server (in-process, TLS on loopback).
#include "kube/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "embedded_server.h"
#include "testing/status_matchers.h"

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;
using gpufleet::testing::StatusIs;

const Gvr kConfigMaps{"", "v1", "configmaps", true};
const Gvr kPods{"", "v1", "pods", true};
const Gvr kDeployments{"apps", "v1", "deployments", true};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::StartEmbeddedServer("client", [this](const apiserver::HttpRequest& r)
                                                               -> std::optional<apiserver::HttpResponse> {
      if (expire_watches_ && r.QueryFlag("watch")) return testing::ExpiredWatch();
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

  static json ConfigMap(const std::string& name, json labels = json::object()) {
    return {{"apiVersion", "v1"}, {"kind", "ConfigMap"},
            {"metadata", {{"name", name}, {"labels", labels}}}, {"data", {{"k", "v"}}}};
  }

  std::atomic<bool> expire_watches_{false};
  std::unique_ptr<apiserver::ApiServer> server_;
  std::unique_ptr<Transport> transport_;
  std::unique_ptr<Client> client_;
};

TEST_F(ClientTest, CreateGetUpdateDelete) {
  GF_ASSERT_OK_AND_ASSIGN(json created, client_->Create(kConfigMaps, "default", ConfigMap("a")));
  EXPECT_FALSE(created["metadata"]["uid"].get<std::string>().empty());
  GF_ASSERT_OK_AND_ASSIGN(json got, client_->Get(kConfigMaps, "default", "a"));
  EXPECT_EQ(got, created);
  got["data"]["k"] = "v2";
  GF_ASSERT_OK_AND_ASSIGN(json updated, client_->Update(kConfigMaps, "default", got));
  EXPECT_EQ(updated["data"]["k"], "v2");
  // The version read before the update is stale now: 409 Conflict is kAborted.
  EXPECT_THAT(client_->Update(kConfigMaps, "default", got), StatusIs(StatusCode::kAborted));
  EXPECT_THAT(client_->Create(kConfigMaps, "default", ConfigMap("a")), StatusIs(StatusCode::kAlreadyExists));
  GF_ASSERT_OK(client_->Delete(kConfigMaps, "default", "a").status());
  auto missing = client_->Get(kConfigMaps, "default", "a");
  EXPECT_THAT(missing, StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(missing.status().message(), "configmaps \"a\" not found (HTTP 404 NotFound)");
}

TEST_F(ClientTest, ListAllFollowsContinueTokensAndSelectors) {
  for (int i = 0; i < 7; ++i) {
    GF_ASSERT_OK(client_->Create(kConfigMaps, "default",
                                 ConfigMap("cm-" + std::to_string(i), {{"tier", i % 2 ? "gpu" : "cpu"}}))
                     .status());
  }
  GF_ASSERT_OK_AND_ASSIGN(json page, client_->List(kConfigMaps, "default", {.limit = 3}));
  EXPECT_EQ(page["items"].size(), 3u);
  EXPECT_FALSE(page["metadata"].value("continue", "").empty());
  GF_ASSERT_OK_AND_ASSIGN(json all, client_->ListAll(kConfigMaps, "default", {.limit = 3}));
  EXPECT_EQ(all["items"].size(), 7u);
  EXPECT_FALSE(all["metadata"].contains("continue"));
  GF_ASSERT_OK_AND_ASSIGN(json gpu, client_->ListAll(kConfigMaps, "default", {.label_selector = "tier in (gpu)", .limit = 2}));
  EXPECT_EQ(gpu["items"].size(), 3u);
}

TEST_F(ClientTest, PatchTypes) {
  GF_ASSERT_OK(client_->Create(kConfigMaps, "default", ConfigMap("p")).status());
  GF_ASSERT_OK_AND_ASSIGN(json merged, client_->Patch(kConfigMaps, "default", "p", PatchType::kMerge,
                                                      {{"data", {{"m", "1"}}}}));
  EXPECT_EQ(merged["data"], json({{"k", "v"}, {"m", "1"}}));
  GF_ASSERT_OK_AND_ASSIGN(json patched, client_->Patch(kConfigMaps, "default", "p", PatchType::kJsonPatch,
                                                       json::array({{{"op", "remove"}, {"path", "/data/k"}}})));
  EXPECT_EQ(patched["data"], json({{"m", "1"}}));
  EXPECT_THAT(client_->Patch(kConfigMaps, "default", "p", PatchType::kJsonPatch,
                             json::array({{{"op", "test"}, {"path", "/data/m"}, {"value", "2"}}})),
              StatusIs(StatusCode::kInvalidArgument));  // 422 Invalid
  json applied = {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "p"}}}, {"data", {{"a", "x"}}}};
  EXPECT_THAT(client_->Patch(kConfigMaps, "default", "p", PatchType::kApply, applied),
              StatusIs(StatusCode::kInvalidArgument));  // no field manager
  GF_ASSERT_OK_AND_ASSIGN(json owned, client_->Patch(kConfigMaps, "default", "p", PatchType::kApply, applied,
                                                     {.field_manager = "gpufleet"}));
  EXPECT_EQ(owned["data"]["a"], "x");
  json deployment = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"metadata", {{"name", "d"}}},
                     {"spec", {{"selector", {{"matchLabels", {{"app", "d"}}}}},
                               {"template", {{"metadata", {{"labels", {{"app", "d"}}}}},
                                             {"spec", {{"containers", {{{"name", "a"}, {"image", "x"}}}}}}}}}}};
  GF_ASSERT_OK(client_->Create(kDeployments, "default", deployment).status());
  json smp = {{"spec", {{"template", {{"spec", {{"containers", {{{"name", "b"}, {"image", "y"}}}}}}}}}}};
  GF_ASSERT_OK_AND_ASSIGN(json both, client_->Patch(kDeployments, "default", "d", PatchType::kStrategicMerge, smp));
  EXPECT_EQ(both["spec"]["template"]["spec"]["containers"].size(), 2u);  // merged by name
}

TEST_F(ClientTest, DeletePreconditionsAndBindingAndEviction) {
  GF_ASSERT_OK_AND_ASSIGN(json cm, client_->Create(kConfigMaps, "default", ConfigMap("d")));
  EXPECT_THAT(client_->Delete(kConfigMaps, "default", "d", {.precondition_uid = "not-the-uid"}),
              StatusIs(StatusCode::kAborted));
  GF_ASSERT_OK(client_->Delete(kConfigMaps, "default", "d", {.precondition_uid = cm["metadata"]["uid"]}).status());

  json pod = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "p"}}},
              {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
  GF_ASSERT_OK(client_->Create(kPods, "default", pod).status());
  GF_ASSERT_OK(client_->Bind("default", "p", "node-1"));
  EXPECT_THAT(client_->Bind("default", "p", "node-2"), StatusIs(StatusCode::kAborted));
  GF_ASSERT_OK_AND_ASSIGN(json bound, client_->Get(kPods, "default", "p"));
  EXPECT_EQ(bound["spec"]["nodeName"], "node-1");
  GF_ASSERT_OK(client_->Evict("default", "p", {.grace_period_seconds = 0}));
  EXPECT_THAT(client_->Get(kPods, "default", "p"), StatusIs(StatusCode::kNotFound));
}

TEST_F(ClientTest, WatchDeliversEventsFromAResourceVersion) {
  GF_ASSERT_OK_AND_ASSIGN(json first, client_->Create(kConfigMaps, "default", ConfigMap("w0")));
  std::string rv = first["metadata"]["resourceVersion"];
  std::thread writer([&] {
    client_->Create(kConfigMaps, "default", ConfigMap("w1")).status().IgnoreError();
    client_->Delete(kConfigMaps, "default", "w0").status().IgnoreError();
  });
  std::vector<std::pair<std::string, std::string>> seen;
  Status s = client_->Watch(kConfigMaps, "default", {.resource_version = rv, .timeout_seconds = 30},
                            [&](WatchEvent& e) {
                              seen.emplace_back(e.type, e.object["metadata"]["name"]);
                              return seen.size() < 2;
                            });
  writer.join();
  GF_ASSERT_OK(s);
  EXPECT_EQ(seen, (std::vector<std::pair<std::string, std::string>>{{"ADDED", "w1"}, {"DELETED", "w0"}}));
}

TEST_F(ClientTest, ExpiredWatchTellsTheCallerToRelist) {
  expire_watches_ = true;
  auto s = client_->Watch(kConfigMaps, "default", {.resource_version = "1"}, [](WatchEvent&) { return true; });
  EXPECT_THAT(s, StatusIs(StatusCode::kOutOfRange));
  EXPECT_NE(s.message().find("too old resource version"), std::string::npos);
}

TEST_F(ClientTest, RetryOnConflictRereadsAndWins) {
  GF_ASSERT_OK(client_->Create(kConfigMaps, "default", ConfigMap("r")).status());
  GF_ASSERT_OK_AND_ASSIGN(json stale, client_->Get(kConfigMaps, "default", "r"));
  std::atomic<int> attempts{0};
  core::FakeClock clock;
  std::thread advance([&] {  // the retry waits on the fake clock
    while (attempts < 2) {
      if (clock.Waiters() > 0) clock.Advance(std::chrono::milliseconds(100));
      std::this_thread::yield();
    }
  });
  Status s = RetryOnConflict(clock, [&]() -> Status {
    ++attempts;
    json obj = attempts == 1 ? stale : client_->Get(kConfigMaps, "default", "r").value();
    if (attempts == 1) {  // someone else writes between our read and our update
      GF_RETURN_IF_ERROR(client_->Patch(kConfigMaps, "default", "r", PatchType::kMerge,
                                        {{"data", {{"other", "1"}}}}).status());
    }
    obj["data"]["mine"] = "1";
    return client_->Update(kConfigMaps, "default", obj).status();
  });
  advance.join();
  GF_ASSERT_OK(s);
  EXPECT_EQ(attempts, 2);
  GF_ASSERT_OK_AND_ASSIGN(json final, client_->Get(kConfigMaps, "default", "r"));
  EXPECT_EQ(final["data"]["other"], "1");  // the other writer's change survived
  EXPECT_EQ(final["data"]["mine"], "1");
  // Other errors end it at once.
  int calls = 0;
  EXPECT_THAT(RetryOnConflict(clock, [&] { ++calls; return NotFoundError("x"); }), StatusIs(StatusCode::kNotFound));
  EXPECT_EQ(calls, 1);
}

TEST(ClientPath, BuildsKubernetesPaths) {
  EXPECT_EQ(Client::Path({"", "v1", "pods", true}, "default", "p", "status"), "/api/v1/namespaces/default/pods/p/status");
  EXPECT_EQ(Client::Path({"", "v1", "pods", true}, ""), "/api/v1/pods");  // all namespaces
  EXPECT_EQ(Client::Path({"karpenter.sh", "v1", "nodepools", false}, "ignored", "gpu"), "/apis/karpenter.sh/v1/nodepools/gpu");
  EXPECT_EQ(QueryEscape("tier in (gpu),app!=x"), "tier%20in%20%28gpu%29%2Capp%21%3Dx");
}

TEST(StatusFromResponse, MapsReasonsAndNonStatusBodies) {
  Response conflict{.status = 409, .body = R"({"kind":"Status","reason":"Conflict","message":"stale","code":409})"};
  EXPECT_THAT(StatusFromResponse(conflict), StatusIs(StatusCode::kAborted));
  Response exists{.status = 409, .body = R"({"kind":"Status","reason":"AlreadyExists","message":"x","code":409})"};
  EXPECT_THAT(StatusFromResponse(exists), StatusIs(StatusCode::kAlreadyExists));
  Response html{.status = 502, .body = "<html>bad gateway</html>"};
  Status s = StatusFromResponse(html);
  EXPECT_THAT(s, StatusIs(StatusCode::kInternal));
  EXPECT_NE(s.message().find("HTTP 502"), std::string::npos);
}

}  // namespace
}  // namespace gpufleet::kube
