// Property: every placement Solve makes is feasible, judged by a checker written separately from
// the solver (plain loops over labels, taints and sums; no shared helpers beyond core's value
// types), over many random clusters.
#include <algorithm>
#include <random>

#include <gtest/gtest.h>

#include "scheduling/fake_instance_types.h"
#include "scheduling/scheduler.h"

namespace gpufleet::scheduling {
namespace {

using Kind = Placement::Kind;

// The labels a node of `type` launched from `claim` would carry: the type's own single values,
// and the claim's requirements resolved by choosing an offering.
bool TypeSatisfies(const InstanceType& type, const core::Requirements& claim_reqs, std::string* why) {
  for (const auto& [key, type_req] : type.requirements.ByKey()) {
    if (!claim_reqs.Has(key)) continue;
    const core::Requirement want = claim_reqs.Get(key);
    bool any = false;
    for (const std::string& v : type_req.values()) any = any || want.Has(v);
    if (!any) {
      *why = type.name + " has no value of " + key + " allowed by the claim";
      return false;
    }
  }
  return true;
}

bool Tolerates(const std::vector<core::Toleration>& tolerations, const core::Taint& taint) {
  for (const core::Toleration& t : tolerations) {
    const bool effect_ok = !t.effect || *t.effect == taint.effect;
    const bool key_ok = t.key.empty() || t.key == taint.key;
    const bool value_ok = t.op == core::TolerationOperator::kExists || t.value == taint.value;
    if (effect_ok && key_ok && value_ok) return true;
  }
  return false;
}

std::string CheckFeasible(const Input& in, const Result& r) {
  if (r.placements.size() != in.pods.size()) return "placements do not match pods";
  std::vector<core::ResourceList> node_use(in.nodes.size());
  for (size_t n = 0; n < in.nodes.size(); ++n) node_use[n] = in.nodes[n].requested;
  for (size_t i = 0; i < in.pods.size(); ++i) {
    const Pod& pod = in.pods[i];
    const Placement& p = r.placements[i];
    if (p.kind == Kind::kUnplaced) {
      if (p.error.empty()) return pod.key + ": unplaced without a reason";
      continue;
    }
    if (p.kind == Kind::kExistingNode) {
      const ExistingNode& node = in.nodes.at(p.index);
      for (const core::Taint& t : node.taints) {
        if (t.effect != core::TaintEffect::kPreferNoSchedule && !Tolerates(pod.tolerations, t)) {
          return pod.key + " on " + node.name + " does not tolerate " + t.ToString();
        }
      }
      for (const auto& [key, req] : pod.requirements.ByKey()) {
        auto label = node.labels.find(key);
        const bool ok = label == node.labels.end() ? (req.op() == core::Operator::kNotIn || req.op() == core::Operator::kDoesNotExist)
                                                   : req.Has(label->second.view());
        if (!ok && pod.alternative_requirements.empty()) return pod.key + " on " + node.name + " breaks " + req.ToString();
      }
      for (const auto& [name, q] : pod.requests) {
        core::Quantity sum = node_use[p.index].Get(name);
        (void)sum.Add(q);
        node_use[p.index].Set(name, sum);
      }
      continue;
    }
    const NewNodeClaim& claim = r.new_claims.at(p.index);
    if (std::find(claim.pods.begin(), claim.pods.end(), i) == claim.pods.end()) return pod.key + " missing from its claim";
    const NodePool& pool = in.nodepools.at(claim.nodepool);
    for (const core::Taint& t : pool.taints) {
      if (!Tolerates(pod.tolerations, t)) return pod.key + " does not tolerate pool taint " + t.ToString();
    }
  }
  for (size_t n = 0; n < in.nodes.size(); ++n) {
    for (const auto& [name, used] : node_use[n]) {
      if (used > in.nodes[n].allocatable.Get(name)) return in.nodes[n].name + " overcommitted on " + std::string(name);
    }
  }
  for (const NewNodeClaim& claim : r.new_claims) {
    if (claim.pods.empty()) return "a claim without pods";
    if (claim.instance_types.empty()) return "a claim without instance types";
    core::ResourceList sum;
    for (size_t i : claim.pods) {
      for (const auto& [name, q] : in.pods[i].requests) {
        core::Quantity s = sum.Get(name);
        (void)s.Add(q);
        sum.Set(name, s);
      }
    }
    double last_price = -1;
    for (size_t t : claim.instance_types) {
      const InstanceType& type = in.instance_types[t];
      for (const auto& [name, q] : sum) {
        if (q > type.allocatable.Get(name)) return type.name + " cannot hold its claim's pods (" + std::string(name) + ")";
      }
      std::string why;
      if (!TypeSatisfies(type, claim.requirements, &why)) return why;
      double cheapest = 1e300;
      for (const Offering& o : type.offerings) {
        const bool zone_ok = !claim.requirements.Has(core::labels::kZone) || claim.requirements.Get(core::labels::kZone).Has(o.zone);
        const bool ct_ok = !claim.requirements.Has(keys::kCapacityType) ||
                           claim.requirements.Get(keys::kCapacityType).Has(CapacityTypeName(o.capacity_type));
        if (o.available && zone_ok && ct_ok) cheapest = std::min(cheapest, o.price);
      }
      if (cheapest == 1e300) return type.name + " has no usable offering";
      if (cheapest < last_price) return "instance types are not cheapest first";
      last_price = cheapest;
    }
    for (size_t i : claim.pods) {
      for (const auto& [key, req] : in.pods[i].requirements.ByKey()) {
        if (!in.pods[i].alternative_requirements.empty()) break;
        const core::Requirement merged = claim.requirements.Get(key);
        if (req.op() == core::Operator::kIn) {
          for (const std::string& v : merged.values()) {
            if (!merged.complement() && !req.Has(v)) return in.pods[i].key + ": claim allows " + key + "=" + v;
          }
        }
      }
    }
  }
  return "";
}

TEST(FeasibilityPropertyTest, EveryPlacementOfRandomClustersIsFeasible) {
  std::mt19937 rng(42);
  const char* zones[] = {"test-zone-1", "test-zone-2", "test-zone-3"};
  const char* cpus[] = {"100m", "250m", "500m", "1", "1500m", "3", "7"};
  const char* mems[] = {"100Mi", "256Mi", "1Gi", "2Gi", "4Gi", "9Gi"};
  for (int round = 0; round < 60; ++round) {
    Input in;
    in.instance_types = FakeInstanceTypes(1 + static_cast<int>(rng() % 12));
    const int pools = 1 + static_cast<int>(rng() % 3);
    for (int p = 0; p < pools; ++p) {
      NodePool pool{.name = "pool-" + std::to_string(p), .weight = static_cast<int32_t>(rng() % 3)};
      for (size_t i = 0; i < in.instance_types.size(); ++i) {
        if (rng() % 4 != 0) pool.instance_types.push_back(i);
      }
      if (rng() % 3 == 0) pool.taints = {{.key = "team", .value = "p" + std::to_string(p), .effect = core::TaintEffect::kNoSchedule}};
      if (rng() % 3 == 0) pool.limits.Set("cpu", core::Quantity::FromInt(4 + rng() % 20));
      if (rng() % 3 == 0) pool.requirements.Add(core::Requirement::In(core::labels::kZone, {zones[rng() % 3]}));
      in.nodepools.push_back(pool);
    }
    const int nodes = static_cast<int>(rng() % 3);
    for (int n = 0; n < nodes; ++n) {
      ExistingNode node{.name = "node-" + std::to_string(n), .initialized = rng() % 2 == 0};
      node.labels = {{std::string(core::labels::kZone), zones[rng() % 3]}};
      node.allocatable.Set("cpu", core::Quantity::FromInt(1 + rng() % 4));
      node.allocatable.Set("memory", *core::Quantity::Parse("8Gi"));
      node.allocatable.Set("pods", core::Quantity::FromInt(110));
      if (rng() % 2 == 0) node.taints = {{.key = "team", .value = "p0", .effect = core::TaintEffect::kNoSchedule}};
      in.nodes.push_back(node);
    }
    const int pods = 1 + static_cast<int>(rng() % 40);
    for (int i = 0; i < pods; ++i) {
      Pod pod{.key = "ns/p" + std::to_string(i), .uid = std::to_string(i), .created = static_cast<int64_t>(rng() % 5)};
      pod.requests.Set("cpu", *core::Quantity::Parse(cpus[rng() % 7]));
      pod.requests.Set("memory", *core::Quantity::Parse(mems[rng() % 6]));
      if (rng() % 3 == 0) pod.requirements.Add(core::Requirement::In(core::labels::kZone, {zones[rng() % 3]}));
      if (rng() % 4 == 0) pod.tolerations = {{.key = "team", .op = core::TolerationOperator::kExists}};
      if (rng() % 6 == 0) pod.host_ports = {{.port = 80}};
      in.pods.push_back(pod);
    }
    const Result r = Solve(in);
    const std::string problem = CheckFeasible(in, r);
    EXPECT_EQ(problem, "") << "round " << round;
    // Host ports: no two pods with the same port share a claim.
    for (const NewNodeClaim& claim : r.new_claims) {
      int with_port = 0;
      for (size_t i : claim.pods) with_port += in.pods[i].host_ports.empty() ? 0 : 1;
      EXPECT_LE(with_port, 1) << "round " << round;
    }
  }
}

TEST(FeasibilityPropertyTest, CheckerRejectsBrokenResults) {
  Input in;
  in.instance_types = FakeInstanceTypes(3);
  in.nodepools.push_back({.name = "p", .instance_types = {0, 1, 2}});
  for (int i = 0; i < 2; ++i) {
    Pod pod{.key = "ns/p" + std::to_string(i), .uid = std::to_string(i)};
    pod.requests.Set("cpu", core::Quantity::FromMilli(600));
    in.pods.push_back(pod);
  }
  Result r = Solve(in);
  ASSERT_EQ(CheckFeasible(in, r), "");
  Result overfull = r;
  ASSERT_EQ(r.new_claims[0].instance_types, (std::vector<size_t>{1, 2}));
  overfull.new_claims[0].instance_types = {0};  // 1 cpu cannot hold both pods
  EXPECT_NE(CheckFeasible(in, overfull), "");
  Result reordered = r;
  std::reverse(reordered.new_claims[0].instance_types.begin(), reordered.new_claims[0].instance_types.end());
  EXPECT_NE(CheckFeasible(in, reordered), "") << "dearer type first";
  Result silent = r;
  silent.placements[0] = {};
  EXPECT_NE(CheckFeasible(in, silent), "") << "unplaced without a reason";
}

}  // namespace
}  // namespace gpufleet::scheduling
