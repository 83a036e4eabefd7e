#include "apiserver/api_handler.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "apiserver/sqlite_store.h"
#include "core/time_format.h"
#include "testing/status_matchers.h"

namespace gpufleet::apiserver {
namespace {

using json = nlohmann::json;

class ApiHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = std::filesystem::path(::testing::TempDir()) /
               ("api_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir);
    auto s = SqliteStore::Open({.path = (dir / "state.db").string()});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = std::move(s).value();
    registry_ = Registry::WithBuiltins();
    handler_ = std::make_unique<ApiHandler>(*store_, *registry_, clock_,
                                            ApiHandler::Options{"127.0.0.1:6443", 1800});
    ASSERT_TRUE(handler_->Bootstrap().ok());
  }

  HttpResponse Call(std::string method, std::string path, json body = nullptr,
                    std::string content_type = "application/json") {
    HttpRequest r;
    r.method = std::move(method);
    size_t q = path.find('?');
    r.path = path.substr(0, q);
    if (q != std::string::npos) r.query = ParseQuery(path.substr(q + 1));
    if (!body.is_null()) r.body = body.dump();
    r.headers["content-type"] = content_type;
    r.user = "test";
    return handler_->Handle(r);
  }
  json Body(const HttpResponse& r) { return json::parse(r.body); }

  core::FakeClock clock_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<ApiHandler> handler_;
};

json Pod(const std::string& name, json labels = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"labels", labels}}},
          {"spec", {{"containers", {{{"name", "c"}, {"image", "busybox"}}}}}}};
}

TEST_F(ApiHandlerTest, CreateSetsServerFieldsAndGetReturnsIt) {
  auto r = Call("POST", "/api/v1/namespaces/default/pods", Pod("nvidia-smi"));
  ASSERT_EQ(r.status, 201) << r.body;
  json pod = Body(r);
  EXPECT_EQ(pod["metadata"]["namespace"], "default");
  EXPECT_EQ(pod["metadata"]["uid"].get<std::string>().size(), 36u);
  EXPECT_EQ(pod["metadata"]["creationTimestamp"], "2026-01-01T00:00:00Z");
  EXPECT_EQ(pod["status"]["phase"], "Pending");
  auto got = Call("GET", "/api/v1/namespaces/default/pods/nvidia-smi");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(Body(got)["metadata"]["resourceVersion"], pod["metadata"]["resourceVersion"]);
}

