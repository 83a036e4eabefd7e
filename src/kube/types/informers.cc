#include "kube/types/informers.h"

#include "kube/informer_impl.h"

namespace gpufleet::kube {

template class BasicInformer<Pod>;
template class BasicInformer<Node>;
template class BasicInformer<Lease>;
template class BasicInformer<Event>;
template class BasicInformer<DaemonSet>;
template class BasicInformer<PodDisruptionBudget>;
template class BasicInformer<NodePool>;
template class BasicInformer<NodeClaim>;
template class BasicInformer<EC2NodeClass>;

std::vector<std::string> PodNodeNameIndex(const Pod& pod) { return {pod.spec.node_name.str()}; }

}  // namespace gpufleet::kube
