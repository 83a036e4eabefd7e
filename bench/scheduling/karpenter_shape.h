// Karpenter's scheduling benchmark workload (shared/docs/reference/karpenter-benchmark.md):
// 400 fake instance types, one NodePool with huge limits, and N "diverse" pods split evenly
// into generic, zonal spread, hostname spread, zonal self-affinity and hostname anti-affinity
// classes (the remainder generic). Random choices come from std::mt19937 seeded 42: the same
// distribution as upstream's, not Go's exact sequence.
#pragma once

#include "scheduling/model.h"

namespace gpufleet::bench {

scheduling::Input KarpenterShape(int pods, int instance_types = 400);
// Upstream's second case: N pods labelled app=nginx, each preferring test-zone-1 (satisfiable),
// anti-affinity to app=nginx on zone (weight 10; cannot hold for all) and on hostname (weight 1).
scheduling::Input PreferenceShape(int pods, int instance_types = 400);

}  // namespace gpufleet::bench
