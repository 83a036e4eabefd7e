// Typed views: decoding what the API server sends, the field paths in errors, and exact
// round trips for the complete kinds (an Update must not drop anything).
#include <gtest/gtest.h>

#include "kube/types/daemon_set.h"
#include "kube/types/event.h"
#include "kube/types/lease.h"
#include "kube/types/node.h"
#include "kube/types/pod.h"
#include "kube/types/pod_disruption_budget.h"
#include "testing/status_matchers.h"

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;
using gpufleet::testing::StatusIs;

const json kInferencePod = json::parse(R"({
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "vllm-0", "namespace": "llm", "uid": "u-1", "resourceVersion": "42",
    "labels": {"app": "vllm"}, "annotations": {"karpenter.sh/do-not-disrupt": "true"},
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "vllm", "uid": "s-1", "controller": true}],
    "managedFields": [{"manager": "kubectl", "operation": "Apply"}]},
  "spec": {
    "priorityClassName": "inference", "priority": 1000,
    "nodeSelector": {"nvidia.com/gpu.present": "true"},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    "affinity": {
      "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
          {"matchExpressions": [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": ["g6e.2xlarge", "g6e.4xlarge"]}]}]},
        "preferredDuringSchedulingIgnoredDuringExecution": [
          {"weight": 50, "preference": {"matchExpressions": [{"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["reserved"]}]}}]},
      "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
          {"labelSelector": {"matchLabels": {"app": "vllm"}}, "topologyKey": "kubernetes.io/hostname"}]}},
    "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
      "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "vllm"}}, "minDomains": 2}],
    "initContainers": [{"name": "fetch", "image": "busybox", "resources": {"requests": {"cpu": "2"}}},
                       {"name": "proxy", "image": "envoy", "restartPolicy": "Always", "resources": {"requests": {"cpu": "500m"}}}],
    "containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.6",
      "resources": {"requests": {"cpu": "4", "memory": "24Gi", "nvidia.com/gpu": 1}, "limits": {"nvidia.com/gpu": "1"}},
      "ports": [{"containerPort": 8000, "hostPort": 8000, "protocol": "TCP"}]}],
    "overhead": {"cpu": "100m"},
    "volumes": [{"name": "cache", "persistentVolumeClaim": {"claimName": "hf-cache"}},
                {"name": "scratch", "ephemeral": {"volumeClaimTemplate": {"spec": {}}}},
                {"name": "cfg", "configMap": {"name": "c"}}]},
  "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
    "message": "0/3 nodes are available", "lastTransitionTime": "2026-11-25T05:00:00Z"}]}
})");

TEST(PodViewTest, DecodesWhatSchedulingNeeds) {
  GF_ASSERT_OK_AND_ASSIGN(Pod pod, FromJson<Pod>(kInferencePod));
  EXPECT_EQ(pod.metadata.Key(), "llm/vllm-0");
  EXPECT_EQ(pod.metadata.resource_version, "42");
  ASSERT_NE(pod.metadata.ControllerRef(), nullptr);
  EXPECT_EQ(pod.metadata.ControllerRef()->kind, "StatefulSet");
  EXPECT_EQ(pod.spec.priority, 1000);
  EXPECT_EQ(pod.spec.node_selector.at("nvidia.com/gpu.present"), "true");
  ASSERT_EQ(pod.spec.tolerations.size(), 1u);
  EXPECT_EQ(pod.spec.tolerations[0].op, core::TolerationOperator::kExists);
  ASSERT_TRUE(pod.spec.affinity && pod.spec.affinity->node_affinity && pod.spec.affinity->node_affinity->required);
  EXPECT_EQ(pod.spec.affinity->node_affinity->required->terms[0].match_expressions[0].values,
            (std::vector<std::string>{"g6e.2xlarge", "g6e.4xlarge"}));
  EXPECT_EQ(pod.spec.affinity->node_affinity->preferred[0].weight, 50);
  ASSERT_TRUE(pod.spec.affinity->pod_anti_affinity);
  EXPECT_EQ(pod.spec.affinity->pod_anti_affinity->required[0].topology_key, "kubernetes.io/hostname");
  EXPECT_EQ(pod.spec.topology_spread_constraints[0].min_domains, 2);
  ASSERT_EQ(pod.spec.init_containers.size(), 2u);
  EXPECT_EQ(pod.spec.init_containers[1].restart_policy, "Always");  // a sidecar
  EXPECT_EQ(pod.spec.containers[0].resources.requests.Get("nvidia.com/gpu").Value(), 1);
  EXPECT_EQ(pod.spec.containers[0].resources.requests.Get("memory").Value(), 24LL << 30);
  EXPECT_EQ(pod.spec.containers[0].ports[0].host_port, 8000);
  EXPECT_EQ(pod.spec.overhead.Get("cpu").MilliValue(), 100);
  ASSERT_EQ(pod.spec.volumes.size(), 3u);
  EXPECT_EQ(pod.spec.volumes[0].claim_name, "hf-cache");
  EXPECT_TRUE(pod.spec.volumes[1].ephemeral);
  EXPECT_FALSE(pod.spec.volumes[2].claim_name.has_value());
  ASSERT_NE(pod.FindCondition("PodScheduled"), nullptr);
  EXPECT_EQ(pod.FindCondition("PodScheduled")->reason, "Unschedulable");
  EXPECT_FALSE(pod.IsTerminal());
}

