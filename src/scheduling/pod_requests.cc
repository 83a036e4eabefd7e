#include "scheduling/pod_requests.h"

#include <string>

namespace gpufleet::scheduling {
namespace {

// Requests, with each limit that has no request standing in for it.
Result<core::ResourceList> RequestsOf(const ContainerResources& c, const char* kind, size_t index) {
  core::ResourceList out = c.requests;
  for (const auto& [name, limit] : c.limits) {
    if (!out.Contains(name)) out.Set(name, limit);
  }
  for (const auto& [name, q] : out) {
    if (q.Sign() < 0) {
      return InvalidArgumentError(std::string(kind) + "[" + std::to_string(index) + "]: negative request " +
                                  name + "=" + q.String());
    }
  }
  return out;
}

}  // namespace

Result<core::ResourceList> EffectiveRequests(const PodResources& pod) {
  core::ResourceList sum;
  for (size_t i = 0; i < pod.containers.size(); ++i) {
    GF_ASSIGN_OR_RETURN(core::ResourceList r, RequestsOf(pod.containers[i], "containers", i));
    GF_RETURN_IF_ERROR(core::MergeInto(sum, r));
  }
  core::ResourceList sidecars;  // sidecars started so far
  core::ResourceList init_peak;
  for (size_t i = 0; i < pod.init_containers.size(); ++i) {
    GF_ASSIGN_OR_RETURN(core::ResourceList r, RequestsOf(pod.init_containers[i], "initContainers", i));
    core::ResourceList step;
    if (pod.init_containers[i].sidecar) {
      GF_RETURN_IF_ERROR(core::MergeInto(sum, r));
      GF_RETURN_IF_ERROR(core::MergeInto(sidecars, r));
      step = sidecars;
    } else {
      GF_ASSIGN_OR_RETURN(step, core::Merge(r, sidecars));
    }
    init_peak = core::MaxResources(init_peak, step);
  }
  core::ResourceList out = core::MaxResources(sum, init_peak);
  GF_RETURN_IF_ERROR(core::MergeInto(out, pod.overhead));
  return out;
}

}  // namespace gpufleet::scheduling
