// What a pod asks a node for: Kubernetes' effective pod requests (component-helpers
// resource.PodRequests), as kube-scheduler and Karpenter compute them.
//
//   regular containers      summed; a resource with a limit but no request uses the limit
//                           (the API server's defaulting, which Karpenter applies again)
//   sidecars                init containers with restartPolicy Always: they run for the pod's
//                           life, so they add to the sum, and to every later init container
//   init containers         run one at a time: the pod needs the largest of them (plus the
//                           sidecars started before it) at once
//   overhead                (RuntimeClass) added on top
// Result: max(sum of containers and sidecars, largest init step) + overhead, per resource.
#pragma once

#include <vector>

#include "core/resource_list.h"
#include "core/status.h"

namespace gpufleet::scheduling {

struct ContainerResources {
  core::ResourceList requests;
  core::ResourceList limits;
  bool sidecar = false;  // an init container with restartPolicy Always
};

struct PodResources {
  std::vector<ContainerResources> containers;
  std::vector<ContainerResources> init_containers;  // in spec order
  core::ResourceList overhead;
};

// OutOfRange (naming the resource) only when a sum leaves Quantity's range; InvalidArgument
// naming the container for a negative request.
::gpufleet::Result<core::ResourceList> EffectiveRequests(const PodResources& pod);

}  // namespace gpufleet::scheduling
