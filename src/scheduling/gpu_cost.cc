#include "scheduling/gpu_cost.h"

#include <algorithm>
#include <limits>
#include <map>

namespace gpufleet::scheduling {
namespace {

bool IsGpuPod(const Pod& pod) {
  const core::Quantity* gpu = pod.requests.Find("nvidia.com/gpu");
  return gpu != nullptr && gpu->Sign() > 0;
}

std::string TolerationsKey(const std::vector<core::Toleration>& tolerations) {
  std::string key;
  for (const core::Toleration& t : tolerations) key += core::ToJson(t).dump() + ";";
  return key;
}

// Price of the claim's cheapest type under its requirements (what it would launch).
double ClaimPrice(const SolveContext& ctx, const NewNodeClaim& claim) {
  if (claim.instance_types.empty()) return std::numeric_limits<double>::infinity();
  const Offering* o = CheapestOffering(ctx.in.instance_types[claim.instance_types.front()], claim.requirements);
  return o == nullptr ? std::numeric_limits<double>::infinity() : o->price;
}

struct Candidate {
  size_t type;
  int64_t capacity;  // pods of the group it holds
  double price;
};

struct Group {
  size_t nodepool = 0;
  std::vector<size_t> claims;
  std::vector<size_t> pods;
};

}  // namespace

void OptimizeGpuCost(const SolveContext& ctx, const std::vector<ClaimTemplate>& templates, const Topology& topology,
                     Result& result) {
  const Input& in = ctx.in;
  // Groups of identical, unconstrained GPU pods whose claims hold nothing else.
  std::map<std::string, Group> groups;
  for (size_t c = 0; c < result.new_claims.size(); ++c) {
    const NewNodeClaim& claim = result.new_claims[c];
    if (claim.pods.empty() || templates[claim.nodepool].limited() ||
        templates[claim.nodepool].requirements().HasMinValues()) {
      continue;
    }
    const Pod& first = in.pods[claim.pods.front()];
    std::string key;
    // Claims launching into capacity reservations keep them (reserved capacity is prepaid).
    bool eligible = claim.requirements.Find(keys::kReservationId) == nullptr;
    for (size_t p : claim.pods) {
      const Pod& pod = in.pods[p];
      if (!IsGpuPod(pod) || !pod.host_ports.empty() || !pod.alternative_requirements.empty() ||
          !pod.preferred_node_affinity.empty() || !pod.preferred_affinity.empty() ||
          !pod.preferred_anti_affinity.empty() ||
          !topology.Uninvolved(p) || !(pod.requests == first.requests) || !(pod.requirements == first.requirements) ||
          !(pod.tolerations == first.tolerations)) {
        eligible = false;
        break;
      }
    }
    if (!eligible) continue;
    key = std::to_string(claim.nodepool) + "|" + first.requests.ToJson() + "|" + first.requirements.ToString() + "|" +
          TolerationsKey(first.tolerations);
    Group& g = groups[key];
    g.nodepool = claim.nodepool;
    g.claims.push_back(c);
    g.pods.insert(g.pods.end(), claim.pods.begin(), claim.pods.end());
  }

  std::vector<bool> replaced(result.new_claims.size(), false);
  std::vector<NewNodeClaim> added;
  for (auto& [key, g] : groups) {
    const ClaimTemplate& tmpl = templates[g.nodepool];
    const size_t sample = g.pods.front();
    core::Requirements reqs = tmpl.requirements();
    reqs.Add(in.pods[sample].requirements);
    const DaemonRoom& daemon = tmpl.daemon_room();
    const ResourceVector& need = ctx.pod_requests[sample];

    std::vector<Candidate> candidates;
    for (size_t t : tmpl.instance_types()) {
      const InstanceType& type = in.instance_types[t];
      if (!type.requirements.DoesIntersect(reqs)) continue;
      const Offering* offering = CheapestOffering(type, reqs);
      if (offering == nullptr) continue;
      if (offering->capacity_type == CapacityType::kReserved) {
        // Reservations are counted per instance; the knapsack would use them without limit.
        candidates.clear();
        break;
      }
      int64_t capacity = std::numeric_limits<int64_t>::max();
      for (size_t r = 0; r < need.size(); ++r) {
        const core::int128 free = daemon.room[t][r];
        if (need[r] <= 0) {
          if (free < 0) capacity = 0;
          continue;
        }
        capacity = std::min<int64_t>(capacity, free < 0 ? 0 : static_cast<int64_t>(std::min<core::int128>(free / need[r], 1 << 20)));
      }
      if (capacity >= 1) candidates.push_back({t, capacity, offering->price});
    }
    if (candidates.empty()) continue;

    // cost[n]: cheapest way to hold n pods; choice[n]: the candidate taken first.
    const size_t n = g.pods.size();
    std::vector<double> cost(n + 1, std::numeric_limits<double>::infinity());
    std::vector<size_t> choice(n + 1, 0);
    cost[0] = 0;
    for (size_t i = 1; i <= n; ++i) {
      for (size_t c = 0; c < candidates.size(); ++c) {
        const size_t rest = i > static_cast<size_t>(candidates[c].capacity) ? i - static_cast<size_t>(candidates[c].capacity) : 0;
        const double total = candidates[c].price + cost[rest];
        if (total < cost[i]) {
          cost[i] = total;
          choice[i] = c;
        }
      }
    }
    double current = 0;
    for (size_t c : g.claims) current += ClaimPrice(ctx, result.new_claims[c]);
    if (!(cost[n] < current - 1e-9)) continue;

    // Nodes of the optimum, each with the pods it holds; then the types that can hold that many.
    std::vector<size_t> pods = g.pods;
    std::sort(pods.begin(), pods.end());
    size_t left = n, next = 0;
    while (left > 0) {
      const Candidate& pick = candidates[choice[left]];
      const size_t m = std::min(left, static_cast<size_t>(pick.capacity));
      NewNodeClaim claim;
      claim.nodepool = g.nodepool;
      claim.requirements = reqs;
      claim.pods.assign(pods.begin() + static_cast<std::ptrdiff_t>(next), pods.begin() + static_cast<std::ptrdiff_t>(next + m));
      for (size_t p : claim.pods) (void)core::MergeInto(claim.requests, in.pods[p].requests);
      std::vector<const Candidate*> fitting;
      for (const Candidate& c : candidates) {
        if (static_cast<size_t>(c.capacity) >= m) fitting.push_back(&c);
      }
      std::stable_sort(fitting.begin(), fitting.end(), [&](const Candidate* a, const Candidate* b) {
        if (a->price != b->price) return a->price < b->price;
        return in.instance_types[a->type].name < in.instance_types[b->type].name;
      });
      for (const Candidate* c : fitting) {
        if (claim.instance_types.size() >= ctx.options.max_instance_types) break;
        claim.instance_types.push_back(c->type);
      }
      if (!claim.instance_types.empty()) (void)core::MergeInto(claim.requests, daemon.overhead[claim.instance_types.front()]);
      added.push_back(std::move(claim));
      next += m;
      left -= m;
    }
    for (size_t c : g.claims) replaced[c] = true;
  }
  if (added.empty()) return;

  // Compact: kept claims in their order, then the re-packed ones; re-point every placement.
  std::vector<size_t> new_index(result.new_claims.size(), 0);
  std::vector<NewNodeClaim> claims;
  for (size_t c = 0; c < result.new_claims.size(); ++c) {
    if (replaced[c]) continue;
    new_index[c] = claims.size();
    claims.push_back(std::move(result.new_claims[c]));
  }
  for (Placement& p : result.placements) {
    if (p.kind == Placement::Kind::kNewNodeClaim && !replaced[p.index]) p.index = new_index[p.index];
  }
  for (NewNodeClaim& claim : added) {
    for (size_t p : claim.pods) result.placements[p] = {.kind = Placement::Kind::kNewNodeClaim, .index = claims.size()};
    claims.push_back(std::move(claim));
  }
  result.new_claims = std::move(claims);
}

}  // namespace gpufleet::scheduling