TEST_F(ApiHandlerTest, KubernetesErrorsHaveReasonAndCode) {
  auto missing = Call("GET", "/api/v1/namespaces/default/pods/nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Body(missing)["reason"], "NotFound");
  EXPECT_EQ(Body(missing)["message"], "pods \"nope\" not found");
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/pods", Pod("a")).status, 201);
  auto dup = Call("POST", "/api/v1/namespaces/default/pods", Pod("a"));
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(Body(dup)["reason"], "AlreadyExists");
  auto bad_name = Call("POST", "/api/v1/namespaces/default/pods", Pod("Bad_Name"));
  EXPECT_EQ(bad_name.status, 422);
  EXPECT_EQ(Body(bad_name)["reason"], "Invalid");
  auto no_ns = Call("POST", "/api/v1/namespaces/nowhere/pods", Pod("a"));
  EXPECT_EQ(no_ns.status, 404);
  EXPECT_EQ(Body(no_ns)["message"], "namespaces \"nowhere\" not found");
  HttpRequest garbage;
  garbage.method = "POST";
  garbage.path = "/api/v1/namespaces/default/pods";
  garbage.body = "{not json";
  EXPECT_EQ(handler_->Handle(garbage).status, 400);
  EXPECT_EQ(Call("GET", "/apis/nope.io/v1/things").status, 404);
}

TEST_F(ApiHandlerTest, UpdateWithStaleVersionConflicts) {
  json pod = Body(Call("POST", "/api/v1/namespaces/default/pods", Pod("p")));
  json v1 = pod;
  v1["metadata"]["labels"]["x"] = "1";
  auto ok = Call("PUT", "/api/v1/namespaces/default/pods/p", v1);
  ASSERT_EQ(ok.status, 200) << ok.body;
  json stale = pod;
  stale["metadata"]["labels"]["x"] = "2";
  auto conflict = Call("PUT", "/api/v1/namespaces/default/pods/p", stale);
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(Body(conflict)["reason"], "Conflict");
}

TEST_F(ApiHandlerTest, MainEndpointIgnoresStatusAndStatusEndpointIgnoresSpec) {
  json pod = Body(Call("POST", "/api/v1/namespaces/default/pods", Pod("p")));
  pod["status"]["phase"] = "Running";
  pod.erase("metadata");
  EXPECT_EQ(Body(Call("PATCH", "/api/v1/namespaces/default/pods/p", {{"status", {{"phase", "Running"}}}},
                      "application/merge-patch+json"))["status"]["phase"],
            "Pending");
  json after = Body(Call("PATCH", "/api/v1/namespaces/default/pods/p/status",
                         {{"status", {{"phase", "Running"}}}, {"spec", {{"nodeName", "x"}}}},
                         "application/merge-patch+json"));
  EXPECT_EQ(after["status"]["phase"], "Running");
  EXPECT_FALSE(after["spec"].contains("nodeName"));
}

TEST_F(ApiHandlerTest, ListFiltersBySelectorsAndPages) {
  for (int i = 0; i < 5; ++i) {
    Call("POST", "/api/v1/namespaces/default/pods", Pod("p" + std::to_string(i), {{"gpu", i % 2 ? "yes" : "no"}}));
  }
  EXPECT_EQ(Body(Call("GET", "/api/v1/namespaces/default/pods?labelSelector=gpu%3Dyes"))["items"].size(), 2u);
  EXPECT_EQ(Body(Call("GET", "/api/v1/pods?fieldSelector=metadata.name%3Dp3"))["items"].size(), 1u);
  json page = Body(Call("GET", "/api/v1/namespaces/default/pods?limit=2"));
  ASSERT_EQ(page["items"].size(), 2u);
  std::string token = page["metadata"]["continue"];
  json rest = Body(Call("GET", "/api/v1/namespaces/default/pods?limit=10&continue=" + token));
  EXPECT_EQ(rest["items"].size(), 3u);
  EXPECT_EQ(rest["items"][0]["metadata"]["name"], "p2");
  EXPECT_EQ(Call("GET", "/api/v1/pods?labelSelector=a%20b").status, 400);
}

TEST_F(ApiHandlerTest, DeleteHonoursFinalizers) {
  json pod = Pod("f");
  pod["metadata"]["finalizers"] = {"example.com/hold"};
  Call("POST", "/api/v1/namespaces/default/pods", pod);
  json terminating = Body(Call("DELETE", "/api/v1/namespaces/default/pods/f"));
  EXPECT_TRUE(terminating["metadata"].contains("deletionTimestamp"));
  ASSERT_EQ(Call("GET", "/api/v1/namespaces/default/pods/f").status, 200);
  auto removed = Call("PATCH", "/api/v1/namespaces/default/pods/f", {{"metadata", {{"finalizers", nullptr}}}},
                      "application/merge-patch+json");
  EXPECT_EQ(removed.status, 200) << removed.body;
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/pods/f").status, 404);
}

TEST_F(ApiHandlerTest, JsonPatchTestFailureIsInvalid) {
  Call("POST", "/api/v1/namespaces/default/pods", Pod("j"));
  auto r = Call("PATCH", "/api/v1/namespaces/default/pods/j",
                json::array({{{"op", "test"}, {"path", "/metadata/name"}, {"value", "other"}}}),
                "application/json-patch+json");
  EXPECT_EQ(r.status, 422);
}

TEST_F(ApiHandlerTest, CrdServesItsKindImmediately) {
  json crd = {{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", "nodepools.karpenter.sh"}}},
              {"spec",
               {{"group", "karpenter.sh"},
                {"scope", "Cluster"},
                {"names", {{"plural", "nodepools"}, {"singular", "nodepool"}, {"kind", "NodePool"},
                           {"listKind", "NodePoolList"}, {"categories", {"karpenter"}}}},
                {"versions", {{{"name", "v1"}, {"served", true}, {"storage", true},
                               {"subresources", {{"status", json::object()}}},
                               {"schema", {{"openAPIV3Schema", {{"type", "object"}}}}}}}}}}};
  ASSERT_EQ(Call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).status, 201);
  json discovery = Body(Call("GET", "/apis/karpenter.sh/v1"));
  EXPECT_EQ(discovery["resources"][0]["name"], "nodepools");
  json np = {{"apiVersion", "karpenter.sh/v1"}, {"kind", "NodePool"}, {"metadata", {{"name", "gpu"}}},
             {"spec", {{"weight", 10}}}, {"status", {{"nodes", 3}}}};
  auto created = Call("POST", "/apis/karpenter.sh/v1/nodepools", np);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_FALSE(Body(created).contains("status"));  // status subresource: ignored on create
  EXPECT_EQ(Call("GET", "/apis/karpenter.sh/v1/nodepools/gpu").status, 200);
  auto smp = Call("PATCH", "/apis/karpenter.sh/v1/nodepools/gpu", {{"spec", {{"weight", 5}}}},
                  "application/strategic-merge-patch+json");
  EXPECT_EQ(smp.status, 415);
  ASSERT_EQ(Call("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/nodepools.karpenter.sh").status, 200);
  EXPECT_EQ(Call("GET", "/apis/karpenter.sh/v1/nodepools").status, 404);
}

TEST_F(ApiHandlerTest, BindingAssignsNodeOnce) {
  Call("POST", "/api/v1/namespaces/default/pods", Pod("b"));
  json binding = {{"apiVersion", "v1"}, {"kind", "Binding"}, {"metadata", {{"name", "b"}}},
                  {"target", {{"kind", "Node"}, {"name", "node-1"}}}};
  EXPECT_EQ(Call("POST", "/api/v1/namespaces/default/pods/b/binding", binding).status, 201);
  EXPECT_EQ(Body(Call("GET", "/api/v1/namespaces/default/pods/b"))["spec"]["nodeName"], "node-1");
  EXPECT_EQ(Call("POST", "/api/v1/namespaces/default/pods/b/binding", binding).status, 409);
}

TEST_F(ApiHandlerTest, WatchReplaysAndStreams) {
  json pod = Body(Call("POST", "/api/v1/namespaces/default/pods", Pod("w1")));
  std::string rv = pod["metadata"]["resourceVersion"];
  auto r = Call("GET", "/api/v1/namespaces/default/pods?watch=true&resourceVersion=0&timeoutSeconds=60");
  ASSERT_TRUE(r.stream);
  std::vector<json> events;
  StreamIo io{[&](std::string_view chunk) {
                events.push_back(json::parse(chunk));
                return true;
              },
              [&] { return events.size() >= 3; }};  // ends the stream; no timing involved
  std::thread writer([&] {
    Call("POST", "/api/v1/namespaces/default/pods", Pod("w2"));
    Call("DELETE", "/api/v1/namespaces/default/pods/w1");
  });
  r.stream(io);
  writer.join();
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events[0]["type"], "ADDED");
  EXPECT_EQ(events[0]["object"]["metadata"]["name"], "w1");
  EXPECT_EQ(events[1]["type"], "ADDED");
  EXPECT_EQ(events[2]["type"], "DELETED");
}

