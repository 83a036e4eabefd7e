// Karpenter's fake instance types (pkg/cloudprovider/fake/instancetype.go), for tests and the
// scheduling benchmark: type i is "fake-it-<i>" with cpu i+1, memory 2(i+1)Gi, pods 10(i+1);
// spot in test-zone-1/2 and on-demand in test-zone-1/2/3, all available; every offering costs
// 0.1 * cpu + 0.1 * memory bytes / 1e9 (+1 per GPU). No overhead: allocatable = capacity.
#pragma once

#include <vector>

#include "scheduling/instance_type.h"

namespace gpufleet::scheduling {

struct FakeTypeOptions {
  int64_t gpus = 0;  // nvidia.com/gpu per instance
  std::string name_prefix = "fake-it-";
};

InstanceType FakeInstanceType(int index, const FakeTypeOptions& options = {});
// Types 0..count-1.
std::vector<InstanceType> FakeInstanceTypes(int count);

}  // namespace gpufleet::scheduling
