// kube-scheduler's FitError message for a pod that no node can take, as `kubectl describe pod`
// shows it and the PodScheduled=False condition carries it:
//   0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) had untolerated taint
//   {nvidia.com/gpu: }, 1 node(s) were unschedulable.
// Each node counts under the first check that refuses it, in kube-scheduler's filter order
// (NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit), then what
// only the solver checks (pod affinity, anti-affinity, topology spread). NodeResourcesFit names
// every resource that is short, as kube-scheduler does.
#pragma once

#include <string>
#include <vector>

#include "kube/types/node.h"
#include "scheduling/model.h"

namespace gpufleet::sim {

// A node as the binder saw it in one pass. `state` is what the solver was given for it, with
// the pods it placed there in the same pass added to `requested`; nullptr when the node was no
// candidate at all (not Ready, or being deleted).
struct NodeFit {
  const kube::Node* node = nullptr;
  const scheduling::ExistingNode* state = nullptr;
};

// Why `node` cannot take `pod`: one reason, several "Insufficient ..." ones, or (when none of
// the per-node checks explains it) the pod's inter-pod constraints.
std::vector<std::string> NodeRefusals(const scheduling::Pod& pod, const NodeFit& node);

// "0/N nodes are available: <count reason, ...>." with the reasons sorted as kube-scheduler
// sorts them; "no nodes available to schedule pods" when there are no nodes.
std::string UnschedulableMessage(const scheduling::Pod& pod, const std::vector<NodeFit>& nodes);

}  // namespace gpufleet::sim