TEST_F(ApiHandlerTest, FilteredWatchTurnsSelectionChangesIntoAddedAndDeleted) {
  json pod = Body(Call("POST", "/api/v1/namespaces/default/pods", Pod("s1", {{"role", "gpu"}})));
  std::string rv = pod["metadata"]["resourceVersion"];
  auto r = Call("GET", "/api/v1/namespaces/default/pods?watch=1&labelSelector=role%3Dgpu&resourceVersion=" + rv);
  ASSERT_TRUE(r.stream);
  std::vector<json> events;
  StreamIo io{[&](std::string_view chunk) {
                events.push_back(json::parse(chunk));
                return true;
              },
              [&] { return events.size() >= 4; }};
  std::thread writer([&] {
    auto relabel = [&](const char* role) {
      Call("PATCH", "/api/v1/namespaces/default/pods/s1", {{"metadata", {{"labels", {{"role", role}}}}}},
           "application/merge-patch+json");
    };
    relabel("cpu");  // leaves the selection
    relabel("db");   // still outside: no event
    relabel("gpu");  // enters again
    Call("PATCH", "/api/v1/namespaces/default/pods/s1", {{"metadata", {{"annotations", {{"a", "b"}}}}}},
         "application/merge-patch+json");
    Call("DELETE", "/api/v1/namespaces/default/pods/s1");
  });
  r.stream(io);
  writer.join();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0]["type"], "DELETED");
  EXPECT_EQ(events[0]["object"]["metadata"]["labels"]["role"], "cpu");
  EXPECT_EQ(events[1]["type"], "ADDED");
  EXPECT_EQ(events[1]["object"]["metadata"]["labels"]["role"], "gpu");
  EXPECT_EQ(events[2]["type"], "MODIFIED");
  EXPECT_EQ(events[3]["type"], "DELETED");
}