TEST(PodViewTest, EncodeThenDecodeKeepsTheView) {
  GF_ASSERT_OK_AND_ASSIGN(Pod pod, FromJson<Pod>(kInferencePod));
  json encoded = ToJson(pod);
  EXPECT_EQ(encoded["kind"], "Pod");
  EXPECT_FALSE(encoded["metadata"].contains("managedFields"));
  GF_ASSERT_OK_AND_ASSIGN(Pod again, FromJson<Pod>(encoded));
  EXPECT_EQ(again, pod);
}

TEST(PodViewTest, WrongTypesNameTheField) {
  json bad = kInferencePod;
  bad["spec"]["containers"][0]["ports"][0]["hostPort"] = "8000";
  EXPECT_THAT(FromJson<Pod>(bad).status(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("spec.containers[0].ports[0].hostPort")));
  bad = kInferencePod;
  bad["spec"]["containers"][0]["resources"]["requests"]["cpu"] = "four";
  EXPECT_THAT(FromJson<Pod>(bad).status(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("spec.containers[0].resources.requests")));
  bad = kInferencePod;
  bad["metadata"]["labels"]["app"] = 7;
  EXPECT_THAT(FromJson<Pod>(bad).status(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("metadata.labels[app]")));
  bad = kInferencePod;
  bad["spec"]["priority"] = 1.5;
  EXPECT_THAT(FromJson<Pod>(bad).status(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("spec.priority")));
  bad = kInferencePod;
  bad["spec"]["priority"] = 1LL << 40;
  EXPECT_THAT(FromJson<Pod>(bad).status(), StatusIs(StatusCode::kOutOfRange, ::testing::HasSubstr("spec.priority")));
  EXPECT_THAT(FromJson<Pod>(json::array()).status(), StatusIs(StatusCode::kInvalidArgument));
}

TEST(PodViewTest, OtherKindsAreRefused) {
  json node = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", "n"}}}};
  EXPECT_THAT(FromJson<Pod>(node).status(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("expected kind Pod, got Node")));
  node.erase("kind");  // items of a List carry no kind: accepted
  GF_EXPECT_OK(FromJson<Pod>(node).status());
}

TEST(NodeViewTest, DecodesCapacityTaintsAndReadiness) {
  json j = json::parse(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"ip-10-0-1-5","labels":{"karpenter.sh/nodepool":"gpu"}},
    "spec":{"providerID":"aws:///us-west-2a/i-0abc","taints":[{"key":"nvidia.com/gpu","effect":"NoSchedule"},
      {"key":"karpenter.sh/unregistered","effect":"NoExecute"}]},
    "status":{"capacity":{"cpu":"8","memory":"65293916Ki","nvidia.com/gpu":"1","pods":"58"},
      "allocatable":{"cpu":"7910m","memory":"63432796Ki","nvidia.com/gpu":"1","pods":"58"},
      "conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","lastHeartbeatTime":"2026-11-25T05:00:00Z"}],
      "addresses":[{"type":"InternalIP","address":"10.0.1.5"}],
      "nodeInfo":{"kubeletVersion":"v1.31.2","architecture":"amd64","operatingSystem":"linux"}}})");
  GF_ASSERT_OK_AND_ASSIGN(Node node, FromJson<Node>(j));
  EXPECT_EQ(node.spec.provider_id, "aws:///us-west-2a/i-0abc");
  ASSERT_EQ(node.spec.taints.size(), 2u);
  EXPECT_EQ(node.spec.taints[1].effect, core::TaintEffect::kNoExecute);
  EXPECT_EQ(node.status.allocatable.Get("cpu").MilliValue(), 7910);
  EXPECT_EQ(node.status.allocatable.Get("nvidia.com/gpu").Value(), 1);
  EXPECT_TRUE(node.IsReady());
  EXPECT_EQ(node.status.node_info.kubelet_version, "v1.31.2");
  EXPECT_EQ(node.metadata.Key(), "ip-10-0-1-5");
  GF_ASSERT_OK_AND_ASSIGN(Node again, FromJson<Node>(ToJson(node)));
  EXPECT_EQ(again, node);
  j["spec"]["taints"][0]["effect"] = "Sometimes";
  EXPECT_THAT(FromJson<Node>(j).status(), StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("spec.taints[0]")));
}

// Complete kinds: encoding a decoded object gives back exactly what came in.
template <typename T>
void ExpectExactRoundTrip(const json& j) {
  auto decoded = FromJson<T>(j);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(ToJson(*decoded), j);
}

TEST(CompleteViewTest, LeaseRoundTripsExactly) {
  static_assert(Lease::kComplete);
  ExpectExactRoundTrip<Lease>(json::parse(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
    "metadata":{"name":"gpufleet-controller","namespace":"kube-system","uid":"u","resourceVersion":"9","creationTimestamp":"2026-11-25T05:00:00Z"},
    "spec":{"holderIdentity":"a_1","leaseDurationSeconds":15,"acquireTime":"2026-11-25T05:00:00.000000Z",
      "renewTime":"2026-11-25T05:00:02.000000Z","leaseTransitions":3}})"));
}

