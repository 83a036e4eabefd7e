#include "scheduling/gpu_cost.h"

#include <algorithm>
#include <limits>
#include <functional>
#include <map>
#include <iterator>
#include <optional>
#include <set>

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
  double price;
  const ResourceVector* room;  // allocatable minus DaemonSet overhead
};

struct Shape {
  ResourceVector need;       // one pod's requests (with its "pods")
  std::vector<size_t> pods;  // pods of this shape
};

// Nodes (each the pods it holds) and their total price at the cheapest type holding each.
struct Plan {
  double cost = 0;
  std::vector<std::vector<size_t>> nodes;
};

// How many pods of `need` fit in `room` (capped: nodes hold few GPU pods).
int64_t Capacity(const ResourceVector& room, const ResourceVector& need) {
  int64_t capacity = 1 << 20;
  for (size_t r = 0; r < need.size(); ++r) {
    if (need[r] <= 0) {
      if (room[r] < 0) return 0;
      continue;
    }
    capacity = std::min<int64_t>(capacity, room[r] < 0 ? 0 : static_cast<int64_t>(std::min<core::int128>(room[r] / need[r], 1 << 20)));
  }
  return capacity;
}

// One shape: cost(n) = min over types of price + cost(n - capacity), an unbounded knapsack.
std::optional<Plan> PlanOneShape(const Shape& shape, const std::vector<Candidate>& candidates) {
  const size_t n = shape.pods.size();
  std::vector<int64_t> capacity;
  for (const Candidate& c : candidates) capacity.push_back(Capacity(*c.room, shape.need));
  std::vector<double> cost(n + 1, std::numeric_limits<double>::infinity());
  std::vector<size_t> choice(n + 1, 0);
  cost[0] = 0;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t c = 0; c < candidates.size(); ++c) {
      if (capacity[c] < 1) continue;
      const size_t rest = i > static_cast<size_t>(capacity[c]) ? i - static_cast<size_t>(capacity[c]) : 0;
      const double total = candidates[c].price + cost[rest];
      if (total < cost[i]) {
        cost[i] = total;
        choice[i] = c;
      }
    }
  }
  if (cost[n] == std::numeric_limits<double>::infinity()) return std::nullopt;
  Plan plan{.cost = cost[n]};
  size_t left = n, next = 0;
  while (left > 0) {
    const size_t m = std::min(left, static_cast<size_t>(capacity[choice[left]]));
    plan.nodes.emplace_back(shape.pods.begin() + static_cast<std::ptrdiff_t>(next),
                            shape.pods.begin() + static_cast<std::ptrdiff_t>(next + m));
    next += m;
    left -= m;
  }
  return plan;
}