TEST_F(ApiHandlerTest, ListBodyIsTheStoredObjectsVerbatim) {
  for (const char* name : {"l1", "l2", "l3"}) Call("POST", "/api/v1/namespaces/default/pods", Pod(name));
  json list = Body(Call("GET", "/api/v1/namespaces/default/pods"));
  EXPECT_EQ(list["kind"], "PodList");
  EXPECT_EQ(list["apiVersion"], "v1");
  ASSERT_EQ(list["items"].size(), 3u);
  for (const auto& item : list["items"]) {
    json got = Body(Call("GET", "/api/v1/namespaces/default/pods/" + item["metadata"]["name"].get<std::string>()));
    EXPECT_EQ(item, got);
  }
  EXPECT_EQ(Body(Call("GET", "/api/v1/namespaces/default/pods?limit=2"))["items"].size(), 2u);
  EXPECT_TRUE(Body(Call("GET", "/api/v1/namespaces/kube-system/pods"))["items"].empty());
}

TEST(HttpRequestTest, QueryFlagReadsGoBooleans) {
  HttpRequest r;
  r.query = ParseQuery("a=True&b=1&c=true&d=false&e=0&f=yes");
  EXPECT_TRUE(r.QueryFlag("a"));
  EXPECT_TRUE(r.QueryFlag("b"));
  EXPECT_TRUE(r.QueryFlag("c"));
  EXPECT_FALSE(r.QueryFlag("d"));
  EXPECT_FALSE(r.QueryFlag("e"));
  EXPECT_FALSE(r.QueryFlag("f"));
  EXPECT_FALSE(r.QueryFlag("missing"));
}

TEST_F(ApiHandlerTest, WatchFromTooOldVersionSendsExpired) {
  auto opened = SqliteStore::Open({.path = (std::filesystem::path(::testing::TempDir()) / "old.db").string(),
                                   .event_window = 1});
  ASSERT_TRUE(opened.ok());
  ApiHandler small(**opened, *registry_, clock_, {"x", 1});
  ASSERT_TRUE(small.Bootstrap().ok());
  HttpRequest r;
  r.method = "GET";
  r.path = "/api/v1/namespaces/default/pods";
  r.query = ParseQuery("watch=1&resourceVersion=1");
  auto resp = small.Handle(r);
  ASSERT_TRUE(resp.stream);
  json event;
  StreamIo io{[&](std::string_view c) { event = json::parse(c); return true; }, [] { return false; }};
  resp.stream(io);
  EXPECT_EQ(event["type"], "ERROR");
  EXPECT_EQ(event["object"]["code"], 410);
  EXPECT_EQ(event["object"]["reason"], "Expired");
}

TEST_F(ApiHandlerTest, DiscoveryListsBuiltinsAndSubresources) {
  json core_v1 = Body(Call("GET", "/api/v1"));
  bool pods = false, pods_status = false;
  for (const auto& r : core_v1["resources"]) {
    pods = pods || (r["name"] == "pods" && r["shortNames"][0] == "po");
    pods_status = pods_status || r["name"] == "pods/status";
  }
  EXPECT_TRUE(pods);
  EXPECT_TRUE(pods_status);
  EXPECT_EQ(Body(Call("GET", "/apis"))["kind"], "APIGroupList");
  // Workload and cluster kinds manifests for inference stacks use.
  for (const char* path : {"/apis/apps/v1/namespaces/default/statefulsets", "/apis/batch/v1/namespaces/default/jobs",
                           "/apis/node.k8s.io/v1/runtimeclasses", "/apis/scheduling.k8s.io/v1/priorityclasses",
                           "/api/v1/namespaces/default/persistentvolumeclaims"}) {
    EXPECT_EQ(Call("GET", path).status, 200) << path;
  }
  json rc = {{"apiVersion", "node.k8s.io/v1"}, {"kind", "RuntimeClass"}, {"metadata", {{"name", "nvidia"}}},
             {"handler", "nvidia"}};
  EXPECT_EQ(Call("POST", "/apis/node.k8s.io/v1/runtimeclasses", rc).status, 201);
  EXPECT_EQ(Body(Call("GET", "/version"))["major"], "1");
  EXPECT_TRUE(Body(Call("GET", "/openapi/v3"))["paths"].contains("apis/apps/v1"));
}

