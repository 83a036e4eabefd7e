#include "provisioner/drain.h"

#include <algorithm>

#include "core/log.h"
#include "core/taints.h"
#include "core/time_format.h"
#include "kube/client.h"

namespace gpufleet::provisioner {
namespace {

const core::log::Logger kLog("drain");

// A pod still terminating this long after its deletion deadline is taken as gone.
constexpr auto kStuckTerminating = std::chrono::minutes(1);

}  // namespace

DrainAction DrainActionFor(const CachedPod& pod, core::TimePoint now, std::optional<core::TimePoint> deadline) {
  if (!pod.holds_resources || pod.daemon_set || pod.mirror || pod.tolerates_disruption) return DrainAction::kIgnore;
  if (pod.deleting_at) {
    if (now > *pod.deleting_at + kStuckTerminating) return DrainAction::kIgnore;
    // Deleting with a grace period that runs past the NodeClaim's: delete again, now.
    if (deadline && now >= *deadline) return DrainAction::kDelete;
    return DrainAction::kWait;
  }
  return deadline && now >= *deadline ? DrainAction::kDelete : DrainAction::kEvict;
}

std::optional<core::TimePoint> DrainDeadline(const kube::NodeClaim& claim) {
  if (!claim.metadata.deletion_timestamp || !claim.spec.termination_grace_period) return std::nullopt;
  auto deleted = core::ParseRfc3339(*claim.metadata.deletion_timestamp);
  auto period = core::ParseGoDuration(*claim.spec.termination_grace_period);
  if (!deleted.ok() || !period.ok()) return std::nullopt;
  return *deleted + std::chrono::duration_cast<core::TimePoint::duration>(*period);
}

Drainer::Drainer(Cluster& cluster, Metrics& metrics) : cluster_(cluster), metrics_(metrics) {}

Status Drainer::Taint(const kube::Node& node) {
  const core::Taint disrupted = DisruptedTaint();
  if (std::any_of(node.spec.taints.begin(), node.spec.taints.end(),
                  [&](const core::Taint& t) { return t.MatchesIdentity(disrupted); })) {
    return OkStatus();
  }
  nlohmann::json taints = nlohmann::json::array();
  for (const auto& t : node.spec.taints) taints.push_back(core::ToJson(t));
  taints.push_back(core::ToJson(disrupted));
  // The resourceVersion makes it conditional: a concurrent taint change is not overwritten.
  nlohmann::json patch = {{"metadata", {{"resourceVersion", node.metadata.resource_version}}},
                          {"spec", {{"taints", taints}}}};
  auto patched = cluster_.client().Patch(kube::Node::Resource(), "", node.metadata.name, kube::PatchType::kMerge, patch);
  if (!patched.ok() && patched.status().code() != StatusCode::kNotFound) return patched.status();
  return OkStatus();
}

Result<DrainResult> Drainer::Drain(const kube::NodeClaim& claim, const kube::Node& node) {
  GF_RETURN_IF_ERROR(Taint(node));
  DrainResult out;
  const core::TimePoint now = cluster_.clock().Now();
  const std::optional<core::TimePoint> deadline = DrainDeadline(claim);
  const std::string pool(claim.NodePoolName());
  std::string blocked_pods;
  auto pods = cluster_.pods.ByIndex(kube::kPodsByNodeName, node.metadata.name);
  std::vector<DrainAction> actions;
  actions.reserve(pods.size());
  bool others_left = false;
  for (const auto& pod : pods) {
    actions.push_back(DrainActionFor(*pod, now, deadline));
    others_left = others_left || (!pod->critical && actions.back() != DrainAction::kIgnore);
  }
  for (size_t i = 0; i < pods.size(); ++i) {
    const auto& pod = pods[i];
    const std::string ns = pod->metadata.ns.str();
    DrainAction action = actions[i];
    // Critical pods go last (Karpenter's eviction groups): not while any other pod is still to go.
    if (pod->critical && others_left && action == DrainAction::kEvict) action = DrainAction::kWait;
    switch (action) {
      case DrainAction::kIgnore:
        break;
      case DrainAction::kWait:
        ++out.waiting;
        break;
      case DrainAction::kEvict: {
        Status s = cluster_.client().Evict(ns, pod->metadata.name);
        if (s.ok() || s.code() == StatusCode::kNotFound) {
          ++out.evicted;
          metrics_.Inc("karpenter_nodes_eviction_requests_total", {{"code", "200"}});
          kLog.Info("evicted pod", {{"pod", pod->metadata.Key()}, {"node", node.metadata.name}});
        } else if (s.code() == StatusCode::kResourceExhausted) {
          ++out.blocked;
          metrics_.Inc("karpenter_nodes_eviction_requests_total", {{"code", "429"}});
          if (!blocked_pods.empty()) blocked_pods += ", ";
          blocked_pods += pod->metadata.Key();
        } else {
          return s;
        }
        break;
      }
      case DrainAction::kDelete: {
        auto deleted = cluster_.client().Delete(kube::Pod::Resource(), ns, pod->metadata.name,
                                                kube::DeleteOptions{.grace_period_seconds = 0});
        if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) return deleted.status();
        ++out.deleted;
        kLog.Info("deleted pod past the termination grace period",
                  {{"pod", pod->metadata.Key()}, {"node", node.metadata.name}, {"nodeclaim", claim.metadata.name}});
        break;
      }
    }
  }
  out.drained = out.evicted == 0 && out.deleted == 0 && out.blocked == 0 && out.waiting == 0;
  if (out.blocked > 0) {
    cluster_.recorder().Event(ObjectRef(claim), "Warning", "FailedDraining",
                              "Failed to drain node, " + std::to_string(out.blocked) +
                                  " pods are waiting to be evicted (PodDisruptionBudget): " + blocked_pods);
  }
  if (out.drained) {
    metrics_.Inc("karpenter_nodes_drained_total", {{"nodepool", pool}});
  }
  return out;
}

}  // namespace gpufleet::provisioner
