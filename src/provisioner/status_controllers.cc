#include "provisioner/status_controllers.h"

#include "cloud/cloud_provider.h"
#include "core/log.h"
#include "kube/types/typed_client.h"
#include "provisioner/conditions.h"
#include "provisioner/validation.h"

namespace gpufleet::provisioner {
namespace {

const core::log::Logger kLog("status");

// Karpenter names generated instance profiles <cluster>_<hash of the role>.
std::string InstanceProfileName(const std::string& cluster, const std::string& role) {
  return cluster + "_" + std::to_string(Fnv1a64(cluster + "/" + role));
}

}  // namespace

NodeClassStatusController::NodeClassStatusController(Cluster& cluster, NodeClassResolver resolver,
                                                     std::string cluster_name, std::chrono::seconds resolve_interval)
    : cluster_(cluster),
      resolver_(std::move(resolver)),
      cluster_name_(std::move(cluster_name)),
      resolve_interval_(resolve_interval) {}

Result<core::Duration> NodeClassStatusController::Reconcile(const std::string& name) {
  auto cached = cluster_.nodeclasses.Get(name);
  if (cached == nullptr || cached->metadata.deletion_timestamp) return core::Duration::zero();
  kube::EC2NodeClass node_class = *cached;
  const int64_t generation = node_class.metadata.generation;
  const core::TimePoint now = cluster_.clock().Now();
  auto& conditions = node_class.status.conditions;

  std::vector<std::string> problems = ValidateEC2NodeClass(node_class);
  Status resolve_error;
  if (problems.empty()) {
    SetTrue(conditions, "ValidationSucceeded", generation, now);
    auto resolved = resolver_(node_class.spec);
    if (resolved.ok()) {
      std::vector<kube::Condition> kept = std::move(conditions);
      node_class.status = std::move(resolved).value();
      node_class.status.conditions = std::move(kept);
      if (node_class.status.instance_profile.empty()) {
        node_class.status.instance_profile = node_class.spec.instance_profile
                                                 ? *node_class.spec.instance_profile
                                                 : InstanceProfileName(cluster_name_, node_class.spec.role);
      }
    } else {
      resolve_error = resolved.status();
    }
  } else {
    if (SetCondition(conditions, "ValidationSucceeded", "False", "ValidationFailed", JoinProblems(problems),
                     generation, now)) {
      cluster_.recorder().Event(ObjectRef(node_class), "Warning", "FailedValidation", JoinProblems(problems));
    }
  }

  auto readiness = [&](std::string_view type, bool ok, std::string_view reason, std::string_view message) {
    if (ok) {
      SetTrue(conditions, type, generation, now);
    } else {
      SetCondition(conditions, type, "False", reason, message, generation, now);
    }
  };
  std::string not_ready;
  if (!problems.empty()) {
    not_ready = "ValidationSucceeded=False";
  } else if (!resolve_error.ok()) {
    not_ready = "resolving selectors: " + std::string(resolve_error.message());
  } else {
    const auto& s = node_class.status;
    readiness("SubnetsReady", !s.subnets.empty(), "SubnetsNotFound", "SubnetSelector did not match any Subnets");
    readiness("SecurityGroupsReady", !s.security_groups.empty(), "SecurityGroupsNotFound",
              "SecurityGroupSelector did not match any SecurityGroups");
    readiness("AMIsReady", !s.amis.empty(), "AMINotFound", "AMISelector did not match any AMIs");
    readiness("CapacityReservationsReady", true, "", "");
    readiness("InstanceProfileReady", !s.instance_profile.empty(), "InstanceProfileNotFound", "no instance profile");
    for (auto type : {"SubnetsReady", "SecurityGroupsReady", "AMIsReady", "InstanceProfileReady"}) {
      if (!kube::IsConditionTrue(conditions, type)) not_ready += std::string(not_ready.empty() ? "" : ", ") + type + "=False";
    }
  }
  if (not_ready.empty()) {
    SetTrue(conditions, "Ready", generation, now);
  } else {
    SetCondition(conditions, "Ready", "False", resolve_error.ok() ? "UnhealthyDependents" : "ResolutionFailed",
                 not_ready, generation, now);
  }
  if (node_class.status != cached->status) {
    auto written = kube::TypedClient<kube::EC2NodeClass>(cluster_.client()).UpdateStatus(node_class);
    if (!written.ok()) return written.status();
    if (!not_ready.empty()) kLog.Warn("ec2nodeclass not ready", {{"ec2nodeclass", name}, {"reason", not_ready}});
  }
  // Transient resolution failures retry with backoff; otherwise re-resolve periodically.
  if (!resolve_error.ok() && cloud::Classify(resolve_error) == cloud::ErrorKind::kRetryable) return resolve_error;
  return core::Duration(resolve_interval_);
}

NodePoolStatusController::NodePoolStatusController(Cluster& cluster, Metrics& metrics)
    : cluster_(cluster), metrics_(metrics) {}

Result<core::Duration> NodePoolStatusController::Reconcile(const std::string& name) {
  auto cached = cluster_.nodepools.Get(name);
  if (cached == nullptr || cached->metadata.deletion_timestamp) return core::Duration::zero();
  kube::NodePool pool = *cached;
  const int64_t generation = pool.metadata.generation;
  const core::TimePoint now = cluster_.clock().Now();
  auto& conditions = pool.status.conditions;

  std::vector<std::string> problems = ValidateNodePool(WithDefaults(pool));
  if (problems.empty()) {
    SetTrue(conditions, "ValidationSucceeded", generation, now);
  } else {
    if (SetCondition(conditions, "ValidationSucceeded", "False", "ValidationFailed", JoinProblems(problems),
                     generation, now)) {
      cluster_.recorder().Event(ObjectRef(pool), "Warning", "FailedValidation", JoinProblems(problems));
    }
  }
  const auto& ref = pool.spec.template_.spec.node_class_ref;
  auto node_class = cluster_.nodeclasses.Get(ref.name);
  if (ref.kind != kube::EC2NodeClass::kKind || ref.group != "karpenter.k8s.aws") {
    SetCondition(conditions, "NodeClassReady", "False", "NodeClassNotFound",
                 "nodeClassRef " + ref.group + "/" + ref.kind + " is not served by this controller", generation, now);
  } else if (node_class == nullptr) {
    SetCondition(conditions, "NodeClassReady", "False", "NodeClassNotFound",
                 "EC2NodeClass \"" + ref.name + "\" not found", generation, now);
  } else if (!node_class->Ready()) {
    SetCondition(conditions, "NodeClassReady", "False", "NodeClassNotReady",
                 "EC2NodeClass \"" + ref.name + "\" is not ready", generation, now);
  } else {
    SetTrue(conditions, "NodeClassReady", generation, now);
    pool.status.node_class_observed_generation = node_class->metadata.generation;
  }
  bool ready = kube::IsConditionTrue(conditions, "ValidationSucceeded") && kube::IsConditionTrue(conditions, "NodeClassReady");
  if (ready) {
    SetTrue(conditions, "Ready", generation, now);
  } else {
    SetCondition(conditions, "Ready", "False", "UnhealthyDependents",
                 kube::IsConditionTrue(conditions, "ValidationSucceeded") ? "NodeClassReady=False" : "ValidationSucceeded=False",
                 generation, now);
  }

  core::ResourceList resources;
  int64_t nodes = 0;
  for (const auto& claim : cluster_.nodeclaims.ByIndex(kNodeClaimsByNodePool, name)) {
    const auto& footprint = claim->status.capacity.empty() ? claim->spec.resources.requests : claim->status.capacity;
    GF_RETURN_IF_ERROR(core::MergeInto(resources, footprint));
    if (!claim->status.node_name.empty()) ++nodes;
  }
  pool.status.resources = resources;
  pool.status.nodes = nodes;
  for (const auto& [resource, q] : resources) {
    metrics_.Set("karpenter_nodepools_usage", {{"nodepool", name}, {"resource_type", resource}}, q.AsApproximateDouble());
  }
  for (const auto& [resource, q] : pool.spec.limits) {
    metrics_.Set("karpenter_nodepools_limit", {{"nodepool", name}, {"resource_type", resource}}, q.AsApproximateDouble());
  }
  if (pool.status != cached->status) {
    auto written = kube::TypedClient<kube::NodePool>(cluster_.client()).UpdateStatus(pool);
    if (!written.ok()) return written.status();
  }
  // Karpenter's nodepool hash controller: the template's hash on the NodePool itself, beside the
  // one each NodeClaim was created with, so drift is a comparison of two annotations.
  const std::string hash = NodePoolHash(*cached);
  auto annotation = [&](std::string_view key) {
    auto it = cached->metadata.annotations.find(key);
    return it == cached->metadata.annotations.end() ? std::string() : it->second.str();
  };
  if (annotation(kNodePoolHashAnnotation) != hash || annotation(kNodePoolHashVersionAnnotation) != kNodePoolHashVersion) {
    nlohmann::json patch = {{"metadata", {{"annotations", {{std::string(kNodePoolHashAnnotation), hash},
                                                           {std::string(kNodePoolHashVersionAnnotation),
                                                            std::string(kNodePoolHashVersion)}}}}}};
    auto patched = cluster_.client().Patch(kube::NodePool::Resource(), "", name, kube::PatchType::kMerge, patch);
    if (!patched.ok() && patched.status().code() != StatusCode::kNotFound) return patched.status();
  }
  return core::Duration::zero();
}

}  // namespace gpufleet::provisioner