TEST_F(ApiHandlerTest, AggregatedDiscoveryDescribesEveryResourceInOneResponse) {
  HttpRequest r;
  r.method = "GET";
  r.path = "/apis";
  r.user = "test";
  // What kubectl 1.32 sends.
  r.headers["accept"] =
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
      "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
  HttpResponse apis = handler_->Handle(r);
  EXPECT_EQ(apis.content_type, "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
  json list = Body(apis);
  EXPECT_EQ(list["kind"], "APIGroupDiscoveryList");
  EXPECT_EQ(list["apiVersion"], "apidiscovery.k8s.io/v2");
  json deployments;
  for (const auto& group : list["items"]) {
    EXPECT_NE(group["metadata"].value("name", ""), "");  // the core group is only under /api
    if (group["metadata"]["name"] != "apps") continue;
    for (const auto& res : group["versions"][0]["resources"]) {
      if (res["resource"] == "deployments") deployments = res;
    }
  }
  ASSERT_TRUE(deployments.is_object());
  EXPECT_EQ(deployments["scope"], "Namespaced");
  EXPECT_EQ(deployments["responseKind"], json({{"group", "apps"}, {"version", "v1"}, {"kind", "Deployment"}}));
  EXPECT_EQ(deployments["shortNames"], json({"deploy"}));
  json scale;
  for (const auto& sub : deployments["subresources"]) {
    if (sub["subresource"] == "scale") scale = sub;
  }
  EXPECT_EQ(scale["responseKind"], json({{"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"}}));

  r.path = "/api";
  r.headers["accept"] = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";
  json core = Body(handler_->Handle(r));
  EXPECT_EQ(core["apiVersion"], "apidiscovery.k8s.io/v2beta1");
  ASSERT_EQ(core["items"].size(), 1u);
  EXPECT_EQ(core["items"][0]["versions"][0]["version"], "v1");
  bool eviction = false;
  for (const auto& res : core["items"][0]["versions"][0]["resources"]) {
    if (res["resource"] != "pods") continue;
    for (const auto& sub : res["subresources"]) {
      eviction = eviction || (sub["subresource"] == "eviction" && sub["responseKind"]["group"] == "policy");
    }
  }
  EXPECT_TRUE(eviction);
  // Without the media type parameters, the plain forms.
  r.headers["accept"] = "application/json";
  EXPECT_EQ(Body(handler_->Handle(r))["kind"], "APIVersions");
}

TEST_F(ApiHandlerTest, PreferredVersionFollowsKubernetesVersionPriority) {
  json versions = json::array();
  for (const char* v : {"v1alpha1", "v1", "v2beta1", "v1beta1"}) {
    versions.push_back({{"name", v}, {"served", true}, {"storage", std::string(v) == "v1"},
                        {"schema", {{"openAPIV3Schema", {{"type", "object"}}}}}});
  }
  json crd = {{"apiVersion", "apiextensions.k8s.io/v1"},
              {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", "widgets.example.com"}}},
              {"spec", {{"group", "example.com"}, {"scope", "Namespaced"},
                        {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}}},
                        {"versions", versions}}}};
  ASSERT_EQ(Call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd).status, 201);
  json group = Body(Call("GET", "/apis/example.com"));
  EXPECT_EQ(group["preferredVersion"]["version"], "v1");
  std::vector<std::string> order;
  for (const auto& v : group["versions"]) order.push_back(v["version"]);
  EXPECT_EQ(order, (std::vector<std::string>{"v1", "v2beta1", "v1beta1", "v1alpha1"}));
}

