#include "scheduling/scheduler.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>
#include <set>

#include "scheduling/claim.h"

namespace gpufleet::scheduling {
namespace {

// Karpenter's queue order: CPU then memory descending, then older first, then UID.
std::vector<size_t> QueueOrder(const std::vector<Pod>& pods) {
  std::vector<size_t> order(pods.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Pod& pa = pods[a];
    const Pod& pb = pods[b];
    if (int c = core::CmpResource(pa.requests, pb.requests, "cpu"); c != 0) return c > 0;
    if (int c = core::CmpResource(pa.requests, pb.requests, "memory"); c != 0) return c > 0;
    if (pa.created != pb.created) return pa.created < pb.created;
    return pa.uid < pb.uid;
  });
  return order;
}

class Solver {
 public:
  Solver(const Input& input, const Options& options)
      : in_(input), options_(WithDefaults(options)), ctx_(input, options_) {
    for (const ExistingNode& n : in_.nodes) nodes_.emplace_back(ctx_, n);
    // Initialized nodes first; stable, so the input's order breaks ties.
    node_order_.resize(nodes_.size());
    std::iota(node_order_.begin(), node_order_.end(), 0);
    std::stable_sort(node_order_.begin(), node_order_.end(),
                     [&](size_t a, size_t b) { return in_.nodes[a].initialized && !in_.nodes[b].initialized; });
    pool_order_.resize(in_.nodepools.size());
    std::iota(pool_order_.begin(), pool_order_.end(), 0);
    std::stable_sort(pool_order_.begin(), pool_order_.end(), [&](size_t a, size_t b) {
      const NodePool& pa = in_.nodepools[a];
      const NodePool& pb = in_.nodepools[b];
      return pa.weight != pb.weight ? pa.weight > pb.weight : pa.name < pb.name;
    });
    std::vector<core::Requirements> pool_reqs;
    for (size_t p = 0; p < in_.nodepools.size(); ++p) {
      templates_.push_back(ClaimTemplate::Build(ctx_, p));
      pool_reqs.push_back(templates_.back().requirements());
    }
    topology_.emplace(in_, pool_reqs);
  }

  Result Run() {
    Result result;
    result.placements.resize(in_.pods.size());
    relaxed_.assign(in_.pods.size(), 0);
    std::vector<size_t> queue = QueueOrder(in_.pods);
    while (!queue.empty()) {
      std::vector<size_t> failed;
      bool progress = false;
      for (size_t i : queue) {
        if (options_.out_of_time && options_.out_of_time()) {
          result.timed_out = true;
          for (size_t j : queue) {
            if (result.placements[j].kind == Placement::Kind::kUnplaced && result.placements[j].error.empty()) {
              result.placements[j].error = "not attempted: the solve ran out of time";
            }
          }
          return Finish(std::move(result));
        }
        Placement& placement = result.placements[i];
        if (placement.kind != Placement::Kind::kUnplaced && placement.error.empty()) continue;
        placement = Place(i);
        if (placement.kind != Placement::Kind::kUnplaced) {
          progress = true;
        } else if (relaxed_[i] < in_.pods[i].alternative_requirements.size()) {
          ++relaxed_[i];  // next OR-ed node-affinity term; counts as progress, as in Karpenter
          progress = true;
          failed.push_back(i);
        } else {
          failed.push_back(i);
        }
      }
      if (!progress) break;
      queue = std::move(failed);
    }
    return Finish(std::move(result));
  }

 private:
  const core::Requirements& RequirementsOf(size_t pod) const {
    const Pod& p = in_.pods[pod];
    return relaxed_[pod] == 0 ? p.requirements : p.alternative_requirements[relaxed_[pod] - 1];
  }

  Placement Place(size_t pod_index) {
    const core::Requirements& reqs = RequirementsOf(pod_index);
    for (size_t n : node_order_) {
      if (nodes_[n].TryAdd(ctx_, pod_index, reqs, *topology_)) {
        return {.kind = Placement::Kind::kExistingNode, .index = n};
      }
    }
    // Claims of this solve, fewest pods first (older claims first among equals).
    const bool blocked = topology_->BlocksEveryClaim(pod_index, claims_.size());
    for (auto it = blocked ? claim_order_.end() : claim_order_.begin(); it != claim_order_.end(); ++it) {
      const size_t c = it->second;
      if (claims_[c].TryAdd(ctx_, pod_index, reqs, *topology_).ok()) {
        claim_order_.erase(it);
        claim_order_.emplace(claims_[c].pods().size(), c);
        return {.kind = Placement::Kind::kNewNodeClaim, .index = c};
      }
    }
    std::string errors;
    for (size_t p : pool_order_) {
      ClaimTemplate& tmpl = templates_[p];
      const std::string hostname = "hostname-placeholder-" + std::to_string(claims_.size());
      Claim claim = tmpl.NewClaim(ctx_, hostname);
      topology_->RegisterClaimHostname(hostname);
      Status s = claim.TryAdd(ctx_, pod_index, reqs, *topology_);
      if (s.ok()) {
        tmpl.Consume(ctx_, claim);
        claims_.push_back(std::move(claim));
        claim_order_.emplace(1, claims_.size() - 1);
        return {.kind = Placement::Kind::kNewNodeClaim, .index = claims_.size() - 1};
      }
      if (!errors.empty()) errors += "; ";
      errors += "incompatible with nodepool \"" + in_.nodepools[p].name + "\", " + std::string(s.message());
    }
    if (in_.nodepools.empty()) errors = "no nodepools found";
    return {.kind = Placement::Kind::kUnplaced, .error = std::move(errors)};
  }

  Result Finish(Result result) {
    for (Claim& claim : claims_) result.new_claims.push_back(claim.Finalize(ctx_));
    return result;
  }

  static Options WithDefaults(Options o) {
    if (o.well_known_labels.empty()) o.well_known_labels = DefaultWellKnownLabels();
    return o;
  }

  const Input& in_;
  Options options_;
  SolveContext ctx_;
  std::vector<NodeState> nodes_;
  std::vector<size_t> node_order_;
  std::vector<size_t> pool_order_;
  std::vector<ClaimTemplate> templates_;
  std::vector<Claim> claims_;
  std::set<std::pair<size_t, size_t>> claim_order_;  // (pods, claim index)

  std::vector<size_t> relaxed_;
  std::optional<Topology> topology_;
};

}  // namespace

Result Solve(const Input& input, const Options& options) { return Solver(input, options).Run(); }

}  // namespace gpufleet::scheduling