// Several shapes, exactly: a node is a pattern (how many pods of each shape) that fits some
// type; cost(d) = min over patterns p <= d of price(p) + cost(d - p), over every demand vector d
// up to the group's. Nullopt when that state space is too large (then each shape is planned on
// its own).
std::optional<Plan> PlanShapes(const std::vector<Shape>& shapes, const std::vector<Candidate>& candidates) {
  constexpr size_t kMaxStates = 40000;
  const size_t k = shapes.size();
  std::vector<size_t> radix(k), stride(k);
  size_t states = 1;
  for (size_t s = 0; s < k; ++s) {
    radix[s] = shapes[s].pods.size() + 1;
    stride[s] = states;
    if (states > kMaxStates / radix[s]) return std::nullopt;
    states *= radix[s];
  }
  // Patterns per type, keeping the cheapest type for each pattern.
  std::map<size_t, double> pattern_price;  // pattern index -> price
  for (const Candidate& c : candidates) {
    std::vector<size_t> count(k, 0);
    std::function<void(size_t, const ResourceVector&)> enumerate = [&](size_t s, const ResourceVector& used) {
      if (s == k) {
        size_t index = 0;
        for (size_t i = 0; i < k; ++i) index += count[i] * stride[i];
        if (index == 0) return;
        auto [it, inserted] = pattern_price.emplace(index, c.price);
        if (!inserted) it->second = std::min(it->second, c.price);
        return;
      }
      ResourceVector current = used;
      for (size_t n = 0; n < radix[s]; ++n) {
        if (n > 0) {
          AddTo(current, shapes[s].need);
          if (!Fits(current, *c.room)) break;
        }
        count[s] = n;
        enumerate(s + 1, current);
      }
      count[s] = 0;
    };
    enumerate(0, ResourceVector(c.room->size(), 0));
  }
  std::vector<std::pair<size_t, double>> patterns(pattern_price.begin(), pattern_price.end());
  auto digits = [&](size_t index, size_t s) { return (index / stride[s]) % radix[s]; };
  std::vector<double> cost(states, std::numeric_limits<double>::infinity());
  std::vector<size_t> choice(states, 0);
  cost[0] = 0;
  for (size_t d = 1; d < states; ++d) {
    for (size_t p = 0; p < patterns.size(); ++p) {
      const size_t pattern = patterns[p].first;
      bool within = true;
      for (size_t s = 0; s < k && within; ++s) within = digits(pattern, s) <= digits(d, s);
      if (!within) continue;
      const double total = patterns[p].second + cost[d - pattern];
      if (total < cost[d]) {
        cost[d] = total;
        choice[d] = p;
      }
    }
  }
  const size_t goal = states - 1;
  if (cost[goal] == std::numeric_limits<double>::infinity()) return std::nullopt;
  Plan plan{.cost = cost[goal]};
  std::vector<size_t> next(k, 0);
  for (size_t d = goal; d != 0;) {
    const size_t pattern = patterns[choice[d]].first;
    std::vector<size_t> node;
    for (size_t s = 0; s < k; ++s) {
      for (size_t n = digits(pattern, s); n > 0; --n) node.push_back(shapes[s].pods[next[s]++]);
    }
    plan.nodes.push_back(std::move(node));
    d -= pattern;
  }
  return plan;
}

struct Group {
  size_t nodepool = 0;
  std::vector<size_t> claims;
  std::vector<size_t> pods;
};

// A capacity reservation the group can launch into.
struct Reservation {
  std::string id;
  core::Requirements requirements;  // the group's, pinned to the reservation
  std::vector<size_t> types;        // the types offering it under `requirements`
  size_t type = 0;                  // of those, the one holding the most of the group's pods
  size_t holds = 0;                 // how many (first fit)
  double price = 0;                 // its reserved offering there
  int64_t available = 0;            // instances this solve can still start for the group
};

// A node of the plan launching into a reservation, and the pods it holds.
struct ReservedNode {
  const Reservation* reservation;
  std::vector<size_t> pods;
};

// The pods of `pods`, in order, that one node with `room` takes: each one that still fits.
std::vector<size_t> FirstFit(const SolveContext& ctx, const std::vector<size_t>& pods, const ResourceVector& room) {
  std::vector<size_t> taken;
  ResourceVector used = ctx.resources.Zero();
  for (size_t p : pods) {
    if (!FitsSum(used, ctx.pod_requests[p], room)) continue;
    AddTo(used, ctx.pod_requests[p]);
    taken.push_back(p);
  }
  return taken;
}

}  // namespace

