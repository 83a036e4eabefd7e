#include "apiserver/table.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/registry.h"
#include "core/time_format.h"
#include "testing/status_matchers.h"

namespace gpufleet::apiserver {
namespace {

using ::gpufleet::testing::StatusIs;
using json = nlohmann::json;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

core::TimePoint At(std::string_view text) { return core::ParseRfc3339(text).value(); }
const core::TimePoint kNow = At("2026-01-01T01:00:00Z");

ResourceInfo Builtin(std::string_view group, std::string_view kind) {
  for (const ResourceInfo& r : BuiltinResources()) {
    if (r.group == group && r.kind == kind) return r;
  }
  ADD_FAILURE() << "no built-in " << group << "/" << kind;
  return {};
}

json MakeTable(const ResourceInfo& info, const std::vector<json>& objects, TableOptions opts = {}) {
  opts.now = kNow;
  std::vector<const json*> ptrs;
  for (const json& o : objects) ptrs.push_back(&o);
  return ToTable(info, ptrs, opts);
}

// Cells of every row.
std::vector<json> Rows(const json& table) {
  std::vector<json> rows;
  for (const json& r : table["rows"]) rows.push_back(r["cells"]);
  return rows;
}

std::vector<std::string> ColumnNames(const json& table) {
  std::vector<std::string> names;
  for (const json& c : table["columnDefinitions"]) names.push_back(c["name"]);
  return names;
}

std::vector<int> Priorities(const json& table) {
  std::vector<int> p;
  for (const json& c : table["columnDefinitions"]) p.push_back(c["priority"]);
  return p;
}

// k8s.io/apimachinery/pkg/util/duration TestHumanDuration and TestHumanDurationBoundaries.
TEST(HumanDuration, UpstreamTable) {
  struct Case {
    core::Duration d;
    const char* want;
  } cases[] = {
      {seconds(1), "1s"},
      {seconds(70), "70s"},
      {seconds(190), "3m10s"},
      {minutes(70), "70m"},
      {hours(47), "47h"},
      {hours(49), "2d1h"},
      {hours(8 * 24 + 2), "8d"},
      {hours(367 * 24), "367d"},
      {hours(365 * 2 * 24 + 25), "2y1d"},
      {hours(365 * 8 * 24 + 2), "8y"},
      {seconds(-2), "<invalid>"},
      {seconds(-2) + core::Duration(1), "0s"},
      {core::Duration(0), "0s"},
      {seconds(1) - milliseconds(1), "0s"},
      {minutes(2) - milliseconds(1), "119s"},
      {minutes(2), "2m"},
      {minutes(2) + seconds(1), "2m1s"},
      {minutes(10) - milliseconds(1), "9m59s"},
      {minutes(10), "10m"},
      {minutes(10) + seconds(1), "10m"},
      {hours(3) - milliseconds(1), "179m"},
      {hours(3), "3h"},
      {hours(3) + minutes(1), "3h1m"},
      {hours(8) - milliseconds(1), "7h59m"},
      {hours(8), "8h"},
      {hours(8) + minutes(59), "8h"},
      {hours(48) - milliseconds(1), "47h"},
      {hours(48), "2d"},
      {hours(49), "2d1h"},
      {hours(8 * 24) - milliseconds(1), "7d23h"},
      {hours(8 * 24), "8d"},
      {hours(8 * 24 + 23), "8d"},
      {hours(2 * 365 * 24) - milliseconds(1), "729d"},
      {hours(2 * 365 * 24), "2y"},
      {hours(2 * 365 * 24 + 23) + minutes(59), "2y"},
      {hours(2 * 365 * 24 + 24) - milliseconds(1), "2y"},
      {hours(2 * 365 * 24 + 24), "2y1d"},
      {hours(3 * 365 * 24), "3y"},
      {hours(7 * 365 * 24), "7y"},
      {hours(8 * 365 * 24) - milliseconds(1), "7y364d"},
      {hours(8 * 365 * 24), "8y"},
      {hours(8 * 365 * 24 + 364 * 24), "8y"},
      {hours(9 * 365 * 24), "9y"},
  };
  for (const Case& c : cases) EXPECT_EQ(HumanDuration(c.d), c.want) << c.d.count() << "ns";
}

TEST(TableIncludeObject, ParsesQueryParameter) {
  EXPECT_EQ(ParseIncludeObject("").value(), IncludeObject::kMetadata);
  EXPECT_EQ(ParseIncludeObject("Metadata").value(), IncludeObject::kMetadata);
  EXPECT_EQ(ParseIncludeObject("Object").value(), IncludeObject::kObject);
  EXPECT_EQ(ParseIncludeObject("None").value(), IncludeObject::kNone);
  EXPECT_THAT(ParseIncludeObject("object"),
              StatusIs(StatusCode::kInvalidArgument,
                       ::testing::HasSubstr("unrecognized includeObject value: \"object\"")));
}

json Pod(std::string name, json status, json spec = json::object(), json extra_meta = {}) {
  if (!spec.contains("containers")) spec["containers"] = json::parse(R"([{"name": "app"}])");
  json meta = {
      {"name", name}, {"namespace", "default"}, {"creationTimestamp", "2026-01-01T00:55:00Z"}};
  if (extra_meta.is_object()) meta.update(extra_meta);
  return {{"metadata", meta}, {"spec", spec}, {"status", status}};
}

TEST(TablePod, ColumnsAndStatuses) {
  const json running_status = json::parse(R"({"phase": "Running", "podIP": "10.0.0.5",
    "conditions": [{"type": "Ready", "status": "True"}],
    "containerStatuses": [{"name": "app", "ready": true, "restartCount": 0,
                           "state": {"running": {"startedAt": "2026-01-01T00:56:00Z"}}}]})");
  std::vector<json> pods = {
      Pod("web", running_status, {{"nodeName", "node-a"}}),
      Pod("pending", {{"phase", "Pending"}}),
      Pod("creating", json::parse(R"({"phase": "Pending", "containerStatuses": [{"name": "app",
        "ready": false, "restartCount": 0,
        "state": {"waiting": {"reason": "ContainerCreating"}}}]})")),
      Pod("terminating", running_status, {}, {{"deletionTimestamp", "2026-01-01T00:59:00Z"}}),
      Pod("crash", json::parse(R"({"phase": "Running", "containerStatuses": [{"name": "app",
        "ready": false, "restartCount": 5, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                     "finishedAt": "2026-01-01T00:55:00Z"}}}]})")),
      Pod("done", json::parse(R"({"phase": "Succeeded", "containerStatuses": [{"name": "app",
        "ready": false, "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]})")),
      Pod("oom", json::parse(R"({"phase": "Running", "containerStatuses": [{"name": "app",
        "state": {"terminated": {"exitCode": 137, "signal": 9}}}]})")),
      Pod("init", json::parse(R"({"phase": "Pending", "initContainerStatuses": [{"name": "init",
        "state": {"running": {}}}], "containerStatuses": [{"name": "app",
        "state": {"waiting": {"reason": "PodInitializing"}}}]})"),
          json::parse(R"({"initContainers": [{"name": "init"}]})")),
      Pod("sidecar", json::parse(R"({"phase": "Running", "conditions": [
          {"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"},
          {"type": "example.com/gate", "status": "True"}],
        "initContainerStatuses": [{"name": "proxy", "started": true, "ready": true,
          "restartCount": 2, "state": {"running": {}},
          "lastState": {"terminated": {"finishedAt": "2026-01-01T00:58:00Z"}}}],
        "containerStatuses": [{"name": "app", "ready": true, "state": {"running": {}}}]})"),
          json::parse(R"({"initContainers": [{"name": "proxy", "restartPolicy": "Always"}],
            "readinessGates": [{"conditionType": "example.com/gate"},
                               {"conditionType": "example.com/other"}]})")),
      Pod("lost", running_status, {}, {{"deletionTimestamp", "2026-01-01T00:59:00Z"}}),
  };
  pods.back()["status"]["reason"] = "NodeLost";
  const json table = MakeTable(Builtin("", "Pod"), pods);
  EXPECT_THAT(ColumnNames(table),
              ::testing::ElementsAre("Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                     "Nominated Node", "Readiness Gates"));
  EXPECT_THAT(Priorities(table), ::testing::ElementsAre(0, 0, 0, 0, 0, 1, 1, 1, 1));
  EXPECT_EQ(table["columnDefinitions"][0]["format"], "name");
  EXPECT_EQ(table["columnDefinitions"][3]["type"], "string");
  const auto rows = Rows(table);
  ASSERT_EQ(rows.size(), pods.size());
  EXPECT_EQ(rows[0], json::parse(R"(["web", "1/1", "Running", "0", "5m", "10.0.0.5", "node-a",
                                     "<none>", "<none>"])"));
  EXPECT_EQ(rows[1], json::parse(R"(["pending", "0/1", "Pending", "0", "5m", "<none>",
                                     "<none>", "<none>", "<none>"])"));
  EXPECT_EQ(rows[2][2], "ContainerCreating");
  EXPECT_EQ(rows[3][1], "1/1");
  EXPECT_EQ(rows[3][2], "Terminating");
  EXPECT_EQ(rows[4][1], "0/1");
  EXPECT_EQ(rows[4][2], "CrashLoopBackOff");
  EXPECT_EQ(rows[4][3], "5 (5m ago)");
  EXPECT_EQ(rows[5][2], "Completed");
  EXPECT_EQ(table["rows"][5]["conditions"],
            json::parse(R"([{"type": "Completed", "status": "True", "reason": "Succeeded",
                             "message": "The pod has completed successfully."}])"));
  EXPECT_FALSE(table["rows"][0].contains("conditions"));
  EXPECT_EQ(rows[6][2], "Signal:9");
  EXPECT_EQ(rows[7][1], "0/1");
  EXPECT_EQ(rows[7][2], "Init:0/1");
  EXPECT_EQ(rows[8][1], "2/2");  // a sidecar (restartPolicy Always) counts as a container
  EXPECT_EQ(rows[8][2], "Running");
  EXPECT_EQ(rows[8][3], "2 (2m ago)");
  EXPECT_EQ(rows[8][8], "1/2");
  EXPECT_EQ(rows[9][2], "Unknown");
}

