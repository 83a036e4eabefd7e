// The acceptance flows of issue 7 against the embedded API server and the EC2 emulator: the
// seed's GPU NodePool launching into the ODCR and a node that initializes only once its GPU is
// allocatable; falling back when the reservation is used up; insufficient capacity; limits;
// invalid objects; termination (with the node drained first) and garbage collection.
#include "provisioner/controller_fixture.h"

#include "cloud/aws/ec2.h"
#include "kube/types/pod_disruption_budget.h"
#include "provisioner/garbage_collection.h"

namespace gpufleet::provisioner {
namespace {

using testing::ControllerFixture;

bool HasCondition(const kube::NodeClaim& c, std::string_view type, std::string_view status) {
  const kube::Condition* found = kube::FindCondition(c.status.conditions, type);
  return found != nullptr && found->status == status;
}

std::string Label(const kube::ObjectMeta& meta, std::string_view key) {
  auto it = meta.labels.find(key);
  return it == meta.labels.end() ? "" : it->second.str();
}

class ProvisionerTest : public ControllerFixture {
 protected:
  std::optional<kube::Pod> GetPod(const std::string& name) {
    auto pod = kube::TypedClient<kube::Pod>(*client_).Get("default", name);
    return pod.ok() ? std::optional<kube::Pod>(*pod) : std::nullopt;
  }

  bool Terminating(const std::string& pod) {
    auto p = GetPod(pod);
    return p && p->metadata.deletion_timestamp.has_value();
  }

  // The kubelet's part of an eviction: the pod's containers stop and it is gone.
  void ConfirmDeletion(const std::string& pod) {
    ASSERT_TRUE(client_->Delete(kube::Pod::Resource(), "default", pod, {.grace_period_seconds = 0}).ok());
  }