void OptimizeGpuCost(const SolveContext& ctx, const std::vector<ClaimTemplate>& templates, const Topology& topology,
                     const std::vector<std::string>& claim_names, Result& result) {
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
    // Claims launching into capacity reservations join the group too: the re-pack hands their
    // reservations back and fills reserved instances first (an underfilled reserved claim next
    // to on-demand ones is re-packed).
    bool eligible = true;
    for (size_t p : claim.pods) {
      const Pod& pod = in.pods[p];
      if (!IsGpuPod(pod) || !pod.host_ports.empty() || !pod.alternative_requirements.empty() ||
          !pod.preferred_node_affinity.empty() || !pod.preferred_affinity.empty() ||
          !pod.preferred_anti_affinity.empty() ||
          !topology.Uninvolved(p) || !(pod.requirements == first.requirements) ||
          !(pod.tolerations == first.tolerations)) {
        eligible = false;
        break;
      }
    }
    if (!eligible) continue;
    key = std::to_string(claim.nodepool) + "|" + first.requirements.ToString() + "|" + TolerationsKey(first.tolerations);
    Group& g = groups[key];
    g.nodepool = claim.nodepool;
    g.claims.push_back(c);
    g.pods.insert(g.pods.end(), claim.pods.begin(), claim.pods.end());
  }

  std::vector<bool> replaced(result.new_claims.size(), false);
  std::vector<NewNodeClaim> added;
  size_t reserved_claims = 0;  // names the re-pack's reserved claims in the ledger
  for (auto& entry : groups) {
    Group& g = entry.second;  // a plain reference: lambdas below capture it (clang 14 cannot capture bindings)
    if (ctx.options.out_of_time && ctx.options.out_of_time()) break;  // keep the greedy claims
    const ClaimTemplate& tmpl = templates[g.nodepool];
    core::Requirements reqs = tmpl.requirements();
    reqs.Add(in.pods[g.pods.front()].requirements);
    const DaemonRoom& daemon = tmpl.daemon_room();
    std::sort(g.pods.begin(), g.pods.end());

    // Offerings that are not reserved price the knapsack's candidates; types that could launch
    // into a reservation under `reqs` are noted, so that the claims listing them are kept out of
    // it (capacity-type NotIn [reserved]) and cannot take an instance planned for a reserved
    // claim (the AWS launch prefers reserved capacity whenever a claim allows it).
    core::Requirements unreserved = reqs;
    unreserved.Add(core::Requirement::NotIn(keys::kCapacityType, {std::string(CapacityTypeName(CapacityType::kReserved))}));
    core::Requirements any_reserved = reqs;
    any_reserved.Add(core::Requirement::In(keys::kCapacityType, {std::string(CapacityTypeName(CapacityType::kReserved))}));
    std::vector<Candidate> candidates;
    std::set<size_t> reservable;
    std::map<std::string, Reservation> reservations;
    for (size_t t : tmpl.instance_types()) {
      const InstanceType& type = in.instance_types[t];
      if (!type.requirements.DoesIntersect(reqs)) continue;
      if (type.requirements.DoesIntersect(unreserved)) {
        if (const Offering* o = CheapestOffering(type, unreserved); o != nullptr) candidates.push_back({t, o->price, &daemon.room[t]});
      }
      if (!ctx.type_has_reserved[t] || !type.requirements.DoesIntersect(any_reserved) ||
          CheapestOffering(type, any_reserved) == nullptr) {
        continue;
      }
      reservable.insert(t);
      for (const Offering& o : type.offerings) {
        if (o.capacity_type != CapacityType::kReserved || o.reservation_id.empty()) continue;
        core::Requirements pinned = any_reserved;
        pinned.Add(core::Requirement::In(keys::kReservationId, {o.reservation_id}));
        const Offering* offered = CheapestOffering(type, pinned);
        if (offered == nullptr) continue;
        Reservation& r = reservations[o.reservation_id];
        if (std::find(r.types.begin(), r.types.end(), t) != r.types.end()) continue;
        const size_t holds = FirstFit(ctx, g.pods, daemon.room[t]).size();
        const bool better = r.types.empty() || holds > r.holds ||
                            (holds == r.holds && (offered->price < r.price ||
                                                  (offered->price == r.price && type.name < in.instance_types[r.type].name)));
        if (r.types.empty()) {
          r.id = o.reservation_id;
          r.requirements = std::move(pinned);
        }
        r.types.push_back(t);
        if (better) {
          r.type = t;
          r.holds = holds;
          r.price = offered->price;
        }
      }
    }
    if (candidates.empty() && reservations.empty()) continue;

    // Reserved capacity first. Reserved instances are prepaid (priced at on-demand / 1e7 only so
    // that they sort first), so a plan should put as many pods on them as they hold: with
    // identical pods, any plan is m pods on reserved instances plus an on-demand plan for the
    // other n - m, and the cheapest on-demand cost is monotone in the pods left (a node of a plan
    // for n pods still holds its pods less one), so the largest m, min(n, what the available
    // instances hold), is optimal; filling each instance fully and taking the reservations that
    // hold the most pods first reaches it with the fewest reserved instances. Reservations count
    // what this solve has left (the greedy claims' use subtracted) plus what the group's own
    // claims hold, as the re-pack hands those back. For several shapes the fill is first fit in
    // pod order, a heuristic; the rest is still packed exactly.
    //
    // Strict reservations (Options::strict_reservations) need nothing more: every pod this plan
    // puts on-demand was left over once each reservation that can hold one of them was full, so
    // none is compatible with a reservation that still has room. Karpenter would hold those pods
    // back for one solve and then, the reservations being taken by the in-flight reserved claims
    // (the provisioner subtracts them, the offerings become unavailable), launch them on-demand:
    // the same nodes, reached here in one solve.
    std::vector<Reservation*> order;
    for (auto& [id, r] : reservations) {
      r.available = ctx.reservations.Remaining(id);
      for (size_t c : g.claims) r.available += ctx.reservations.Holds(claim_names[c], id) ? 1 : 0;
      if (r.available > 0 && r.holds > 0) order.push_back(&r);
    }
    std::sort(order.begin(), order.end(), [](const Reservation* a, const Reservation* b) {
      if (a->holds != b->holds) return a->holds > b->holds;
      if (a->price != b->price) return a->price < b->price;
      return a->id < b->id;
    });
    std::vector<ReservedNode> reserved_nodes;
    std::vector<size_t> rest = g.pods;
    for (const Reservation* r : order) {
      for (int64_t i = 0; i < r->available && !rest.empty(); ++i) {
        std::vector<size_t> node = FirstFit(ctx, rest, daemon.room[r->type]);
        if (node.empty()) break;
        std::vector<size_t> left;
        std::set_difference(rest.begin(), rest.end(), node.begin(), node.end(), std::back_inserter(left));
        rest = std::move(left);
        reserved_nodes.push_back({r, std::move(node)});
      }
    }

    // The other pods by shape (identical requests).
    std::map<ResourceVector, std::vector<size_t>> by_shape;
    for (size_t p : rest) by_shape[ctx.pod_requests[p]].push_back(p);
    std::vector<Shape> shapes;
    for (auto& [need, pods] : by_shape) {
      std::sort(pods.begin(), pods.end());
      shapes.push_back({need, std::move(pods)});
    }
    // Replaces `claims` (holding exactly the pods of `reserved` and `plan`) when that is strictly
    // cheaper, keeping the reservation ledger in step.
    auto adopt = [&](const std::vector<size_t>& claims, const std::vector<ReservedNode>& reserved, const Plan& plan) {
      double current = 0;
      for (size_t c : claims) current += ClaimPrice(ctx, result.new_claims[c]);
      double cost = plan.cost;
      for (const ReservedNode& node : reserved) cost += node.reservation->price;
      if (!(cost < current - 1e-9)) return;
      for (size_t c : claims) {
        for (const std::string& id : ctx.reservations.Held(claim_names[c])) ctx.reservations.Release(claim_names[c], id);
      }
      auto make_claim = [&](const core::Requirements& requirements, const std::vector<size_t>& node_pods) {
        NewNodeClaim claim;
        claim.nodepool = g.nodepool;
        claim.requirements = requirements;
        claim.pods = node_pods;
        std::sort(claim.pods.begin(), claim.pods.end());
        for (size_t p : claim.pods) (void)core::MergeInto(claim.requests, in.pods[p].requests);
        return claim;
      };
      auto total_of = [&](const std::vector<size_t>& node_pods) {
        ResourceVector total = ctx.resources.Zero();
        for (size_t p : node_pods) AddTo(total, ctx.pod_requests[p]);
        return total;
      };
      // A reserved node: pinned to its reservation (capacity-type In [reserved] and its id, as
      // Claim::Finalize pins the greedy solve's reserved claims), over the types offering it that
      // hold its pods, and holding one instance of it in the ledger.
      for (const ReservedNode& node : reserved) {
        const Reservation& r = *node.reservation;
        NewNodeClaim claim = make_claim(r.requirements, node.pods);
        const ResourceVector total = total_of(claim.pods);
        std::vector<std::pair<double, size_t>> fitting;
        for (size_t t : r.types) {
          if (!Fits(total, daemon.room[t])) continue;
          const Offering* o = CheapestOffering(in.instance_types[t], r.requirements);
          if (o != nullptr) fitting.emplace_back(o->price, t);
        }
        std::stable_sort(fitting.begin(), fitting.end(), [&](const auto& a, const auto& b) {
          if (a.first != b.first) return a.first < b.first;
          return in.instance_types[a.second].name < in.instance_types[b.second].name;
        });
        for (const auto& [price, t] : fitting) {
          if (claim.instance_types.size() >= ctx.options.max_instance_types) break;
          claim.instance_types.push_back(t);
        }
        if (!claim.instance_types.empty()) {
          (void)core::MergeInto(claim.requests, daemon.overhead[claim.instance_types.front()]);
        }
        (void)ctx.reservations.Reserve("gpu-cost-placeholder-" + std::to_string(reserved_claims++), r.id);
        added.push_back(std::move(claim));
      }
      for (const std::vector<size_t>& node_pods : plan.nodes) {
        NewNodeClaim claim = make_claim(reqs, node_pods);
        const ResourceVector total = total_of(claim.pods);
        // Every type that holds this node's pods, cheapest first.
        std::vector<const Candidate*> fitting;
        for (const Candidate& c : candidates) {
          if (Fits(total, *c.room)) fitting.push_back(&c);
        }
        std::stable_sort(fitting.begin(), fitting.end(), [&](const Candidate* a, const Candidate* b) {
          if (a->price != b->price) return a->price < b->price;
          return in.instance_types[a->type].name < in.instance_types[b->type].name;
        });
        bool lists_reservable = false;
        for (const Candidate* c : fitting) {
          if (claim.instance_types.size() >= ctx.options.max_instance_types) break;
          claim.instance_types.push_back(c->type);
          lists_reservable = lists_reservable || reservable.count(c->type) != 0;
        }
        if (lists_reservable) claim.requirements = unreserved;
        if (!claim.instance_types.empty()) {
          (void)core::MergeInto(claim.requests, daemon.overhead[claim.instance_types.front()]);
        }
        added.push_back(std::move(claim));
      }
      for (size_t c : claims) replaced[c] = true;
    };

    if (!reserved_nodes.empty()) {
      // The rest: exact when the state space allows, else shape by shape.
      std::optional<Plan> plan = Plan{};
      if (shapes.size() == 1) {
        plan = PlanOneShape(shapes[0], candidates);
      } else if (shapes.size() > 1) {
        plan = PlanShapes(shapes, candidates);
        if (!plan) {
          plan = Plan{};
          for (const Shape& shape : shapes) {
            std::optional<Plan> part = PlanOneShape(shape, candidates);
            if (!part) {
              plan.reset();
              break;
            }
            plan->cost += part->cost;
            plan->nodes.insert(plan->nodes.end(), part->nodes.begin(), part->nodes.end());
          }
        }
      }
      if (plan) adopt(g.claims, reserved_nodes, *plan);
      continue;
    }
    std::optional<Plan> plan = shapes.size() == 1 ? PlanOneShape(shapes[0], candidates) : PlanShapes(shapes, candidates);
    if (plan) {
      adopt(g.claims, {}, *plan);
      continue;
    }
    // Too many mixed shapes for the exact search: re-pack, shape by shape, the claims that hold
    // one shape only (claims mixing shapes keep the greedy packing).
    for (const Shape& shape : shapes) {
      std::vector<size_t> pure;
      Shape held{.need = shape.need};
      for (size_t c : g.claims) {
        const std::vector<size_t>& pods = result.new_claims[c].pods;
        if (std::all_of(pods.begin(), pods.end(), [&](size_t p) { return ctx.pod_requests[p] == shape.need; })) {
          pure.push_back(c);
          held.pods.insert(held.pods.end(), pods.begin(), pods.end());
        }
      }
      if (held.pods.empty()) continue;
      std::sort(held.pods.begin(), held.pods.end());
      if (std::optional<Plan> part = PlanOneShape(held, candidates)) adopt(pure, {}, *part);
    }
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