json Node(std::string name, json labels, json status, bool unschedulable = false) {
  return {{"metadata",
           {{"name", name}, {"labels", labels}, {"creationTimestamp", "2025-12-29T23:00:00Z"}}},
          {"spec", {{"unschedulable", unschedulable}}},
          {"status", status}};
}

TEST(TableNode, StatusRolesAndWideColumns) {
  const json ready = json::parse(R"({"conditions": [{"type": "MemoryPressure", "status": "False"},
      {"type": "Ready", "status": "True"}],
    "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}, {"type": "Hostname",
                   "address": "n1"}],
    "nodeInfo": {"kubeletVersion": "v1.32.0", "osImage": "Ubuntu 22.04", "kernelVersion": "6.1",
                 "containerRuntimeVersion": "containerd://1.7"}})");
  const json table = MakeTable(
      Builtin("", "Node"),
      {Node("n1", {{"node-role.kubernetes.io/control-plane", ""}, {"kubernetes.io/hostname", "n1"}},
            ready),
       Node("n2", {{"kubernetes.io/role", "gpu"}, {"node-role.kubernetes.io/worker", ""}},
            json::parse(R"({"conditions": [{"type": "Ready", "status": "Unknown"}]})")),
       Node("n3", json::object(), ready, true), Node("n4", json::object(), json::object())});
  EXPECT_THAT(
      ColumnNames(table),
      ::testing::ElementsAre("Name", "Status", "Roles", "Age", "Version", "Internal-IP",
                             "External-IP", "OS-Image", "Kernel-Version", "Container-Runtime"));
  EXPECT_THAT(Priorities(table), ::testing::ElementsAre(0, 0, 0, 0, 0, 1, 1, 1, 1, 1));
  const auto rows = Rows(table);
  EXPECT_EQ(rows[0], json::parse(R"(["n1", "Ready", "control-plane", "2d2h", "v1.32.0",
    "10.0.0.1", "<none>", "Ubuntu 22.04", "6.1", "containerd://1.7"])"));
  EXPECT_EQ(rows[1], json::parse(R"(["n2", "NotReady", "gpu,worker", "2d2h", "", "<none>",
    "<none>", "<unknown>", "<unknown>", "<unknown>"])"));
  EXPECT_EQ(rows[2][1], "Ready,SchedulingDisabled");
  EXPECT_EQ(rows[2][2], "<none>");
  EXPECT_EQ(rows[3][1], "Unknown");
}

