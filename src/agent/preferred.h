// GetPreferredAllocation: which of the available devices a container should get.
//
// Whole GPUs: the set of the requested size (containing must_include) with the best summed pair
// score, scores from a link matrix built once at start (NVIDIA's plugin rebuilds NVML link info
// on every call, #460): 100 per NVLink between the two GPUs, plus their PCIe distance (same
// switch 50, several switches 40, host bridge 30, same NUMA node 20, across 10). Ties go to the
// choice that leaves the best-connected GPUs for later requests, so a 1-GPU pod takes a GPU
// whose NVLink partners are already busy instead of splitting a free pair (#1193). Exact search
// for up to 16 GPUs (at most C(16,8) sets), greedy beyond.
// Shared replicas: spread over the GPUs with the fewest replicas in use ("distributed").
// Unhealthy or unknown devices are never chosen; an impossible request returns the available
// devices in order rather than an error, so admission is never blocked (#2038).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/resources.h"
#include "gpu/device.h"

namespace gpufleet::agent {

class LinkMatrix {
 public:
  LinkMatrix() = default;
  // `level(a, b)`: the PCIe topology level between GPU indexes (or an error: scored as across).
  LinkMatrix(const std::vector<gpu::DeviceInfo>& gpus,
             const std::function<Result<gpu::TopologyLevel>(unsigned, unsigned)>& level);
  int Score(unsigned a, unsigned b) const;
  size_t size() const { return n_; }

 private:
  size_t n_ = 0;
  std::vector<int> score_;  // n_ x n_, by GPU index
};

std::vector<std::string> PreferredAllocation(const PluginResource& resource, const LinkMatrix& links,
                                             const std::vector<std::string>& available,
                                             const std::vector<std::string>& must_include, size_t size);

}  // namespace gpufleet::agent
