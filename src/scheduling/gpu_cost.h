// Cost-optimal packing of GPU pods (beyond Karpenter; k#1149: two 1-GPU pods packed onto a
// 4-GPU g5.12xlarge instead of two g5.xlarge, ~$2.3k/month extra).
//
// Karpenter's greedy solve puts a pod on the first claim that can take it, and the claim then
// launches the cheapest type that holds everything it collected, which is often a large
// multi-GPU type. After the greedy solve, OptimizeGpuCost takes each group of identical GPU pods
// (same NodePool, requests, requirements and tolerations; no topology, host ports or node-affinity
// alternatives; alone on their claims; pool without limits) and re-packs the group for the
// lowest total price:
//   capacity k_t = how many of the pods type t holds (allocatable minus DaemonSet overhead)
//   price_t      = t's cheapest offering the group's requirements allow
//   cost(n)      = min over t of price_t + cost(n - k_t)      (exact: an unbounded knapsack)
// A node given m pods lists every type holding m, cheapest first, so the launch keeps
// Karpenter's flexibility and its cheapest choice is the optimum. The greedy claims are replaced
// only when the optimum is strictly cheaper. O(pods x types) per group.
//
// Capacity reservations (ODCRs, capacity blocks) are prepaid: a group that can launch into some
// fills as many reserved instances as this solve still has (SolveContext::reservations, which
// the re-pack keeps up to date), each pinned to its reservation as the greedy solve pins its
// reserved claims, and re-packs only the rest with the knapsack over offerings that are not
// reserved (those claims cannot take a reservation: capacity-type NotIn [reserved]).
#pragma once

#include <string>
#include <vector>

#include "scheduling/claim.h"
#include "scheduling/model.h"

namespace gpufleet::scheduling {

// `result` holds the greedy solve's claims and placements; they are rewritten in place.
// `claim_names` are the claims' names in ctx.reservations (their placeholder hostnames), one per
// result.new_claims.
void OptimizeGpuCost(const SolveContext& ctx, const std::vector<ClaimTemplate>& templates, const Topology& topology,
                     const std::vector<std::string>& claim_names, Result& result);

}  // namespace gpufleet::scheduling