TEST(TableDaemonSet, Counts) {
  const json ds = json::parse(R"({"metadata": {"name": "dcgm", "creationTimestamp":
      "2026-01-01T00:00:00Z"},
    "spec": {"selector": {"matchLabels": {"app": "dcgm"}}, "template": {"spec": {
      "nodeSelector": {"nvidia.com/gpu.present": "true"},
      "containers": [{"name": "dcgm", "image": "nvcr.io/dcgm:3"},
                     {"name": "exporter", "image": "nvcr.io/exporter:3"}]}}},
    "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2,
               "updatedNumberScheduled": 3, "numberAvailable": 2}})");
  const json table = MakeTable(Builtin("apps", "DaemonSet"), {ds, json::object()});
  EXPECT_THAT(
      ColumnNames(table),
      ::testing::ElementsAre("Name", "Desired", "Current", "Ready", "Up-to-date", "Available",
                             "Node Selector", "Age", "Containers", "Images", "Selector"));
  EXPECT_THAT(Priorities(table), ::testing::ElementsAre(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1));
  EXPECT_EQ(table["columnDefinitions"][1]["type"], "integer");
  const auto rows = Rows(table);
  EXPECT_EQ(rows[0], json::parse(R"(["dcgm", 3, 3, 2, 3, 2, "nvidia.com/gpu.present=true", "60m",
    "dcgm,exporter", "nvcr.io/dcgm:3,nvcr.io/exporter:3", "app=dcgm"])"));
  EXPECT_EQ(rows[1], json::parse(R"(["", 0, 0, 0, 0, 0, "<none>", "<unknown>", "", "",
                                     "<none>"])"));
}

