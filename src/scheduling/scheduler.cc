#include "scheduling/scheduler.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "scheduling/claim.h"
#include "scheduling/gpu_cost.h"

namespace gpufleet::scheduling {
namespace {

// Karpenter's queue order: CPU then memory descending, then older first, then UID.
std::vector<size_t> QueueOrder(const SolveContext& ctx) {
  const std::vector<Pod>& pods = ctx.in.pods;
  const size_t cpu = ctx.resources.Find("cpu");
  const size_t memory = ctx.resources.Find("memory");
  auto get = [&](size_t pod, size_t r) { return r < ctx.resources.size() ? ctx.pod_requests[pod][r] : 0; };
  std::vector<size_t> order(pods.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (get(a, cpu) != get(b, cpu)) return get(a, cpu) > get(b, cpu);
    if (get(a, memory) != get(b, memory)) return get(a, memory) > get(b, memory);
    if (pods[a].created != pods[b].created) return pods[a].created < pods[b].created;
    return pods[a].uid < pods[b].uid;
  });
  return order;
}

// This solve's claims in Karpenter's order (fewest pods, then oldest), also partitioned by the
// zone a claim is pinned to ("" when not pinned to one), so that a pod whose topology admits
// only some zones skips claims pinned elsewhere without trying them, in the same order.
class ClaimOrder {
 public:
  void Insert(size_t claim, size_t pods, const std::string& zone) {
    all_.emplace(pods, claim);
    by_zone_[zone].emplace(pods, claim);
  }
  void Erase(size_t claim, size_t pods, const std::string& zone) {
    all_.erase({pods, claim});
    by_zone_[zone].erase({pods, claim});
  }
  // The first claim, in order, for which try_add returns true; only claims pinned to one of
  // `zones` or not pinned when `zones` is set.
  template <typename Fn>
  std::optional<size_t> Scan(const std::optional<std::vector<std::string>>& zones, Fn try_add) const {
    if (!zones) {
      for (const Entry& entry : all_) {
        const size_t claim = entry.second;  // a copy: try_add erases the entry when it succeeds
        if (try_add(claim)) return claim;
      }
      return std::nullopt;
    }
    using It = std::set<Entry>::const_iterator;
    std::vector<std::pair<It, It>> runs;
    auto add_run = [&](const std::string& zone) {
      auto it = by_zone_.find(zone);
      if (it != by_zone_.end() && !it->second.empty()) runs.emplace_back(it->second.begin(), it->second.end());
    };
    add_run("");
    for (const std::string& z : *zones) add_run(z);
    while (true) {  // k-way merge; k is the number of zones plus one
      size_t best = runs.size();
      for (size_t r = 0; r < runs.size(); ++r) {
        if (runs[r].first != runs[r].second && (best == runs.size() || *runs[r].first < *runs[best].first)) best = r;
      }
      if (best == runs.size()) return std::nullopt;
      const size_t claim = runs[best].first->second;
      ++runs[best].first;
      if (try_add(claim)) return claim;
    }
  }

