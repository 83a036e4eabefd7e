#include "provisioner/cached_pod.h"

#include "core/taints.h"
#include "core/time_format.h"
#include "kube/informer_impl.h"

namespace gpufleet::provisioner {

CachedPod ToCachedPod(kube::Pod pod) {
  CachedPod out;
  out.metadata = {.name = pod.metadata.name,
                  .ns = pod.metadata.ns,
                  .resource_version = pod.metadata.resource_version};
  out.node_name = pod.spec.node_name;
  out.holds_resources = HoldsResources(pod);
  out.daemon_set = IsDaemonSetPod(pod);
  out.mirror = pod.metadata.annotations.contains("kubernetes.io/config.mirror");
  out.critical = pod.spec.priority_class_name == "system-cluster-critical" ||
                 pod.spec.priority_class_name == "system-node-critical";
  out.tolerates_disruption = core::Tolerated(pod.spec.tolerations, DisruptedTaint());
  if (pod.metadata.deletion_timestamp) {
    if (auto at = core::ParseRfc3339(*pod.metadata.deletion_timestamp); at.ok()) out.deleting_at = *at;
  }
  if (out.holds_resources) {
    auto usage = UsageOf(pod);
    if (usage.ok()) {
      out.usage = std::move(usage).value();
    } else {
      out.usage_error = std::string(usage.status().message());
    }
  }
  if (pod.spec.node_name.empty()) {
    out.unbound = std::make_shared<const kube::Pod>(std::move(pod));
  }
  return out;
}

bool IsProvisionable(const CachedPod& pod, PendingPodPolicy policy) {
  return pod.unbound != nullptr && IsProvisionable(*pod.unbound, policy);
}

}  // namespace gpufleet::provisioner

namespace gpufleet::kube {

Result<provisioner::CachedPod> InformerTraits<provisioner::CachedPod>::Decode(nlohmann::json& obj) {
  GF_ASSIGN_OR_RETURN(Pod pod, FromJson<Pod>(obj));
  return provisioner::ToCachedPod(std::move(pod));
}

template class BasicInformer<provisioner::CachedPod>;

}  // namespace gpufleet::kube
