// From API objects to the simulator's model: which pods are provisioned for, what they request,
// and how nodes and in-flight NodeClaims look to the solver.
#include <gtest/gtest.h>

#include "core/yaml.h"
#include "provisioner/cached_pod.h"
#include "provisioner/scheduling_input.h"

namespace gpufleet::provisioner {
namespace {

template <typename T>
T Parse(std::string_view yaml) {
  auto docs = core::YamlToJson(yaml);
  EXPECT_TRUE(docs.ok()) << docs.status();
  auto obj = kube::FromJson<T>((*docs)[0]);
  EXPECT_TRUE(obj.ok()) << obj.status();
  return *obj;
}

constexpr std::string_view kGpuPod = R"(
apiVersion: v1
kind: Pod
metadata: {name: vllm-0, namespace: llm, uid: u1, creationTimestamp: "2026-01-01T00:00:00Z", labels: {app: vllm, rev: "7"}}
spec:
  nodeSelector: {nvidia.com/gpu.present: "true"}
  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: karpenter.k8s.aws/instance-gpu-name, operator: In, values: [l40s]}]
        - matchExpressions: [{key: karpenter.k8s.aws/instance-gpu-name, operator: In, values: [a10g]}]
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway,
     labelSelector: {matchLabels: {app: vllm}}, matchLabelKeys: [rev]}
  containers:
  - name: server
    image: vllm
    resources: {limits: {nvidia.com/gpu: 1, memory: 30Gi}, requests: {cpu: "4"}}
    ports: [{containerPort: 8000, hostPort: 8000}]
)";

TEST(SchedulingInputTest, ProvisionableFollowsThePolicy) {
  auto pod = Parse<kube::Pod>(kGpuPod);
  EXPECT_TRUE(IsProvisionable(pod, PendingPodPolicy::kUnbound));
  EXPECT_FALSE(IsProvisionable(pod, PendingPodPolicy::kUnschedulable)) << "no scheduler has looked at it yet";
  pod.status.conditions.push_back({.type = "PodScheduled", .status = "False", .reason = "Unschedulable", .message = "",
                                   .last_transition_time = ""});
  EXPECT_TRUE(IsProvisionable(pod, PendingPodPolicy::kUnschedulable));
  auto bound = pod;
  bound.spec.node_name = "node-1";
  EXPECT_FALSE(IsProvisionable(bound, PendingPodPolicy::kUnbound));
  auto done = pod;
  done.status.phase = "Succeeded";
  EXPECT_FALSE(IsProvisionable(done, PendingPodPolicy::kUnbound));
  auto deleting = pod;
  deleting.metadata.deletion_timestamp = "2026-01-01T00:01:00Z";
  EXPECT_FALSE(IsProvisionable(deleting, PendingPodPolicy::kUnbound));
  auto daemon = pod;
  daemon.metadata.owner_references.push_back({.api_version = "apps/v1", .kind = "DaemonSet", .name = "dp", .uid = "d",
                                              .controller = true, .block_owner_deletion = std::nullopt});
  EXPECT_FALSE(IsProvisionable(daemon, PendingPodPolicy::kUnbound));
}

TEST(SchedulingInputTest, PodBecomesTheSimulatorsPod) {
  auto converted = ToSchedulingPod(Parse<kube::Pod>(kGpuPod));
  ASSERT_TRUE(converted.ok()) << converted.status();
  const scheduling::Pod& p = *converted;
  EXPECT_EQ(p.key, "llm/vllm-0");
  // Limits without requests count as requests (the API server's defaulting).
  EXPECT_EQ(p.requests.Get("nvidia.com/gpu").AsApproximateDouble(), 1);
  EXPECT_EQ(p.requests.Get("memory").AsApproximateDouble(), 30.0 * (1ull << 30));
  EXPECT_EQ(p.requests.Get("cpu").AsApproximateDouble(), 4);
  EXPECT_EQ(p.requirements.ToString(),
            "karpenter.k8s.aws/instance-gpu-name In [l40s], nvidia.com/gpu.present In [true]");
  ASSERT_EQ(p.alternative_requirements.size(), 1u);
  EXPECT_EQ(p.alternative_requirements[0].ToString(),
            "karpenter.k8s.aws/instance-gpu-name In [a10g], nvidia.com/gpu.present In [true]");
  ASSERT_EQ(p.tolerations.size(), 1u);
  ASSERT_EQ(p.host_ports.size(), 1u);
  EXPECT_EQ(p.host_ports[0].port, 8000);
  ASSERT_EQ(p.topology_spread.size(), 1u);
  EXPECT_TRUE(p.topology_spread[0].schedule_anyway);
  // matchLabelKeys: only pods of the same revision count.
  EXPECT_TRUE(p.topology_spread[0].selector.Matches({{"app", "vllm"}, {"rev", "7"}}));
  EXPECT_FALSE(p.topology_spread[0].selector.Matches({{"app", "vllm"}, {"rev", "6"}}));
}