// Karpenter's NodePool (kubernetes-sigs/karpenter pkg/apis/crds/karpenter.sh_nodepools.yaml, v1).
const char* kNodePoolCrd = R"({"apiVersion": "apiextensions.k8s.io/v1",
  "kind": "CustomResourceDefinition", "metadata": {"name": "nodepools.karpenter.sh"},
  "spec": {"group": "karpenter.sh", "scope": "Cluster",
    "names": {"kind": "NodePool", "listKind": "NodePoolList", "plural": "nodepools",
              "singular": "nodepool", "categories": ["karpenter"]},
    "versions": [{"name": "v1", "served": true, "storage": true, "subresources": {"status": {}},
      "additionalPrinterColumns": [
        {"jsonPath": ".spec.template.spec.nodeClassRef.name", "name": "NodeClass",
         "type": "string"},
        {"jsonPath": ".status.resources.nodes", "name": "Nodes", "type": "string"},
        {"jsonPath": ".status.conditions[?(@.type==\"Ready\")].status", "name": "Ready",
         "type": "string"},
        {"jsonPath": ".metadata.creationTimestamp", "name": "Age", "type": "date"},
        {"jsonPath": ".spec.weight", "name": "Weight", "priority": 1, "type": "integer",
         "format": "int32"},
        {"jsonPath": ".status.resources.cpu", "name": "CPU", "priority": 1, "type": "string"},
        {"jsonPath": ".status.resources.memory", "name": "Memory", "priority": 1,
         "type": "string"}]}]}})";

TEST(TableCrd, KarpenterNodePoolColumns) {
  auto infos = Registry::FromCrd(json::parse(kNodePoolCrd));
  ASSERT_TRUE(infos.ok()) << infos.status();
  const ResourceInfo& info = infos->at(0);
  const json gpu = json::parse(R"({"apiVersion": "karpenter.sh/v1", "kind": "NodePool",
    "metadata": {"name": "gpu", "creationTimestamp": "2025-12-31T01:00:00Z"},
    "spec": {"weight": 10, "template": {"spec": {"nodeClassRef": {"group": "karpenter.k8s.aws",
      "kind": "EC2NodeClass", "name": "default"}}}},
    "status": {"resources": {"cpu": "96", "memory": "384Gi", "nodes": "3"},
      "conditions": [{"type": "NodeClassReady", "status": "True"},
                     {"type": "Ready", "status": "True"}]}})");
  const json fresh = json::parse(R"({"metadata": {"name": "fresh",
    "creationTimestamp": "2026-01-01T00:59:30Z"},
    "spec": {"template": {"spec": {"nodeClassRef": {"name": "default"}}}}})");
  const json table = MakeTable(info, {gpu, fresh});
  EXPECT_THAT(ColumnNames(table), ::testing::ElementsAre("Name", "NodeClass", "Nodes", "Ready",
                                                         "Age", "Weight", "CPU", "Memory"));
  EXPECT_THAT(Priorities(table), ::testing::ElementsAre(0, 0, 0, 0, 0, 1, 1, 1));
  EXPECT_EQ(table["columnDefinitions"][0],
            json({{"name", "Name"},
                  {"type", "string"},
                  {"format", "name"},
                  {"description", table["columnDefinitions"][0]["description"]},
                  {"priority", 0}}));
  EXPECT_EQ(table["columnDefinitions"][4]["type"], "date");
  EXPECT_EQ(table["columnDefinitions"][5]["format"], "int32");  // the CRD's format is passed on
  EXPECT_EQ(table["columnDefinitions"][1]["description"],
            "Custom resource definition column (in JSONPath format): "
            ".spec.template.spec.nodeClassRef.name");
  const auto rows = Rows(table);
  EXPECT_EQ(rows[0], json::parse(R"(["gpu", "default", "3", "True", "24h", 10, "96", "384Gi"])"));
  EXPECT_EQ(rows[1], json::parse(R"(["fresh", "default", null, null, "30s", null, null, null])"));
}

