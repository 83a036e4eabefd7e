// Solve: Karpenter's provisioning simulation (pkg/controllers/provisioning/scheduling).
//
// Pods are sorted by CPU, then memory (both descending), then age, then UID, and placed one at
// a time, each on the first of:
//   1. an existing node or in-flight NodeClaim (initialized ones first) that tolerates, matches
//      and fits it;
//   2. a NodeClaim created earlier in this solve, fewest pods first, whose remaining instance
//      types can still hold every pod added so far plus this one;
//   3. a new NodeClaim from the first NodePool (by weight, then name) that can take it, among
//      instance types that fit the pool's remaining limits.
// A pod that fails is retried after the others, and the solve ends when a whole pass places
// nothing. Preferences are enforced as if required at first (the heaviest preferred node-affinity
// term, preferred pod affinity and anti-affinity, ScheduleAnyway spread); after a failure one is
// dropped, in Karpenter's order: extra required OR-terms, preferred pod affinity, preferred
// anti-affinity, preferred node affinity, ScheduleAnyway spread, then (if allowed)
// PreferNoSchedule taints. A pod refused for used-up reservations is not relaxed.
//
// New NodeClaims keep the intersection of their pods' requirements and the instance types that
// are compatible with it, fit the summed requests plus DaemonSet overhead, and have an available
// offering in an allowed zone and capacity type. On output they are ordered by their cheapest
// such offering (reserved capacity is priced near zero, so it comes first), accelerator types are
// dropped when no pod needs one and others remain, and the list is truncated to
// Options::max_instance_types.
//
// After the greedy solve, groups of identical GPU pods are re-packed for the lowest price
// (gpu_cost.h). minValues on NodePool requirements is enforced as claims fill. Not yet
// (docs/scheduling.md, Known gaps): volume topology.
#pragma once

#include "scheduling/model.h"

namespace gpufleet::scheduling {

// Never fails as a whole: a pod that cannot be placed gets Placement::error. Deterministic for
// a given Input and Options.
Result Solve(const Input& input, const Options& options = {});

}  // namespace gpufleet::scheduling