  // A pod already running on `node` (created bound, as a kubelet-owned pod would be).
  nlohmann::json PodOn(const std::string& name, const std::string& node, nlohmann::json labels) {
    nlohmann::json container = {{"name", "main"}, {"image", "busybox"}, {"resources", {{"requests", {{"cpu", "100m"}}}}}};
    return {{"apiVersion", "v1"}, {"kind", "Pod"},
            {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
            {"spec", {{"nodeName", node}, {"containers", nlohmann::json::array({container})}}}};
  }

  // The kubelet reports the pod running and ready (only such pods count for a budget).
  void MarkRunning(const std::string& pod) {
    nlohmann::json status = {{"status", {{"phase", "Running"}, {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
    auto patched = client_->Patch(kube::Pod::Resource(), "default", pod, kube::PatchType::kMerge, status, {}, "status");
    ASSERT_TRUE(patched.ok()) << patched.status();
  }

  static nlohmann::json Budget(const std::string& app) {
    return {{"apiVersion", "policy/v1"}, {"kind", "PodDisruptionBudget"},
            {"metadata", {{"name", app}, {"namespace", "default"}}},
            {"spec", {{"minAvailable", 1}, {"selector", {{"matchLabels", {{"app", app}}}}}}}};
  }

  bool HasFailedDrainingEventNaming(const std::string& claim, const std::string& pod) {
    for (const auto& e : EventsFor(claim)) {
      if (e.reason == "FailedDraining" && e.message.find(pod) != std::string::npos) return true;
    }
    return false;
  }

  // The seed flow up to a Ready node named `node_name` running the GPU pod `pod`.
  kube::NodeClaim ReadyNodeRunning(const std::string& pod, const std::string& node_name) {
    Apply(GpuPod(pod));
    auto claims = LaunchedClaims(1);
    EXPECT_EQ(claims.size(), 1u);
    if (claims.empty()) return {};
    RegisterNode(node_name, claims[0].status.provider_id, true);
    EXPECT_TRUE(Eventually([&] {
      auto c = kube::TypedClient<kube::NodeClaim>(*client_).Get("", claims[0].metadata.name);
      return c.ok() && c->Ready();
    }));
    EXPECT_TRUE(client_->Bind("default", pod, node_name).ok());
    MarkRunning(pod);
    return claims[0];
  }

  std::string SeedOdcr() {
    auto reservations = cloud::aws::DescribeCapacityReservations(*ec2_, {}, {{"state", {"active"}}});
    EXPECT_TRUE(reservations.ok()) << reservations.status();
    return reservations.ok() && !reservations->empty() ? (*reservations)[0].id : "";
  }

  // The walkthrough: apply the seed, patch the ODCR id in, wait for the NodeClass to resolve.
  std::string ApplySeed() {
    ApplyFile("deploy/examples/seed/ec2nodeclass.yaml");
    ApplyFile("deploy/examples/seed/nodepool.yaml");
    std::string odcr = SeedOdcr();
    nlohmann::json patch = {{"spec", {{"capacityReservationSelectorTerms", {{{"id", odcr}}}}}}};
    auto patched = client_->Patch(kube::EC2NodeClass::Resource(), "", "gpu", kube::PatchType::kMerge, patch);
    EXPECT_TRUE(patched.ok()) << patched.status();
    EXPECT_TRUE(Eventually([&] {
      auto nc = kube::TypedClient<kube::EC2NodeClass>(*client_).Get("", "gpu");
      return nc.ok() && nc->Ready() && nc->status.capacity_reservations.size() == 1 &&
             nc->status.capacity_reservations[0].id == odcr;
    })) << "EC2NodeClass gpu never became Ready with the ODCR resolved";
    EXPECT_TRUE(Eventually([&] {
      auto pool = kube::TypedClient<kube::NodePool>(*client_).Get("", "gpu");
      return pool.ok() && pool->Ready();
    })) << "NodePool gpu never became Ready";
    return odcr;
  }

  std::vector<kube::NodeClaim> LaunchedClaims(size_t n) {
    std::vector<kube::NodeClaim> claims;
    EXPECT_TRUE(Eventually([&] {
      claims = NodeClaims();
      size_t launched = 0;
      for (const auto& c : claims) launched += HasCondition(c, "Launched", "True");
      return launched == n && claims.size() == n;
    })) << "expected " << n << " launched NodeClaims, have " << claims.size();
    return claims;
  }
};

TEST_F(ProvisionerTest, SeedFlowLaunchesIntoTheReservationAndInitializesOnlyWithTheGpu) {
  StartController();
  const std::string odcr = ApplySeed();
  Apply(GpuPod("nvidia-smi"));

  auto claims = LaunchedClaims(1);
  ASSERT_EQ(claims.size(), 1u);
  const kube::NodeClaim& claim = claims[0];
  EXPECT_EQ(Label(claim.metadata, "node.kubernetes.io/instance-type"), "g6e.2xlarge");
  EXPECT_EQ(Label(claim.metadata, "karpenter.sh/capacity-type"), "reserved");
  EXPECT_EQ(Label(claim.metadata, "karpenter.k8s.aws/capacity-reservation-id"), odcr);
  // The NodePool carries its template's hash too (Karpenter's hash controller), equal to the one
  // the claim was created with: no drift.
  ASSERT_TRUE(Eventually([&] {
    auto pool = kube::TypedClient<kube::NodePool>(*client_).Get("", "gpu");
    if (!pool.ok()) return false;
    auto hash = pool->metadata.annotations.find("karpenter.sh/nodepool-hash");
    auto version = pool->metadata.annotations.find("karpenter.sh/nodepool-hash-version");
    return hash != pool->metadata.annotations.end() && version != pool->metadata.annotations.end() &&
           version->second == "v3" &&
           hash->second == claim.metadata.annotations.at("karpenter.sh/nodepool-hash");
  })) << "the NodePool's hash annotation matches its NodeClaim's";
  EXPECT_EQ(Label(claim.metadata, "karpenter.sh/nodepool"), "gpu");
  EXPECT_EQ(claim.spec.resources.requests.Get("nvidia.com/gpu").AsApproximateDouble(), 1);
  ASSERT_FALSE(claim.status.provider_id.empty());
  auto instances = Instances();
  ASSERT_EQ(instances.size(), 1u);
  EXPECT_EQ(instances[0].instance_type, "g6e.2xlarge");
  EXPECT_EQ(instances[0].capacity_type, "reserved");
  EXPECT_EQ(instances[0].reservation_id, odcr);
  EXPECT_FALSE(EventsFor("nvidia-smi").empty());

  // The kubelet registers; the GPU is not allocatable yet.
  RegisterNode("ip-10-0-1-1.us-west-2.compute.internal", claim.status.provider_id);
  ASSERT_TRUE(Eventually([&] {
    auto node = GetNode("ip-10-0-1-1.us-west-2.compute.internal");
    auto c = kube::TypedClient<kube::NodeClaim>(*client_).Get("", claim.metadata.name);
    return node && c.ok() && HasCondition(*c, "Registered", "True") &&
           Label(node->metadata, "karpenter.sh/registered") == "true";
  }));
  auto node = GetNode("ip-10-0-1-1.us-west-2.compute.internal");
  ASSERT_TRUE(node);
  EXPECT_EQ(Label(node->metadata, "nvidia.com/gpu.present"), "true");
  EXPECT_EQ(Label(node->metadata, "karpenter.sh/nodepool"), "gpu");
  EXPECT_EQ(Label(node->metadata, "karpenter.sh/capacity-type"), "reserved");
  bool gpu_taint = false, unregistered = false;
  for (const auto& t : node->spec.taints) {
    gpu_taint |= t.key == "nvidia.com/gpu" && t.effect == core::TaintEffect::kNoSchedule;
    unregistered |= t.key == "karpenter.sh/unregistered";
  }
  EXPECT_TRUE(gpu_taint);
  EXPECT_FALSE(unregistered);
  ASSERT_TRUE(Eventually([&] {
    auto c = kube::TypedClient<kube::NodeClaim>(*client_).Get("", claim.metadata.name);
    const kube::Condition* init = c.ok() ? kube::FindCondition(c->status.conditions, "Initialized") : nullptr;
    return init != nullptr && init->status == "Unknown" && init->message.find("nvidia.com/gpu") != std::string::npos;
  })) << "Initialized must wait for nvidia.com/gpu";
  EXPECT_NE(Label(GetNode("ip-10-0-1-1.us-west-2.compute.internal")->metadata, "karpenter.sh/initialized"), "true");

  // The device plugin publishes the GPU.
  SetNodeStatus("ip-10-0-1-1.us-west-2.compute.internal", /*with_gpu=*/true);
  ASSERT_TRUE(Eventually([&] {
    auto c = kube::TypedClient<kube::NodeClaim>(*client_).Get("", claim.metadata.name);
    return c.ok() && HasCondition(*c, "Initialized", "True") && c->Ready();
  }));
  EXPECT_EQ(Label(GetNode("ip-10-0-1-1.us-west-2.compute.internal")->metadata, "karpenter.sh/initialized"), "true");
  EXPECT_EQ(NodeClaims().size(), 1u);
  EXPECT_EQ(Instances().size(), 1u);
  EXPECT_GE(controller_->metrics().Value("karpenter_nodeclaims_created_total",
                                          {{"nodepool", "gpu"}, {"reason", "provisioning"}}),
            1);
}

TEST_F(ProvisionerTest, ReservationUsedUpThenOnDemandBecauseTheNodePoolAllowsIt) {
  StartController();
  const std::string odcr = ApplySeed();
  Apply(GpuPod("gpu-1"));
  Apply(GpuPod("gpu-2"));
  LaunchedClaims(2);
  Apply(GpuPod("gpu-3"));
  auto claims = LaunchedClaims(3);
  int reserved = 0, on_demand = 0;
  for (const auto& c : claims) {
    std::string type = Label(c.metadata, "karpenter.sh/capacity-type");
    reserved += type == "reserved";
    on_demand += type == "on-demand";
  }
  EXPECT_EQ(reserved, 2) << "the ODCR holds two g6e.2xlarge";
  EXPECT_EQ(on_demand, 1);
  EXPECT_EQ(Instances().size(), 3u);
}

TEST_F(ProvisionerTest, ReservedOnlyNodePoolLeavesThePodPendingOnceTheReservationIsUsedUp) {
  StartController();
  ApplySeed();
  nlohmann::json patch = {{"spec",
                           {{"template",
                             {{"spec",
                               {{"requirements",
                                 {{{"key", "node.kubernetes.io/instance-type"}, {"operator", "In"}, {"values", {"g6e.2xlarge"}}},
                                  {{"key", "karpenter.sh/capacity-type"}, {"operator", "In"}, {"values", {"reserved"}}}}}}}}}}}};
  ASSERT_TRUE(client_->Patch(kube::NodePool::Resource(), "", "gpu", kube::PatchType::kMerge, patch).ok());
  Apply(GpuPod("gpu-1"));
  Apply(GpuPod("gpu-2"));
  LaunchedClaims(2);
  Apply(GpuPod("gpu-3"));
  // Which of the three waits depends on the queue order (older first, then UID: pods created in
  // the same second tie), not on which was created last.
  ASSERT_TRUE(Eventually([&] {
    for (const char* pod : {"gpu-1", "gpu-2", "gpu-3"}) {
      for (const auto& e : EventsFor(pod)) {
        if (e.reason == "FailedScheduling") return true;
      }
    }
    return false;
  })) << "the pod that cannot be placed gets a FailedScheduling Event";
  EXPECT_EQ(NodeClaims().size(), 2u);
  EXPECT_EQ(Instances().size(), 2u);
}

TEST_F(ProvisionerTest, InsufficientCapacityFallsBackToTheNextCheapestType) {
  cloud::ec2emu::FaultConfig faults;
  faults.insufficient_capacity.push_back({.instance_type = "g6e.2xlarge", .zone = "", .capacity_type = ""});
  emulator_->SetFaults(faults);
  StartController();
  ApplyFile("deploy/examples/seed/ec2nodeclass.yaml");
  ApplyFile("deploy/examples/seed/nodepool.yaml");
  nlohmann::json patch = {{"spec",
                           {{"template",
                             {{"spec",
                               {{"requirements",
                                 {{{"key", "node.kubernetes.io/instance-type"},
                                   {"operator", "In"},
                                   {"values", {"g6e.2xlarge", "g6e.4xlarge"}}},
                                  {{"key", "karpenter.sh/capacity-type"}, {"operator", "In"}, {"values", {"on-demand"}}}}}}}}}}}};
  ASSERT_TRUE(client_->Patch(kube::NodePool::Resource(), "", "gpu", kube::PatchType::kMerge, patch).ok());
  Apply(GpuPod("gpu-1"));
  auto claims = LaunchedClaims(1);
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(Label(claims[0].metadata, "node.kubernetes.io/instance-type"), "g6e.4xlarge");
  auto instances = Instances();
  ASSERT_EQ(instances.size(), 1u);
  EXPECT_EQ(instances[0].instance_type, "g6e.4xlarge");
}

TEST_F(ProvisionerTest, LimitsReachedLeavePodsPendingWithAnEvent) {
  StartController();
  ApplySeed();
  nlohmann::json patch = {{"spec", {{"limits", {{"nvidia.com/gpu", "1"}}}}}};
  ASSERT_TRUE(client_->Patch(kube::NodePool::Resource(), "", "gpu", kube::PatchType::kMerge, patch).ok());
  Apply(GpuPod("gpu-1"));
  LaunchedClaims(1);
  Apply(GpuPod("gpu-2"));
  ASSERT_TRUE(Eventually([&] {
    for (const auto& e : EventsFor("gpu-2")) {
      if (e.reason == "FailedScheduling" && e.message.find("limits") != std::string::npos) return true;
    }
    return false;
  })) << "expected a FailedScheduling Event naming the limit";
  EXPECT_EQ(NodeClaims().size(), 1u);
  EXPECT_EQ(Instances().size(), 1u);
  auto pool = kube::TypedClient<kube::NodePool>(*client_).Get("", "gpu");
  ASSERT_TRUE(pool.ok());
  EXPECT_EQ(pool->status.resources.Get("nvidia.com/gpu").AsApproximateDouble(), 1);
}

TEST_F(ProvisionerTest, InvalidNodePoolIsReportedAndSkipped) {
  StartController();
  ApplySeed();
  nlohmann::json bad = {{"apiVersion", "karpenter.sh/v1"},
                        {"kind", "NodePool"},
                        {"metadata", {{"name", "bad"}}},
                        {"spec",
                         {{"weight", 100},
                          {"template",
                           {{"spec",
                             {{"nodeClassRef", {{"group", "karpenter.k8s.aws"}, {"kind", "EC2NodeClass"}, {"name", "gpu"}}},
                              {"requirements",
                               {{{"key", "kubernetes.io/hostname"}, {"operator", "In"}, {"values", {"x"}}}}}}}}}}}};
  Apply(bad);
  ASSERT_TRUE(Eventually([&] {
    auto pool = kube::TypedClient<kube::NodePool>(*client_).Get("", "bad");
    const kube::Condition* v = pool.ok() ? kube::FindCondition(pool->status.conditions, "ValidationSucceeded") : nullptr;
    return v != nullptr && v->status == "False" && v->message.find("kubernetes.io/hostname") != std::string::npos &&
           !pool->Ready();
  }));
  // The valid pool still provisions (the invalid one has the higher weight but is skipped).
  Apply(GpuPod("gpu-1"));
  auto claims = LaunchedClaims(1);
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(Label(claims[0].metadata, "karpenter.sh/nodepool"), "gpu");
}

TEST_F(ProvisionerTest, DeletingANodeClaimTerminatesItsInstanceAndNode) {
  StartController();
  ApplySeed();
  Apply(GpuPod("gpu-1"));
  auto claims = LaunchedClaims(1);
  ASSERT_EQ(claims.size(), 1u);
  RegisterNode("ip-10-0-1-2.us-west-2.compute.internal", claims[0].status.provider_id, true);
  ASSERT_TRUE(Eventually([&] {
    auto c = kube::TypedClient<kube::NodeClaim>(*client_).Get("", claims[0].metadata.name);
    return c.ok() && c->Ready();
  }));
  // The pod is gone, so nothing asks for a replacement.
  ASSERT_TRUE(client_->Delete(kube::Pod::Resource(), "default", "gpu-1", {.grace_period_seconds = 0}).ok());
  ASSERT_TRUE(kube::TypedClient<kube::NodeClaim>(*client_).Delete("", claims[0].metadata.name).ok());
  ASSERT_TRUE(Eventually([&] { return NodeClaims().empty(); })) << "the finalizer must let go once the instance is gone";
  EXPECT_TRUE(Instances().empty());
  EXPECT_FALSE(GetNode("ip-10-0-1-2.us-west-2.compute.internal").has_value());
}

TEST_F(ProvisionerTest, GarbageCollectsLeakedInstancesAndClaimsWhoseInstanceIsGone) {
  StartController();
  ApplySeed();
  Apply(GpuPod("gpu-1"));
  auto claims = LaunchedClaims(1);
  ASSERT_EQ(claims.size(), 1u);
  // An instance the cluster launched whose NodeClaim never existed (a leak).
  cloud::NodeClaim orphan{.name = "gpu-orphan", .uid = "0a0b0c0d-0000-4000-8000-000000000001", .nodepool = "gpu",
                          .node_class = {.group = "karpenter.k8s.aws", .kind = "EC2NodeClass", .name = "gpu"},
                          .requirements = {}, .requests = {}, .labels = {}, .taints = {}, .startup_taints = {}, .tags = {}};
  orphan.requirements.Add(core::Requirement::In("node.kubernetes.io/instance-type", {"g6e.2xlarge"}));
  orphan.requirements.Add(core::Requirement::In("karpenter.sh/capacity-type", {"on-demand"}));
  auto leaked = provider_->Create(orphan);
  ASSERT_TRUE(leaked.ok()) << leaked.status();
  ASSERT_EQ(Instances().size(), 2u);

  GarbageCollector gc(controller_->cluster(), *provider_, controller_->metrics(), std::chrono::seconds(0));
  auto first = gc.Collect();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->instances_terminated, 1);
  EXPECT_EQ(first->nodeclaims_deleted, 0);
  ASSERT_TRUE(Eventually([&] { return Instances().size() == 1; }));
  EXPECT_EQ(Instances()[0].provider_id, claims[0].status.provider_id);

  // The claimed instance disappears behind the controller's back.
  ASSERT_TRUE(provider_->Delete(claims[0].status.provider_id).ok());
  ASSERT_TRUE(Eventually([&] { return Instances().empty(); }));
  ASSERT_TRUE(client_->Delete(kube::Pod::Resource(), "default", "gpu-1", {.grace_period_seconds = 0}).ok());
  ASSERT_TRUE(Eventually([&] {
    auto again = gc.Collect();
    return again.ok() && (again->nodeclaims_deleted == 1 || NodeClaims().empty());
  }));
  ASSERT_TRUE(Eventually([&] { return NodeClaims().empty(); }));
}

TEST_F(ProvisionerTest, DeletionDrainsTheNodeHonouringDisruptionBudgetsBeforeTerminating) {
  StartController();
  ApplySeed();
  const std::string node_name = "ip-10-0-1-3.us-west-2.compute.internal";
  kube::NodeClaim claim = ReadyNodeRunning("gpu-1", node_name);
  ASSERT_FALSE(claim.metadata.name.empty());
  // Beside the GPU pod: a pod whose budget allows no disruption, and a DaemonSet's pod.
  Apply(PodOn("guarded", node_name, {{"app", "guarded"}}));
  MarkRunning("guarded");
  Apply(Budget("guarded"));
  nlohmann::json agent = PodOn("agent", node_name, {{"app", "agent"}});
  agent["metadata"]["ownerReferences"] = {{{"apiVersion", "apps/v1"}, {"kind", "DaemonSet"}, {"name", "agent"},
                                           {"uid", "6b3c2f6e-0000-4000-8000-000000000001"}, {"controller", true}}};
  Apply(agent);
  // A critical pod (cluster DNS, say): evicted only after every other pod is gone.
  nlohmann::json dns = PodOn("dns", node_name, {{"app", "dns"}});
  dns["spec"]["priorityClassName"] = "system-cluster-critical";
  Apply(dns);
  MarkRunning("dns");

  ASSERT_TRUE(kube::TypedClient<kube::NodeClaim>(*client_).Delete("", claim.metadata.name).ok());
  ASSERT_TRUE(Eventually([&] {
    auto node = GetNode(node_name);
    return node && std::any_of(node->spec.taints.begin(), node->spec.taints.end(), [](const core::Taint& t) {
             return t.key == "karpenter.sh/disrupted" && t.effect == core::TaintEffect::kNoSchedule;
           });
  })) << "nothing new may land on a node being drained";
  ASSERT_TRUE(Eventually([&] { return Terminating("gpu-1"); })) << "the GPU pod is evicted";
  ConfirmDeletion("gpu-1");
  ASSERT_TRUE(Eventually([&] { return HasFailedDrainingEventNaming(claim.metadata.name, "default/guarded"); }));
  auto draining = kube::TypedClient<kube::NodeClaim>(*client_).Get("", claim.metadata.name);
  ASSERT_TRUE(draining.ok()) << draining.status();
  EXPECT_TRUE(HasCondition(*draining, "Drained", "False"));
  EXPECT_EQ(Instances().size(), 1u) << "the instance stays until the node is drained";
  EXPECT_FALSE(Terminating("guarded")) << "its budget forbids the eviction";
  EXPECT_FALSE(Terminating("dns")) << "a critical pod waits for the others";

  // The budget goes: the guarded pod is evicted, then the critical one, then the node and its
  // instance.
  ASSERT_TRUE(client_->Delete(kube::PodDisruptionBudget::Resource(), "default", "guarded").ok());
  ASSERT_TRUE(Eventually([&] { return Terminating("guarded"); }));
  EXPECT_FALSE(Terminating("dns")) << "not while the guarded pod is still terminating";
  ConfirmDeletion("guarded");
  ASSERT_TRUE(Eventually([&] { return Terminating("dns"); }));
  ConfirmDeletion("dns");
  ASSERT_TRUE(Eventually([&] { return NodeClaims().empty(); }));
  EXPECT_TRUE(Instances().empty());
  EXPECT_FALSE(GetNode(node_name).has_value());
  EXPECT_TRUE(GetPod("agent").has_value() && !Terminating("agent")) << "DaemonSet pods are not evicted";
}

TEST_F(ProvisionerTest, TerminationGracePeriodEndsADrainABudgetBlocks) {
  StartController();
  ApplySeed();
  nlohmann::json grace = {{"spec", {{"template", {{"spec", {{"terminationGracePeriod", "3s"}}}}}}}};
  ASSERT_TRUE(client_->Patch(kube::NodePool::Resource(), "", "gpu", kube::PatchType::kMerge, grace).ok());
  const std::string node_name = "ip-10-0-1-4.us-west-2.compute.internal";
  kube::NodeClaim claim = ReadyNodeRunning("gpu-1", node_name);
  ASSERT_FALSE(claim.metadata.name.empty());
  EXPECT_EQ(claim.spec.termination_grace_period, "3s") << "from the NodePool's template";
  nlohmann::json label = {{"metadata", {{"labels", {{"app", "llm"}}}}}};
  ASSERT_TRUE(client_->Patch(kube::Pod::Resource(), "default", "gpu-1", kube::PatchType::kMerge, label).ok());
  Apply(Budget("llm"));

  ASSERT_TRUE(kube::TypedClient<kube::NodeClaim>(*client_).Delete("", claim.metadata.name).ok());
  ASSERT_TRUE(Eventually([&] { return HasFailedDrainingEventNaming(claim.metadata.name, "default/gpu-1"); }));
  // Past the grace period the pod is deleted despite its budget (no kubelet needs to confirm:
  // the deletion has no grace left), and termination completes.
  ASSERT_TRUE(Eventually([&] { return !GetPod("gpu-1").has_value(); }));
  ASSERT_TRUE(Eventually([&] { return NodeClaims().empty(); }));
  EXPECT_TRUE(Instances().empty());
}

}  // namespace
}  // namespace gpufleet::provisioner

namespace gpufleet::provisioner {
namespace {

// Solves the provisioner has run so far (from its own metrics).
int64_t Solves(Controller& controller) {
  const std::string text = controller.metrics().Render();
  const std::string key = "karpenter_scheduler_scheduling_duration_seconds_count{controller=\"provisioner\"} ";
  auto at = text.find(key);
  return at == std::string::npos ? 0 : std::stoll(text.substr(at + key.size()));
}

// Three 1-GPU pods on one 4-GPU type, with a DaemonSet on GPU nodes: the claim counts its three
// pods and the daemon pod ("pods": 4), so while it is in flight the next solves place all three
// on it again instead of launching more (the regression: "pods" held only the daemon's 1).
TEST_F(ProvisionerTest, InFlightClaimHoldsAllItsPodsAcrossLaterSolves) {
  StartController();
  ApplySeed();
  nlohmann::json pool_patch = {
      {"spec",
       {{"limits", nullptr},
        {"template",
         {{"spec",
           {{"requirements",
             {{{"key", "node.kubernetes.io/instance-type"}, {"operator", "In"}, {"values", {"g6e.12xlarge"}}},
              {{"key", "karpenter.sh/capacity-type"}, {"operator", "In"}, {"values", {"on-demand"}}}}}}}}}}}};
  ASSERT_TRUE(client_->Patch(kube::NodePool::Resource(), "", "gpu", kube::PatchType::kMerge, pool_patch).ok());
  nlohmann::json ds = {
      {"apiVersion", "apps/v1"},
      {"kind", "DaemonSet"},
      {"metadata", {{"name", "agent"}, {"namespace", "default"}}},
      {"spec",
       {{"selector", {{"matchLabels", {{"app", "agent"}}}}},
        {"template",
         {{"metadata", {{"labels", {{"app", "agent"}}}}},
          {"spec",
           {{"tolerations", {{{"key", "nvidia.com/gpu"}, {"operator", "Exists"}}}},
            {"containers", {{{"name", "agent"}, {"image", "agent"}, {"resources", {{"requests", {{"cpu", "10m"}}}}}}}}}}}}}}};
  ASSERT_TRUE(client_->Create({"apps", "v1", "daemonsets", true}, "default", ds).ok());
  for (const char* name : {"gpu-1", "gpu-2", "gpu-3"}) Apply(GpuPod(name));
  auto claims = LaunchedClaims(1);
  ASSERT_EQ(claims.size(), 1u);
  EXPECT_EQ(claims[0].spec.resources.requests.Get("pods").Value(), 4) << claims[0].spec.resources.requests;
  const int64_t after_launch = Solves(*controller_);
  EXPECT_TRUE(Eventually([&] { return Solves(*controller_) >= after_launch + 2; }))
      << "the pending pods should be solved again while the claim is in flight";
  EXPECT_EQ(NodeClaims().size(), 1u) << "later solves launched again for pods the in-flight claim holds";
}

}  // namespace
}  // namespace gpufleet::provisioner