TEST(TableCrd, CellTypesFollowTheApiextensionsConvertor) {
  ResourceInfo info;
  info.group = "example.com";
  info.version = "v1";
  info.kind = "Widget";
  info.from_crd = true;
  info.columns = {{"Replicas", "integer", ".spec.replicas", "", 0},
                  {"Ratio", "number", ".spec.ratio", "", 0},
                  {"Enabled", "boolean", ".spec.enabled", "described", 0},
                  {"Bad", "date", ".spec.bad", "", 0},
                  {"Zero", "date", ".spec.zero", "", 0},
                  {"Future", "date", ".spec.future", "", 0},
                  {"Null", "string", ".spec.nothing", "", 0},
                  {"Map", "string", ".spec.labels", "", 0},
                  {"First", "string", ".spec.list[*]", "", 0},
                  {"Broken", "string", ".spec[", "", 0},
                  {"WrongType", "integer", ".spec.name", "", 0},
                  {"Number", "string", ".spec.ratio", "", 0}};
  const json w = json::parse(R"({"metadata": {"name": "w"}, "spec": {"replicas": 2.9,
    "ratio": 1, "enabled": true, "bad": "yesterday", "zero": "0001-01-01T00:00:00Z",
    "future": "2026-01-01T02:00:00Z", "nothing": null, "labels": {"b": "2", "a": "<1>"},
    "list": ["x", "y"], "name": "n"}})");
  const json table = MakeTable(info, {w});
  EXPECT_EQ(table["columnDefinitions"][3]["description"], "described");
  EXPECT_EQ(Rows(table)[0],
            json::parse(R"(["w", 2, 1.0, true, "<invalid>", "<unknown>", "<invalid>",
              "<no value>", "{\"a\":\"\\u003c1\\u003e\",\"b\":\"2\"}", "x", null, null, "1"])"));
}

TEST(TableCrd, DefaultAgeColumnWithoutPrinterColumns) {
  json crd = json::parse(kNodePoolCrd);
  crd["spec"]["versions"][0].erase("additionalPrinterColumns");
  auto infos = Registry::FromCrd(crd);
  ASSERT_TRUE(infos.ok());
  const json table = MakeTable(
      infos->at(0),
      {json::parse(R"({"metadata": {"name": "a", "creationTimestamp": "2026-01-01T00:00:00Z"}})")});
  EXPECT_THAT(ColumnNames(table), ::testing::ElementsAre("Name", "Age"));
  EXPECT_EQ(Rows(table)[0], json::parse(R"(["a", "60m"])"));
}

TEST(TableDefault, NameAndCreatedAtForKindsWithoutPrinter) {
  const json table = MakeTable(Builtin("rbac.authorization.k8s.io", "Role"),
                               {json::parse(R"({"metadata": {"name": "reader",
         "creationTimestamp": "2026-01-01T01:00:00.5+01:00"}})"),
                                json::parse(R"({"metadata": {"name": "old"}})")});
  EXPECT_THAT(ColumnNames(table), ::testing::ElementsAre("Name", "Created At"));
  EXPECT_EQ(table["columnDefinitions"][1]["type"], "date");
  EXPECT_EQ(Rows(table)[0], json::parse(R"(["reader", "2026-01-01T00:00:00Z"])"));
  EXPECT_EQ(Rows(table)[1], json::parse(R"(["old", "0001-01-01T00:00:00Z"])"));
}

