// Informers over the typed views: caches that hold Pods, Nodes, ... as compact structs.
// The instantiations live in informers.cc; another view needs a line there.
#pragma once

#include "kube/informer.h"
#include "kube/types/daemon_set.h"
#include "kube/types/event.h"
#include "kube/types/karpenter.h"
#include "kube/types/lease.h"
#include "kube/types/node.h"
#include "kube/types/pod.h"
#include "kube/types/pod_disruption_budget.h"

namespace gpufleet::kube {

extern template class BasicInformer<Pod>;
extern template class BasicInformer<Node>;
extern template class BasicInformer<Lease>;
extern template class BasicInformer<Event>;
extern template class BasicInformer<DaemonSet>;
extern template class BasicInformer<PodDisruptionBudget>;
extern template class BasicInformer<NodePool>;
extern template class BasicInformer<NodeClaim>;
extern template class BasicInformer<EC2NodeClass>;

using PodInformer = BasicInformer<Pod>;
using NodeInformer = BasicInformer<Node>;
using LeaseInformer = BasicInformer<Lease>;
using EventInformer = BasicInformer<Event>;
using DaemonSetInformer = BasicInformer<DaemonSet>;
using PodDisruptionBudgetInformer = BasicInformer<PodDisruptionBudget>;
using NodePoolInformer = BasicInformer<NodePool>;
using NodeClaimInformer = BasicInformer<NodeClaim>;
using EC2NodeClassInformer = BasicInformer<EC2NodeClass>;

// Index name and function for pods by spec.nodeName (unscheduled pods under "").
inline constexpr const char* kPodsByNodeName = "spec.nodeName";
std::vector<std::string> PodNodeNameIndex(const Pod& pod);

}  // namespace gpufleet::kube
