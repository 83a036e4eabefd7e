// The DaemonSet controller's rules for one DaemonSet and one node, as kube-controller-manager's
// daemon controller applies them (pkg/controller/daemon), without I/O.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/taints.h"
#include "kube/types/node.h"
#include "kube/types/pod.h"

namespace gpufleet::sim {

// The tolerations every daemon pod gets (AddOrUpdateDaemonPodTolerations): not-ready and
// unreachable (NoExecute); disk-, memory- and pid-pressure and unschedulable (NoSchedule);
// network-unavailable (NoSchedule) for host-network pods. A daemon runs through all of these.
std::vector<core::Toleration> DaemonPodTolerations(bool host_network);

// `spec`'s tolerations with DaemonPodTolerations added where missing.
std::vector<core::Toleration> WithDaemonPodTolerations(const kube::PodSpec& spec);

// NodeShouldRunDaemonPod. A pod should run when the template's nodeName (if any), nodeSelector
// and required node affinity (matchFields on metadata.name too) match the node and its
// tolerations, daemon ones included, tolerate every NoSchedule and NoExecute taint. A pod
// already there continues running while the node still matches and only NoSchedule taints are
// untolerated (a taint added later does not evict it; a NoExecute one does).
struct NodeDecision {
  bool should_run = false;
  bool should_continue_running = false;
};
NodeDecision ShouldRun(const kube::PodSpec& spec, const kube::Node& node);

// A stable hash of the pod template (FNV-1a of its canonical JSON) in the alphabet the
// controller-revision-hash label uses (rand.SafeEncodeString).
std::string TemplateHash(const nlohmann::json& pod_template);

// The pod the DaemonSet `daemon_set` (its JSON) runs on `node`: generateName "<name>-", the
// template's labels plus controller-revision-hash and pod-template-generation, the DaemonSet
// as controller owner, the template's spec with the daemon tolerations, bound to `node`
// through spec.nodeName (the real controller pins it by node affinity and lets the scheduler
// bind; the embedded cluster's binder would make the same choice).
nlohmann::json NewDaemonPod(const nlohmann::json& daemon_set, const std::string& hash, const std::string& node);

}  // namespace gpufleet::sim
