// CachedPod: what the controller keeps of a pod. With 100k pods the pod cache is most of the
// controller's memory, and nearly every pod is bound: of those only what the solver counts on
// their node is kept (requests, host ports, labels, required anti-affinity). An unbound pod
// keeps its whole view, as the provisioner may solve for it. A pod's transition from unbound to
// bound replaces the entry, so the full view is dropped as soon as the pod is placed.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/clock.h"
#include "core/interned_string.h"
#include "core/status.h"
#include "kube/informer.h"
#include "kube/types/pod.h"
#include "provisioner/scheduling_input.h"

namespace gpufleet::provisioner {

struct CachedPod {
  static constexpr std::string_view kApiVersion = kube::Pod::kApiVersion;
  static constexpr std::string_view kKind = kube::Pod::kKind;
  static kube::Gvr Resource() { return kube::Pod::Resource(); }

  struct Meta {  // the uid and the rest are in `unbound` for the pods Events name
    std::string name;
    core::InternedString ns;
    std::string resource_version;
    std::string Key() const { return ns.str() + "/" + name; }
  } metadata;
  core::InternedString node_name;
  bool holds_resources = false;  // bound and not finished (HoldsResources)
  // What draining its node needs (drain.h).
  bool daemon_set = false;            // controlled by a DaemonSet
  bool mirror = false;                // a static pod's mirror (kubernetes.io/config.mirror)
  bool tolerates_disruption = false;  // tolerates karpenter.sh/disrupted:NoSchedule
  bool critical = false;              // priority class system-cluster-critical or system-node-critical
  std::optional<core::TimePoint> deleting_at;  // metadata.deletionTimestamp (end of its grace)
  std::shared_ptr<const kube::Pod> unbound;  // the whole view, while no node is assigned
  // Holding resources: what it takes from its node; or why that could not be computed.
  std::optional<PodUsage> usage;
  std::string usage_error;
};

CachedPod ToCachedPod(kube::Pod pod);

// Karpenter's taint on nodes it is about to take away (drain.h): karpenter.sh/disrupted:NoSchedule.
inline constexpr std::string_view kDisruptedTaintKey = "karpenter.sh/disrupted";
inline core::Taint DisruptedTaint() {
  return core::Taint{.key = std::string(kDisruptedTaintKey), .effect = core::TaintEffect::kNoSchedule};
}

// IsProvisionable for a cached pod (only unbound pods can be).
bool IsProvisionable(const CachedPod& pod, PendingPodPolicy policy);

}  // namespace gpufleet::provisioner

namespace gpufleet::kube {

template <>
struct InformerTraits<provisioner::CachedPod> {
  static Result<provisioner::CachedPod> Decode(nlohmann::json& obj);
  static std::string Key(const provisioner::CachedPod& pod) { return pod.metadata.Key(); }
  static std::string Namespace(const provisioner::CachedPod& pod) { return pod.metadata.ns.str(); }
  static std::string ResourceVersion(const provisioner::CachedPod& pod) { return pod.metadata.resource_version; }
};

extern template class BasicInformer<provisioner::CachedPod>;

}  // namespace gpufleet::kube

namespace gpufleet::provisioner {
using CachedPodInformer = kube::BasicInformer<CachedPod>;
}  // namespace gpufleet::provisioner