TEST(TableEnvelope, MetadataIncludeObjectAndHeaders) {
  const json pod = Pod("web", {{"phase", "Running"}});
  TableOptions opts;
  opts.resource_version = "42";
  opts.continue_token = "abc";
  opts.remaining_item_count = 5;
  json table = MakeTable(Builtin("", "Pod"), {pod}, opts);
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1");
  EXPECT_EQ(table["metadata"],
            json({{"resourceVersion", "42"}, {"continue", "abc"}, {"remainingItemCount", 5}}));
  EXPECT_EQ(table["rows"][0]["object"], json({{"kind", "PartialObjectMetadata"},
                                              {"apiVersion", "meta.k8s.io/v1"},
                                              {"metadata", pod["metadata"]}}));
  opts = {};
  opts.include_object = IncludeObject::kObject;
  EXPECT_EQ(MakeTable(Builtin("", "Pod"), {pod}, opts)["rows"][0]["object"], pod);
  opts.include_object = IncludeObject::kNone;
  opts.no_headers = true;
  opts.version = "v1beta1";
  table = MakeTable(Builtin("", "Pod"), {pod}, opts);
  EXPECT_TRUE(table["rows"][0]["object"].is_null());
  EXPECT_TRUE(table["columnDefinitions"].is_null());
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1beta1");
  EXPECT_EQ(table["metadata"], json::object());
  table = MakeTable(Builtin("", "Pod"), {json::parse(R"({"metadata": {"name": "x"}})")});
  EXPECT_EQ(table["rows"][0]["object"]["metadata"],
            json({{"name", "x"}, {"creationTimestamp", nullptr}}));
  EXPECT_EQ(MakeTable(Builtin("", "Pod"), {})["rows"], json::array());
}

