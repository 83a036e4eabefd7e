// Drain: empties a Node before its instance is terminated (Karpenter's termination controller).
// One pass at a time, called from NodeClaim finalization until it reports the Node drained:
//   1. the Node is tainted karpenter.sh/disrupted:NoSchedule, so nothing new lands on it;
//   2. each pod that would be lost with the node is evicted through the Eviction API, which
//      honours PodDisruptionBudgets (a refused eviction is retried on the next pass, and the
//      NodeClaim gets a FailedDraining Event naming the pods that hold it up). Critical pods
//      (priority class system-cluster-critical / system-node-critical: DNS, CNI, logging) are
//      evicted only once every other pod is gone, so they serve the others to the end;
//   3. once the NodeClaim's spec.terminationGracePeriod has passed since its deletion, such pods
//      are deleted instead: the grace period bounds a drain that PDBs would hold forever;
//   4. the Node is drained when none is left, where a pod that is still terminating a minute
//      after its deletion deadline no longer counts (a kubelet that is gone never confirms it).
// Never evicted, and not waited for: DaemonSet pods (their controller would put them back; they
// go with the node), mirror pods of static manifests, finished pods, and pods that tolerate the
// disrupted taint (Karpenter's rule: they asked to stay).
#pragma once

#include <optional>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "kube/types/karpenter.h"
#include "kube/types/node.h"
#include "provisioner/cached_pod.h"
#include "provisioner/cluster.h"
#include "provisioner/metrics.h"

namespace gpufleet::provisioner {

enum class DrainAction {
  kIgnore,  // not drained and not waited for
  kWait,    // terminating: wait for it to go
  kEvict,
  kDelete,  // the grace period is over
};

// What a drain pass does with one pod of the node at `now`; `deadline`: when the NodeClaim's
// terminationGracePeriod ends (none: evictions may wait forever).
DrainAction DrainActionFor(const CachedPod& pod, core::TimePoint now, std::optional<core::TimePoint> deadline);

// The end of the NodeClaim's terminationGracePeriod (deletionTimestamp + period), if it has one.
std::optional<core::TimePoint> DrainDeadline(const kube::NodeClaim& claim);

struct DrainResult {
  bool drained = false;
  size_t evicted = 0;
  size_t deleted = 0;
  size_t blocked = 0;  // evictions refused (PodDisruptionBudget)
  size_t waiting = 0;  // terminating pods still on the node
};

class Drainer {
 public:
  Drainer(Cluster& cluster, Metrics& metrics);
  // One pass over `node` for `claim`. Errors: the taint could not be written, or an eviction or
  // deletion failed for another reason than a budget or the pod being gone.
  Result<DrainResult> Drain(const kube::NodeClaim& claim, const kube::Node& node);

 private:
  Status Taint(const kube::Node& node);

  Cluster& cluster_;
  Metrics& metrics_;
};

}  // namespace gpufleet::provisioner
