// From the API's objects to the simulator's model (scheduling/model.h): pure conversions, no
// I/O, so they are tested and benchmarked without a cluster.
//
//   Pod        -> scheduling::Pod: effective requests, nodeSelector + the first required
//                 node-affinity term (the other terms as alternatives), preferences, tolerations,
//                 host ports, spread and (anti-)affinity with matchLabelKeys folded in
//   DaemonSet  -> DaemonSetPod: the per-node overhead of its pod template
//   NodePool   -> scheduling::NodePool: requirements + template labels, taints, limits, weight
//   Node / NodeClaim -> ExistingNode: registered nodes with the pods bound to them, and
//                 NodeClaims still in flight (no Node yet), sized by what they were launched as
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "kube/types/daemon_set.h"
#include "kube/types/karpenter.h"
#include "kube/types/node.h"
#include "kube/types/pod.h"
#include "scheduling/model.h"

namespace gpufleet::provisioner {

// Which unbound pods the provisioner provisions for.
enum class PendingPodPolicy {
  // PodScheduled=False with reason Unschedulable (kube-scheduler gave up): Karpenter's rule.
  kUnschedulable,
  // Also unbound pods no scheduler has marked yet (the embedded cluster has no kube-scheduler).
  kUnbound,
};

// A pod the provisioner should find capacity for: not bound, not finished, not being deleted,
// not a DaemonSet's (the DaemonSet controller places those), and pending per `policy`.
bool IsProvisionable(const kube::Pod& pod, PendingPodPolicy policy);
// A pod that occupies its node's resources: bound and not finished.
bool HoldsResources(const kube::Pod& pod);
bool IsDaemonSetPod(const kube::Pod& pod);

Result<scheduling::Pod> ToSchedulingPod(const kube::Pod& pod);
Result<scheduling::DaemonSetPod> ToDaemonSetPod(const kube::DaemonSet& daemon_set);
// The NodePool's template; `instance_types` and `in_use` are left for the caller.
Result<scheduling::NodePool> ToSchedulingNodePool(const kube::NodePool& pool);

// What a pod bound to a node takes from it, as the solver counts it.
struct PodUsage {
  core::ResourceList requests;  // effective requests
  std::vector<scheduling::HostPort> host_ports;
  scheduling::BoundPod pod;  // namespace, labels, required anti-affinity (topology, symmetry)
};
// InvalidArgument / OutOfRange when its requests do not add up or a selector does not compile.
Result<PodUsage> UsageOf(const kube::Pod& pod);

// A registered Node and the usage of the pods bound to it that hold resources.
Result<scheduling::ExistingNode> ToExistingNode(const kube::Node& node, const std::vector<const PodUsage*>& pods,
                                                const kube::NodeClaim* claim, const kube::NodePool* pool);
// A NodeClaim without a Node yet: labels from its single-valued requirements, its pool's
// template labels; allocatable as launched (status.allocatable) or, before the launch
// answered, what it was created for (spec.resources.requests), so the pods it was created for
// fit on it again and the next solve does not launch a second node for them.
scheduling::ExistingNode InFlightNode(const kube::NodeClaim& claim, const kube::NodePool* pool);

// The labels a NodeClaim (and its Node) carry: template labels, single-valued In requirements
// (instance type, zone, capacity type, ... once narrowed), the nodepool label.
core::Labels NodeClaimLabels(const kube::NodeClaim& claim, const kube::NodePool* pool);

}  // namespace gpufleet::provisioner