kube::NodeClaim GpuClaim() {
  kube::NodeClaim c;
  c.metadata.name = "gpu-abcde";
  c.metadata.labels = {{"karpenter.sh/nodepool", "gpu"}};
  c.spec.requirements = {{.key = "node.kubernetes.io/instance-type", .op = core::Operator::kIn,
                          .values = {"g6e.2xlarge"}, .min_values = {}},
                         {.key = "karpenter.sh/capacity-type", .op = core::Operator::kIn,
                          .values = {"on-demand", "reserved"}, .min_values = {}}};
  c.spec.resources.requests = {{"nvidia.com/gpu", core::Quantity::FromInt(1)}, {"cpu", core::Quantity::FromInt(1)}};
  c.spec.taints = {{.key = "nvidia.com/gpu", .value = "", .effect = core::TaintEffect::kNoSchedule, .time_added = {}}};
  return c;
}

kube::NodePool GpuPool() {
  kube::NodePool pool;
  pool.metadata.name = "gpu";
  pool.spec.template_.metadata.labels = {{"nvidia.com/gpu.present", "true"}};
  return pool;
}

TEST(SchedulingInputTest, InFlightClaimHoldsWhatItWasCreatedForUntilLaunched) {
  kube::NodeClaim claim = GpuClaim();
  kube::NodePool pool = GpuPool();
  scheduling::ExistingNode n = InFlightNode(claim, &pool);
  EXPECT_EQ(n.name, "nodeclaim/gpu-abcde");
  EXPECT_EQ(n.nodepool, "gpu");
  EXPECT_FALSE(n.initialized);
  EXPECT_EQ(n.allocatable, claim.spec.resources.requests);
  EXPECT_EQ(n.labels.at("nvidia.com/gpu.present"), "true");
  EXPECT_EQ(n.labels.at("node.kubernetes.io/instance-type"), "g6e.2xlarge");
  EXPECT_FALSE(n.labels.contains("karpenter.sh/capacity-type")) << "still two capacity types";
  claim.status.allocatable = {{"nvidia.com/gpu", core::Quantity::FromInt(1)}, {"cpu", core::Quantity::FromInt(7)}};
  EXPECT_EQ(InFlightNode(claim, &pool).allocatable, claim.status.allocatable);
}

TEST(SchedulingInputTest, UnsyncedNodeTakesItsClaimsLabelsAndAllocatable) {
  kube::NodeClaim claim = GpuClaim();
  claim.status.allocatable = {{"nvidia.com/gpu", core::Quantity::FromInt(1)}, {"cpu", core::Quantity::FromInt(7)}};
  kube::NodePool pool = GpuPool();
  kube::Node node;
  node.metadata.name = "ip-10-0-0-1";
  node.status.allocatable = {{"cpu", core::Quantity::FromInt(7)}, {"nvidia.com/gpu", core::Quantity::FromInt(0)}};
  kube::Pod running = Parse<kube::Pod>(kGpuPod);
  running.spec.node_name = "ip-10-0-0-1";
  CachedPod cached = ToCachedPod(running);
  ASSERT_TRUE(cached.usage.has_value()) << cached.usage_error;
  auto n = ToExistingNode(node, {&*cached.usage}, &claim, &pool);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(n->labels.at("nvidia.com/gpu.present"), "true") << "the kubelet has not got the NodePool's labels yet";
  EXPECT_EQ(n->labels.at("kubernetes.io/hostname"), "ip-10-0-0-1");
  EXPECT_FALSE(n->initialized);
  EXPECT_EQ(n->allocatable.Get("nvidia.com/gpu").AsApproximateDouble(), 1) << "the device plugin has not reported yet";
  EXPECT_EQ(n->requested.Get("cpu").AsApproximateDouble(), 4);
  ASSERT_EQ(n->pods.size(), 1u);
  ASSERT_EQ(n->host_ports.size(), 1u);

  claim.status.conditions.push_back({.type = "Initialized", .status = "True", .observed_generation = 0,
                                     .last_transition_time = "", .reason = "Initialized", .message = ""});
  auto initialized = ToExistingNode(node, {}, &claim, &pool);
  ASSERT_TRUE(initialized.ok());
  EXPECT_TRUE(initialized->initialized);
  EXPECT_EQ(initialized->allocatable.Get("nvidia.com/gpu").AsApproximateDouble(), 0) << "once initialized the node is the truth";
}

