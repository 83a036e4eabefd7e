// A GPU workload on the real GPU instance types (data/aws-instance-types.json): every type with
// nvidia.com/gpu and a us-east-1 on-demand price, on-demand in three zones, with Karpenter's AWS
// allocatable; inference pods asking for 1, 2, 4 or 8 GPUs (1-GPU pods most common).
#pragma once

#include <string>

#include "scheduling/model.h"

namespace gpufleet::bench {

// Fails (empty instance types) when the data file cannot be read.
scheduling::Input GpuShape(const std::string& data_file, int pods);
// Total on-demand $/h of the claims, each at its cheapest instance type.
double ClaimsPricePerHour(const scheduling::Input& in, const scheduling::Result& r);

}  // namespace gpufleet::bench