 private:
  using Entry = std::pair<size_t, size_t>;  // (pods, claim)
  std::set<Entry> all_;
  std::unordered_map<std::string, std::set<Entry>> by_zone_;
};

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
    relax_.assign(in_.pods.size(), Relaxation{.ignore_preferences = options_.ignore_preferences});
    effective_.resize(in_.pods.size());
    for (size_t i = 0; i < in_.pods.size(); ++i) effective_[i] = EffectiveRequirements(i);
    waiting_for_reservation_.assign(in_.pods.size(), false);
    std::vector<size_t> queue = QueueOrder(ctx_);
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
        } else if (!waiting_for_reservation_[i] && Relax(i)) {
          progress = true;  // a relaxed pod counts as progress, as in Karpenter's queue
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
  // The pod's requirements at its relaxation: the current required term, plus the heaviest
  // preferred node-affinity term not yet dropped.
  core::Requirements EffectiveRequirements(size_t pod) const {
    const Pod& p = in_.pods[pod];
    const Relaxation& r = relax_[pod];
    core::Requirements out = r.node_terms == 0 ? p.requirements : p.alternative_requirements[r.node_terms - 1];
    if (!r.ignore_preferences && r.preferred_node < p.preferred_node_affinity.size()) {
      std::vector<const WeightedRequirements*> terms;
      for (const WeightedRequirements& t : p.preferred_node_affinity) terms.push_back(&t);
      std::stable_sort(terms.begin(), terms.end(),
                       [](const WeightedRequirements* a, const WeightedRequirements* b) { return a->weight > b->weight; });
      out.Add(terms[r.preferred_node]->requirements);
    }
    return out;
  }

  // One step of Karpenter's Preferences.Relax: the first that applies, in its order. False when
  // nothing is left to relax.
  bool Relax(size_t pod) {
    const Pod& p = in_.pods[pod];
    Relaxation& r = relax_[pod];
    size_t anyway = 0;
    for (const TopologySpread& s : p.topology_spread) anyway += s.schedule_anyway ? 1 : 0;
    if (r.node_terms < p.alternative_requirements.size()) {
      ++r.node_terms;
    } else if (!r.ignore_preferences && r.preferred_affinity < p.preferred_affinity.size()) {
      ++r.preferred_affinity;
    } else if (!r.ignore_preferences && r.preferred_anti < p.preferred_anti_affinity.size()) {
      ++r.preferred_anti;
    } else if (!r.ignore_preferences && r.preferred_node < p.preferred_node_affinity.size()) {
      ++r.preferred_node;
    } else if (!r.ignore_preferences && r.schedule_anyway < anyway) {
      ++r.schedule_anyway;
    } else if (options_.tolerate_prefer_no_schedule && !r.tolerate_prefer_no_schedule) {
      r.tolerate_prefer_no_schedule = true;
    } else {
      return false;
    }
    effective_[pod] = EffectiveRequirements(pod);
    return true;
  }

  Placement Place(size_t pod_index) {
    const core::Requirements& reqs = effective_[pod_index];
    const Relaxation& relax = relax_[pod_index];
    for (size_t n : node_order_) {
      if (nodes_[n].TryAdd(ctx_, pod_index, reqs, *topology_, relax)) {
        return {.kind = Placement::Kind::kExistingNode, .index = n};
      }
    }
    // Claims of this solve, fewest pods first (older claims first among equals).
    const bool exhaustive = options_.exhaustive_claim_scan;
    const std::unordered_set<std::string>* unblocked =
        exhaustive ? nullptr : topology_->UnblockedClaimHostnames(pod_index, relax);
    if (unblocked != nullptr && unblocked->size() <= kFewClaims) {
      // Under a hostname anti-affinity only the few claims it does not block can take the pod:
      // try those, in the same order as the full scan would.
      std::vector<std::pair<size_t, size_t>> few;
      for (const std::string& host : *unblocked) {
        const size_t c = claim_by_hostname_.at(host);
        few.emplace_back(claims_[c].pods().size(), c);
      }
      std::sort(few.begin(), few.end());
      for (const auto& [pods, c] : few) {
        const std::string zone = claims_[c].PinnedZone();
        if (claims_[c].TryAdd(ctx_, pod_index, reqs, *topology_, /*explain=*/false, relax).ok()) {
          claim_order_.Erase(c, pods, zone);
          claim_order_.Insert(c, claims_[c].pods().size(), claims_[c].PinnedZone());
          return {.kind = Placement::Kind::kNewNodeClaim, .index = c};
        }
      }
    } else {
      const std::string zone_key(core::labels::kZone);
      std::optional<size_t> placed = claim_order_.Scan(
          exhaustive ? std::nullopt : topology_->AdmissibleDomains(pod_index, zone_key, reqs, relax), [&](size_t c) {
            const size_t pods = claims_[c].pods().size();
            const std::string zone = claims_[c].PinnedZone();
            if (!claims_[c].TryAdd(ctx_, pod_index, reqs, *topology_, /*explain=*/false, relax).ok()) return false;
            claim_order_.Erase(c, pods, zone);  // the scan stops here, so its iterators are not reused
            return true;
          });
      if (placed) {
        claim_order_.Insert(*placed, claims_[*placed].pods().size(), claims_[*placed].PinnedZone());
        return {.kind = Placement::Kind::kNewNodeClaim, .index = *placed};
      }
    }
    std::string errors;
    waiting_for_reservation_[pod_index] = false;
    for (size_t p : pool_order_) {
      ClaimTemplate& tmpl = templates_[p];
      const std::string hostname = "hostname-placeholder-" + std::to_string(claims_.size());
      Claim claim = tmpl.NewClaim(ctx_, hostname);
      Status s = claim.TryAdd(ctx_, pod_index, reqs, *topology_, /*explain=*/true, relax);
      if (s.ok()) {
        tmpl.Consume(ctx_, claim);
        claims_.push_back(std::move(claim));
        claim_order_.Insert(claims_.size() - 1, 1, claims_.back().PinnedZone());
        claim_by_hostname_.emplace(hostname, claims_.size() - 1);
        topology_->RegisterClaimHostname(hostname);
        return {.kind = Placement::Kind::kNewNodeClaim, .index = claims_.size() - 1};
      }
      if (!errors.empty()) errors += "; ";
      errors += "incompatible with nodepool \"" + in_.nodepools[p].name + "\", " + std::string(s.message());
      if (s.code() == StatusCode::kResourceExhausted) {
        // Strict reservations: no fallback to another pool, and no relaxation (Karpenter).
        waiting_for_reservation_[pod_index] = true;
        return {.kind = Placement::Kind::kUnplaced, .error = std::move(errors)};
      }
    }
    if (in_.nodepools.empty()) errors = "no nodepools found";
    return {.kind = Placement::Kind::kUnplaced, .error = std::move(errors)};
  }

  Result Finish(Result result) {
    std::vector<std::string> names;
    for (Claim& claim : claims_) {
      result.new_claims.push_back(claim.Finalize(ctx_));
      names.push_back(claim.hostname());
    }
    // The re-pack is an improvement, not a placement: a solve out of time skips it.
    if (options_.optimize_gpu_cost && !result.timed_out) OptimizeGpuCost(ctx_, templates_, *topology_, names, result);
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
  ClaimOrder claim_order_;
  std::unordered_map<std::string, size_t> claim_by_hostname_;
  static constexpr size_t kFewClaims = 64;

  std::vector<Relaxation> relax_;
  std::vector<core::Requirements> effective_;  // per pod, at its relaxation
  std::vector<bool> waiting_for_reservation_;
  std::optional<Topology> topology_;
};

}  // namespace

Result Solve(const Input& input, const Options& options) { return Solver(input, options).Run(); }

}  // namespace gpufleet::scheduling