TEST(TableBuiltin, ServicesDeploymentsEventsAndOthers) {
  auto row = [](std::string_view group, std::string_view kind, const char* obj) {
    return Rows(MakeTable(Builtin(group, kind), {json::parse(obj)}))[0];
  };
  EXPECT_EQ(row("", "Service", R"({"metadata": {"name": "web"}, "spec": {"type": "LoadBalancer",
      "clusterIP": "10.96.0.10", "selector": {"app": "web"}, "ports": [
        {"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 443, "nodePort": 30443}]},
      "status": {"loadBalancer": {}}})"),
            json::parse(R"(["web", "LoadBalancer", "10.96.0.10", "<pending>",
                            "80:30080/TCP,443:30443/TCP", "<unknown>", "app=web"])"));
  EXPECT_EQ(row("", "Service", R"({"metadata": {"name": "h"}, "spec": {"clusterIP": "None"}})"),
            json::parse(R"(["h", "ClusterIP", "None", "<none>", "<none>", "<unknown>",
                            "<none>"])"));
  EXPECT_EQ(row("", "Service", R"({"spec": {"type": "LoadBalancer", "externalIPs": ["5.6.7.8"]},
      "status": {"loadBalancer": {"ingress": [{"hostname": "b.elb"}, {"ip": "1.2.3.4"}]}}})")[3],
            "1.2.3.4,b.elb,5.6.7.8");
  EXPECT_EQ(row("", "Service", R"({"spec": {"type": "ExternalName",
      "externalName": "db.example.com"}})")[3],
            "db.example.com");
  EXPECT_EQ(row("apps", "Deployment", R"({"metadata": {"name": "web"}, "spec": {"replicas": 3,
      "selector": {"matchLabels": {"app": "web"}}, "template": {"spec": {"containers": [
        {"name": "app", "image": "nginx:1.27"}]}}},
      "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}})"),
            json::parse(R"(["web", "2/3", 3, 2, "<unknown>", "app", "nginx:1.27", "app=web"])"));
  EXPECT_EQ(row("apps", "Deployment", "{}")[1], "0/1");
  EXPECT_EQ(row("apps", "ReplicaSet", R"({"metadata": {"name": "web-abc"}, "spec": {
      "replicas": 3, "selector": {"matchLabels": {"pod-template-hash": "abc", "app": "web"},
      "matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}]}},
      "status": {"replicas": 3, "readyReplicas": 2}})"),
            json::parse(R"j(["web-abc", 3, 3, 2, "<unknown>", "", "",
                             "app=web,pod-template-hash=abc,tier in (a,b)"])j"));
  EXPECT_EQ(row("", "Event", R"({"metadata": {"name": "web.1"}, "type": "Normal",
      "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{app}"},
      "reason": "Pulled", "message": " Pulled image\n", "count": 3,
      "source": {"component": "kubelet", "host": "node-a"},
      "firstTimestamp": "2026-01-01T00:50:00Z", "lastTimestamp": "2026-01-01T00:55:00Z"})"),
            json::parse(R"(["5m", "Normal", "Pulled", "pod/web", "spec.containers{app}",
                            "kubelet, node-a", "Pulled image", "10m", 3, "web.1"])"));
  EXPECT_EQ(row("events.k8s.io", "Event", R"({"metadata": {"name": "e2"}, "type": "Warning",
      "regarding": {"kind": "Node", "name": "n1"}, "reason": "R", "note": "hi",
      "eventTime": "2026-01-01T00:59:00.000000Z", "reportingController": "karpenter"})"),
            json::parse(R"(["60s", "Warning", "R", "node/n1", "", "karpenter", "hi", "60s", 1,
                            "e2"])"));
  EXPECT_EQ(row("", "Namespace", R"({"metadata": {"name": "default"}})"),
            json::parse(R"(["default", "Active", "<unknown>"])"));
  EXPECT_EQ(row("", "Secret", R"({"metadata": {"name": "tls"}, "type": "kubernetes.io/tls",
      "data": {"tls.crt": "", "tls.key": ""}})"),
            json::parse(R"(["tls", "kubernetes.io/tls", 2, "<unknown>"])"));
  EXPECT_EQ(row("", "Secret", "{}")[1], "Opaque");
  EXPECT_EQ(row("", "ConfigMap", R"({"data": {"a": "", "b": ""}, "binaryData": {"c": ""}})")[1], 3);
  EXPECT_EQ(row("", "ServiceAccount", R"({"secrets": [{"name": "t"}]})")[1], 1);
  EXPECT_EQ(row("", "Endpoints", R"({"subsets": [{"addresses": [{"ip": "10.0.0.1"},
      {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]}]})")[1],
            "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...");
  EXPECT_EQ(row("", "Endpoints", R"({"subsets": [{"addresses": [{"ip": "fd00::1"}],
      "ports": [{"port": 80}]}]})")[1], "[fd00::1]:80");
  EXPECT_EQ(row("", "Endpoints", "{}")[1], "<none>");
  EXPECT_EQ(row("coordination.k8s.io", "Lease", R"({"spec": {"holderIdentity": "k-1"}})")[1],
            "k-1");
  EXPECT_EQ(row("policy", "PodDisruptionBudget", R"({"spec": {"minAvailable": 1},
      "status": {"disruptionsAllowed": 2}})"),
            json::parse(R"(["", "1", "N/A", 2, "<unknown>"])"));
  EXPECT_EQ(row("policy", "PodDisruptionBudget", R"({"spec": {"maxUnavailable": "50%"}})")[2],
            "50%");
  EXPECT_EQ(row("rbac.authorization.k8s.io", "RoleBinding", R"({"metadata": {"name": "rb"},
      "roleRef": {"kind": "ClusterRole", "name": "view"}, "subjects": [
        {"kind": "User", "name": "alice"}, {"kind": "Group", "name": "devs"},
        {"kind": "ServiceAccount", "namespace": "ns", "name": "sa"},
        {"kind": "ServiceAccount", "namespace": "kube-system", "name": "b"}]})"),
            json::parse(R"(["rb", "ClusterRole/view", "<unknown>", "alice", "devs",
                            "ns/sa, kube-system/b"])"));
}

// Every built-in kind yields exactly one cell per column, whatever the object looks like.
TEST(TableBuiltin, CellsMatchColumnsForEveryKind) {
  for (const ResourceInfo& info : BuiltinResources()) {
    const json table = MakeTable(info, {json::object(), json("not an object"), json::array()});
    const size_t columns = table["columnDefinitions"].size();
    ASSERT_EQ(table["rows"].size(), 3u) << info.kind;
    for (const json& r : table["rows"]) {
      EXPECT_EQ(r["cells"].size(), columns) << info.group << "/" << info.kind;
    }
  }
}

}  // namespace
}  // namespace gpufleet::apiserver
