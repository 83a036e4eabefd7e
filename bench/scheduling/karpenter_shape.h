// Karpenter's scheduling benchmark workload (shared/docs/reference/karpenter-benchmark.md):
// 400 fake instance types, one NodePool with huge limits, and N "diverse" pods split evenly
// into generic, zonal spread, hostname spread, zonal self-affinity and hostname anti-affinity
// classes (the remainder generic). Random choices come from std::mt19937 seeded 42: the same
// distribution as upstream's, not Go's exact sequence.
#pragma once

#include "scheduling/model.h"

namespace gpufleet::bench {

scheduling::Input KarpenterShape(int pods, int instance_types = 400);

}  // namespace gpufleet::bench