TEST(CompleteViewTest, EventRoundTripsExactly) {
  ExpectExactRoundTrip<Event>(json::parse(R"({"apiVersion":"v1","kind":"Event",
    "metadata":{"name":"vllm-0.1873a","namespace":"llm"},
    "involvedObject":{"kind":"Pod","namespace":"llm","name":"vllm-0","uid":"u-1","apiVersion":"v1","resourceVersion":"42"},
    "reason":"Nominated","message":"Pod should schedule on: nodeclaim/gpu-x7k2p","source":{"component":"gpufleet"},
    "firstTimestamp":"2026-11-25T05:00:00Z","lastTimestamp":"2026-11-25T05:01:00Z","count":3,"type":"Normal",
    "series":{"count":2,"lastObservedTime":"2026-11-25T05:01:00.000000Z"},
    "related":{"kind":"NodeClaim","name":"gpu-x7k2p"},"reportingComponent":"gpufleet","reportingInstance":"host-1"})"));
}

TEST(CompleteViewTest, PodDisruptionBudgetRoundTripsExactly) {
  ExpectExactRoundTrip<PodDisruptionBudget>(json::parse(R"({"apiVersion":"policy/v1","kind":"PodDisruptionBudget",
    "metadata":{"name":"vllm","namespace":"llm","generation":2},
    "spec":{"minAvailable":"50%","selector":{"matchLabels":{"app":"vllm"},
      "matchExpressions":[{"key":"tier","operator":"In","values":["gpu"]}]},"unhealthyPodEvictionPolicy":"AlwaysAllow"},
    "status":{"observedGeneration":2,"disruptedPods":{"vllm-1":"2026-11-25T05:00:00Z"},"disruptionsAllowed":0,
      "currentHealthy":1,"desiredHealthy":1,"expectedPods":2,
      "conditions":[{"type":"DisruptionAllowed","status":"False","reason":"InsufficientPods",
        "lastTransitionTime":"2026-11-25T05:00:00Z","message":"","observedGeneration":2}]}})"));
  GF_ASSERT_OK_AND_ASSIGN(auto pdb, FromJson<PodDisruptionBudget>(json::parse(
      R"({"metadata":{"name":"p"},"spec":{"maxUnavailable":1,"selector":{"matchLabels":{"app":"vllm"}}}})")));
  ASSERT_TRUE(pdb.spec.max_unavailable.has_value());
  EXPECT_FALSE(pdb.spec.max_unavailable->is_string);
  EXPECT_EQ(pdb.spec.max_unavailable->int_value, 1);
  GF_ASSERT_OK_AND_ASSIGN(core::LabelSelector selector, pdb.spec.selector->Compile());
  EXPECT_TRUE(selector.Matches({{"app", "vllm"}}));
  EXPECT_FALSE(selector.Matches({{"app", "web"}}));
  EXPECT_THAT(FromJson<PodDisruptionBudget>(json::parse(R"({"spec":{"minAvailable":true}})")).status(),
              StatusIs(StatusCode::kInvalidArgument, ::testing::HasSubstr("spec.minAvailable")));
}

TEST(DaemonSetViewTest, DecodesTheTemplateThatBecomesNodeOverhead) {
  GF_ASSERT_OK_AND_ASSIGN(DaemonSet ds, FromJson<DaemonSet>(json::parse(R"({"apiVersion":"apps/v1","kind":"DaemonSet",
    "metadata":{"name":"gpufleet-agent","namespace":"nvidia-device-plugin"},
    "spec":{"selector":{"matchLabels":{"app":"gpufleet-agent"}},
      "template":{"metadata":{"labels":{"app":"gpufleet-agent"}},
        "spec":{"nodeSelector":{"nvidia.com/gpu.present":"true"},
          "tolerations":[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}],
          "containers":[{"name":"agent","image":"gpufleet","resources":{"requests":{"cpu":"50m","memory":"64Mi"}}}]}},
      "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"10%"}}},
    "status":{"desiredNumberScheduled":2,"numberReady":1,"currentNumberScheduled":2,"numberMisscheduled":0}})")));
  EXPECT_EQ(ds.spec.template_.spec.containers[0].resources.requests.Get("memory").Value(), 64LL << 20);
  EXPECT_EQ(ds.spec.template_.spec.node_selector.at("nvidia.com/gpu.present"), "true");
  ASSERT_TRUE(ds.spec.update_strategy.rolling_update && ds.spec.update_strategy.rolling_update->max_unavailable);
  EXPECT_EQ(ds.spec.update_strategy.rolling_update->max_unavailable->string_value, "10%");
  EXPECT_EQ(ds.status.desired_number_scheduled, 2);
  GF_ASSERT_OK_AND_ASSIGN(DaemonSet again, FromJson<DaemonSet>(ToJson(ds)));
  EXPECT_EQ(again, ds);
}

}  // namespace
}  // namespace gpufleet::kube