TEST_F(ApiHandlerTest, DeletingARunningPodWaitsForItsGracePeriod) {
  Call("POST", "/api/v1/namespaces/default/pods", Pod("g"));
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/default/pods/g/binding", {{"target", {{"name", "node-1"}}}}).status, 201);
  json terminating = Body(Call("DELETE", "/api/v1/namespaces/default/pods/g"));
  EXPECT_EQ(terminating["metadata"]["deletionGracePeriodSeconds"], 30);  // the default
  EXPECT_EQ(terminating["metadata"]["deletionTimestamp"], core::FormatRfc3339(clock_.Now() + std::chrono::seconds(30)));
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/pods/g").status, 200);  // the kubelet finishes it
  // A second delete may shorten the grace period, never extend it.
  json shorter = Body(Call("DELETE", "/api/v1/namespaces/default/pods/g?gracePeriodSeconds=5"));
  EXPECT_EQ(shorter["metadata"]["deletionGracePeriodSeconds"], 5);
  json same = Body(Call("DELETE", "/api/v1/namespaces/default/pods/g", {{"gracePeriodSeconds", 60}}));
  EXPECT_EQ(same["metadata"]["deletionGracePeriodSeconds"], 5);
  // What the kubelet (or kubectl delete --force --grace-period=0) sends last.
  EXPECT_EQ(Call("DELETE", "/api/v1/namespaces/default/pods/g", {{"gracePeriodSeconds", 0}}).status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/pods/g").status, 404);
  // Unscheduled pods have no kubelet to wait for.
  Call("POST", "/api/v1/namespaces/default/pods", Pod("u"));
  Call("DELETE", "/api/v1/namespaces/default/pods/u");
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/pods/u").status, 404);
}

TEST_F(ApiHandlerTest, EvictionHonoursPodDisruptionBudget) {
  json pdb = {{"apiVersion", "policy/v1"}, {"kind", "PodDisruptionBudget"},
              {"metadata", {{"name", "web"}}},
              {"spec", {{"minAvailable", 2}, {"selector", {{"matchLabels", {{"app", "web"}}}}}}}};
  ASSERT_EQ(Call("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets", pdb).status, 201);
  auto run = [&](const std::string& name) {
    Call("POST", "/api/v1/namespaces/default/pods", Pod(name, {{"app", "web"}}));
    Call("POST", "/api/v1/namespaces/default/pods/" + name + "/binding", {{"target", {{"name", "node-1"}}}});
    Call("PATCH", "/api/v1/namespaces/default/pods/" + name + "/status",
         {{"status", {{"phase", "Running"}, {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}},
         "application/merge-patch+json");
  };
  run("web-1");
  run("web-2");
  json eviction = {{"apiVersion", "policy/v1"}, {"kind", "Eviction"}, {"metadata", {{"name", "web-1"}}},
                   {"deleteOptions", {{"gracePeriodSeconds", 0}}}};
  auto refused = Call("POST", "/api/v1/namespaces/default/pods/web-1/eviction", eviction);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(Body(refused)["reason"], "TooManyRequests");
  EXPECT_EQ(Body(refused)["details"]["causes"][0]["reason"], "DisruptionBudget");
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/pods/web-1").status, 200);
  run("web-3");
  EXPECT_EQ(Call("POST", "/api/v1/namespaces/default/pods/web-1/eviction", eviction).status, 201);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/default/pods/web-1").status, 404);
  // Pods that are not running are evicted without consulting the budget.
  Call("POST", "/api/v1/namespaces/default/pods", Pod("web-pending", {{"app", "web"}}));
  EXPECT_EQ(Call("POST", "/api/v1/namespaces/default/pods/web-pending/eviction", eviction).status, 201);
}

TEST_F(ApiHandlerTest, SecretTypeDefaultsToOpaque) {
  json secret = {{"apiVersion", "v1"}, {"kind", "Secret"}, {"metadata", {{"name", "s"}}},
                 {"data", {{"k", "dg=="}}}};
  EXPECT_EQ(Body(Call("POST", "/api/v1/namespaces/default/secrets", secret))["type"], "Opaque");
  secret["metadata"]["name"] = "t";
  secret["type"] = "kubernetes.io/tls";
  EXPECT_EQ(Body(Call("POST", "/api/v1/namespaces/default/secrets", secret))["type"], "kubernetes.io/tls");
}

TEST_F(ApiHandlerTest, DeletingNamespaceDeletesItsObjects) {
  json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", "team"}}}};
  ASSERT_EQ(Call("POST", "/api/v1/namespaces", ns).status, 201);
  ASSERT_EQ(Call("POST", "/api/v1/namespaces/team/pods", Pod("x")).status, 201);
  ASSERT_EQ(Call("DELETE", "/api/v1/namespaces/team").status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/team/pods/x").status, 404);
  EXPECT_EQ(Call("GET", "/api/v1/namespaces/team").status, 404);
}

}  // namespace
}  // namespace gpufleet::apiserver