TEST(SchedulingInputTest, NodePoolTemplateBecomesRequirementsAndLabels) {
  auto pool = ToSchedulingNodePool(Parse<kube::NodePool>(R"(
apiVersion: karpenter.sh/v1
kind: NodePool
metadata: {name: gpu}
spec:
  weight: 10
  limits: {nvidia.com/gpu: "4"}
  template:
    metadata: {labels: {nvidia.com/gpu.present: "true"}}
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
      requirements: [{key: node.kubernetes.io/instance-type, operator: In, values: [g6e.2xlarge]}]
      taints: [{key: nvidia.com/gpu, effect: NoSchedule}]
)"));
  ASSERT_TRUE(pool.ok()) << pool.status();
  EXPECT_EQ(pool->weight, 10);
  EXPECT_EQ(pool->requirements.ToString(),
            "karpenter.sh/nodepool In [gpu], node.kubernetes.io/instance-type In [g6e.2xlarge], "
            "nvidia.com/gpu.present In [true]");
  EXPECT_EQ(pool->labels.at("karpenter.sh/nodepool"), "gpu");
  EXPECT_EQ(pool->taints.size(), 1u);
  EXPECT_EQ(pool->limits.Get("nvidia.com/gpu").AsApproximateDouble(), 4);
}

TEST(SchedulingInputTest, CachedPodKeepsTheWholeViewOnlyWhileUnbound) {
  kube::Pod pod = Parse<kube::Pod>(kGpuPod);
  CachedPod pending = ToCachedPod(pod);
  EXPECT_EQ(pending.metadata.Key(), "llm/vllm-0");
  EXPECT_EQ(pending.unbound->metadata.uid, "u1");
  ASSERT_NE(pending.unbound, nullptr);
  EXPECT_EQ(pending.unbound->metadata.name, "vllm-0") << "Events name the pod";
  EXPECT_TRUE(IsProvisionable(pending, PendingPodPolicy::kUnbound));
  EXPECT_FALSE(pending.holds_resources);
  EXPECT_FALSE(pending.usage.has_value());

  pod.spec.node_name = "ip-10-0-0-1";
  CachedPod bound = ToCachedPod(pod);
  EXPECT_EQ(bound.unbound, nullptr) << "a bound pod keeps only its usage";
  EXPECT_FALSE(IsProvisionable(bound, PendingPodPolicy::kUnbound));
  EXPECT_EQ(bound.node_name, "ip-10-0-0-1");
  ASSERT_TRUE(bound.usage.has_value());
  EXPECT_EQ(bound.usage->requests.Get("cpu").AsApproximateDouble(), 4);
  EXPECT_EQ(bound.usage->requests.Get("nvidia.com/gpu").AsApproximateDouble(), 1) << "limits default requests";
  EXPECT_EQ(bound.usage->pod.labels.at("app"), "vllm");
  EXPECT_EQ(bound.usage->pod.ns, "llm");
  ASSERT_EQ(bound.usage->host_ports.size(), 1u);
  EXPECT_EQ(bound.usage->host_ports[0].port, 8000);

  pod.status.phase = "Succeeded";
  CachedPod finished = ToCachedPod(pod);
  EXPECT_FALSE(finished.holds_resources);
  EXPECT_FALSE(finished.usage.has_value()) << "a finished pod takes nothing from its node";
}

TEST(SchedulingInputTest, CachedPodRecordsWhyItsUsageIsUnknown) {
  kube::Pod pod = Parse<kube::Pod>(kGpuPod);
  pod.spec.node_name = "ip-10-0-0-1";
  pod.spec.affinity->pod_anti_affinity.emplace();
  kube::PodAffinityTerm term;
  term.topology_key = core::InternedString("kubernetes.io/hostname");
  term.label_selector = kube::LabelSelectorSpec{};
  term.label_selector->match_expressions.push_back(
      kube::LabelSelectorRequirementSpec{.key = core::InternedString("app"), .op = core::InternedString("Sideways"), .values = {}});
  pod.spec.affinity->pod_anti_affinity->required.push_back(term);
  CachedPod bound = ToCachedPod(pod);
  EXPECT_FALSE(bound.usage.has_value());
  EXPECT_NE(bound.usage_error.find("Sideways"), std::string::npos) << bound.usage_error;
}

}  // namespace
}  // namespace gpufleet::provisioner
