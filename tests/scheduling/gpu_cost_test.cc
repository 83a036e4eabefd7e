// Cost-optimal GPU packing: k#1149, GPU memory requirements, and an exact brute-force solver
// that proves the re-packed total is the minimum on small cases.
#include "scheduling/gpu_cost.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "scheduling/scheduler.h"
#include "solve_testing.h"

namespace gpufleet::scheduling {
namespace {

using Kind = Placement::Kind;

struct Shape {
  const char* name;
  int64_t vcpu, memory_mib, max_pods, gpus, gpu_memory_mib;
  double price;
};

// Real shapes and us-east-1 prices from data/aws-instance-types.json.
const Shape kG5Xlarge{"g5.xlarge", 4, 16384, 58, 1, 22888, 1.006};
const Shape kG52Xlarge{"g5.2xlarge", 8, 32768, 58, 1, 22888, 1.212};
const Shape kG512Xlarge{"g5.12xlarge", 48, 196608, 737, 4, 22888, 5.672};
const Shape kG548Xlarge{"g5.48xlarge", 192, 786432, 345, 8, 22888, 16.288};
const Shape kG6eXlarge{"g6e.xlarge", 4, 32768, 58, 1, 45776, 1.861};
const Shape kP4d{"p4d.24xlarge", 96, 1179648, 737, 8, 40960, 21.957642};

InstanceType Make(const Shape& s) {
  Ec2Shape shape{.vcpu = s.vcpu, .memory_mib = s.memory_mib, .max_pods = s.max_pods, .extended = {{"nvidia.com/gpu", s.gpus}}};
  InstanceType t = AwsInstanceType(s.name, shape);
  for (const char* zone : {"us-east-1a", "us-east-1b"}) t.offerings.push_back({.zone = zone, .price = s.price});
  t.requirements.Add(core::Requirement::In(core::labels::kInstanceType, {s.name}));
  t.requirements.Add(core::Requirement::In(core::labels::kZone, {"us-east-1a", "us-east-1b"}));
  t.requirements.Add(core::Requirement::In(keys::kCapacityType, {"on-demand"}));
  t.requirements.Add(core::Requirement::In(keys::kGpuCount, {std::to_string(s.gpus)}));
  t.requirements.Add(core::Requirement::In(keys::kGpuMemory, {std::to_string(s.gpu_memory_mib)}));
  return t;
}

Input Cluster(const std::vector<Shape>& shapes) {
  Input in;
  for (const Shape& s : shapes) in.instance_types.push_back(Make(s));
  NodePool pool{.name = "gpu"};
  pool.taints = {{.key = "nvidia.com/gpu", .effect = core::TaintEffect::kNoSchedule}};
  for (size_t i = 0; i < in.instance_types.size(); ++i) pool.instance_types.push_back(i);
  in.nodepools.push_back(pool);
  return in;
}

Pod GpuPod(const std::string& name, int gpus, const char* cpu = "2", const char* memory = "8Gi") {
  Pod p{.key = "llm/" + name, .ns = "llm", .uid = name};
  p.requests.Set("nvidia.com/gpu", core::Quantity::FromInt(gpus));
  p.requests.Set("cpu", *core::Quantity::Parse(cpu));
  p.requests.Set("memory", *core::Quantity::Parse(memory));
  p.tolerations = {{.key = "nvidia.com/gpu", .op = core::TolerationOperator::kExists}};
  return p;
}

// What the claims would cost if each launched its first (cheapest) type.
double Total(const Input& in, const Result& r) {
  double total = 0;
  for (const NewNodeClaim& c : r.new_claims) {
    EXPECT_FALSE(c.instance_types.empty());
    if (c.instance_types.empty()) continue;
    const Offering* o = CheapestOffering(in.instance_types[c.instance_types.front()], c.requirements);
    EXPECT_NE(o, nullptr);
    total += o == nullptr ? 0 : o->price;
  }
  return total;
}

TEST(GpuCostTest, TwoOneGpuPodsGetTwoSmallNodesNotOneFourGpuNode) {
  // k#1149: greedy packing put both pods on a g5.12xlarge ($5.672/h) where two g5.xlarge
  // ($2.012/h) do.
  Input in = Cluster({kG5Xlarge, kG52Xlarge, kG512Xlarge, kG548Xlarge});
  in.pods = {GpuPod("a", 1), GpuPod("b", 1)};
  Options greedy;
  greedy.optimize_gpu_cost = false;
  const Result before = Solve(in, greedy);
  ASSERT_EQ(before.new_claims.size(), 1u);
  EXPECT_EQ(in.instance_types[before.new_claims[0].instance_types[0]].name, "g5.12xlarge");
  EXPECT_NEAR(Total(in, before), 5.672, 1e-9);

  const Result after = Solve(in);
  ASSERT_EQ(after.new_claims.size(), 2u);
  for (const NewNodeClaim& c : after.new_claims) {
    EXPECT_EQ(in.instance_types[c.instance_types[0]].name, "g5.xlarge");
    EXPECT_EQ(c.pods.size(), 1u);
  }
  EXPECT_NEAR(Total(in, after), 2.012, 1e-9);
  EXPECT_NE(after.placements[0].index, after.placements[1].index);
  for (const Placement& p : after.placements) EXPECT_EQ(p.kind, Kind::kNewNodeClaim);
}

TEST(GpuCostTest, OutOfTimeKeepsTheGreedyClaims) {
  Input in = Cluster({kG5Xlarge, kG512Xlarge});
  in.pods = {GpuPod("a", 1), GpuPod("b", 1)};
  Options options;
  int polls = 0;
  options.out_of_time = [&] { return ++polls > 2; };  // time runs out after the two pods
  const Result r = Solve(in, options);
  EXPECT_FALSE(r.timed_out);
  ASSERT_EQ(r.new_claims.size(), 1u) << "no time left for the re-pack";
  EXPECT_EQ(Placed(r), 2);
}

TEST(GpuCostTest, EightOneGpuPodsStillUseTheCheapestMix) {
  Input in = Cluster({kG5Xlarge, kG512Xlarge, kG548Xlarge});
  for (int i = 0; i < 8; ++i) in.pods.push_back(GpuPod("p" + std::to_string(i), 1));
  const Result r = Solve(in);
  EXPECT_NEAR(Total(in, r), 8 * 1.006, 1e-9) << "eight g5.xlarge are cheaper than any 4- or 8-GPU node";
}

TEST(GpuCostTest, GpuMemoryRequirementIsHonoured) {
  Input in = Cluster({kG5Xlarge, kG6eXlarge, kP4d});
  for (int i = 0; i < 3; ++i) {
    Pod p = GpuPod("big-model-" + std::to_string(i), 1);
    core::NodeSelectorRequirement gte{.key = std::string(keys::kGpuMemory), .op = core::Operator::kGte, .values = {"40000"}};
    p.requirements.Add(*core::Requirement::Create(gte));
    in.pods.push_back(p);
  }
  const Result r = Solve(in);
  ASSERT_FALSE(r.new_claims.empty());
  for (const NewNodeClaim& c : r.new_claims) {
    for (size_t t : c.instance_types) EXPECT_NE(in.instance_types[t].name, "g5.xlarge") << "A10G has 22,888 MiB";
    EXPECT_EQ(in.instance_types[c.instance_types[0]].name, "g6e.xlarge");
  }
  EXPECT_NEAR(Total(in, r), 3 * 1.861, 1e-9);
}

TEST(GpuCostTest, PodsWithTopologyKeepKarpentersDecisions) {
  Input in = Cluster({kG5Xlarge, kG512Xlarge});
  in.pods = {GpuPod("a", 1), GpuPod("b", 1)};
  for (Pod& p : in.pods) {
    p.labels = {{"app", "llm"}};
    p.affinity = {{.topology_key = std::string(core::labels::kZone), .selector = *core::LabelSelector::Parse("app=llm")}};
  }
  Options greedy;
  greedy.optimize_gpu_cost = false;
  EXPECT_EQ(Solve(in).new_claims.size(), Solve(in, greedy).new_claims.size());
  EXPECT_EQ(Solve(in).new_claims.size(), 1u);
}

// The example from `gpufleet up`: L40S types at us-east-1 on-demand prices (g6e.2xlarge is
// type 0 of G6eCluster, g6e.12xlarge type 1).
const Shape kG6e2Xlarge{"g6e.2xlarge", 8, 65536, 58, 1, 45776, 2.24208};
const Shape kG6e12Xlarge{"g6e.12xlarge", 48, 393216, 292, 4, 45776, 10.49264};
const Shape kG6e48Xlarge{"g6e.48xlarge", 192, 1572864, 492, 8, 45776, 30.13118};

Input G6eCluster() { return Cluster({kG6e2Xlarge, kG6e12Xlarge, kG6e48Xlarge}); }

// A capacity reservation for `count` more instances of in.instance_types[type] in us-east-1a, as
// the AWS provider offers it (on-demand / 1e7); unavailable once used up.
void AddReservation(Input& in, size_t type, const std::string& id, int count) {
  InstanceType& t = in.instance_types[type];
  t.offerings.push_back({.zone = "us-east-1a", .capacity_type = CapacityType::kReserved,
                         .price = t.offerings[0].price / 1e7, .available = count > 0, .reservation_id = id,
                         .reservation_capacity = count});
  core::Requirements reqs;
  for (const auto& [key, r] : t.requirements.ByKey()) {
    if (key != keys::kCapacityType) reqs.Add(r);
  }
  reqs.Add(core::Requirement::In(keys::kCapacityType, {"on-demand", "reserved"}));
  t.requirements = reqs;
}

bool PinnedTo(const NewNodeClaim& c, const std::string& id) {
  const core::Requirement ct = c.requirements.Get(keys::kCapacityType);
  return ct.Has("reserved") && !ct.Has("on-demand") && !ct.Has("spot") && c.requirements.Get(keys::kReservationId).Has(id);
}

// Every placement points at the claim that lists the pod, and the other way round.
void ExpectConsistent(const Result& r) {
  std::vector<int> seen(r.placements.size(), 0);
  for (size_t c = 0; c < r.new_claims.size(); ++c) {
    for (size_t p : r.new_claims[c].pods) {
      ++seen[p];
      EXPECT_EQ(r.placements[p].kind, Kind::kNewNodeClaim);
      EXPECT_EQ(r.placements[p].index, c);
    }
  }
  for (size_t p = 0; p < r.placements.size(); ++p) {
    EXPECT_EQ(seen[p], r.placements[p].kind == Kind::kNewNodeClaim ? 1 : 0) << "pod " << p;
  }
}

// Claims pinned to `id`.
int ReservedClaims(const Result& r, const std::string& id) {
  int n = 0;
  for (const NewNodeClaim& c : r.new_claims) n += PinnedTo(c, id) ? 1 : 0;
  return n;
}

// The price of the claims not pinned to a reservation, each at its cheapest type; none of them
// may take reserved capacity.
double OnDemandTotal(const Input& in, const Result& r) {
  double total = 0;
  for (const NewNodeClaim& c : r.new_claims) {
    if (c.requirements.Has(keys::kReservationId)) continue;
    EXPECT_FALSE(c.requirements.Get(keys::kCapacityType).Has("reserved")) << "an on-demand claim could take the reservation";
    const Offering* o = CheapestOffering(in.instance_types[c.instance_types.front()], c.requirements);
    EXPECT_NE(o, nullptr);
    if (o != nullptr) {
      EXPECT_EQ(o->capacity_type, CapacityType::kOnDemand);
      total += o->price;
    }
  }
  return total;
}

TEST(GpuCostTest, ReservedCapacityFirstThenTheCheapestOnDemand) {
  // Four 1-GPU pods, an ODCR with two g6e.2xlarge left: greedy packing puts all four on a
  // g6e.12xlarge on-demand ($10.49/h); two reserved g6e.2xlarge (prepaid) and two on-demand
  // ($4.48/h) are the cheapest.
  Input in = G6eCluster();
  AddReservation(in, 0, "cr-l40s", 2);
  for (int i = 0; i < 4; ++i) in.pods.push_back(GpuPod("p" + std::to_string(i), 1));
  Options greedy;
  greedy.optimize_gpu_cost = false;
  const Result before = Solve(in, greedy);
  ASSERT_EQ(before.new_claims.size(), 1u);
  EXPECT_EQ(in.instance_types[before.new_claims[0].instance_types[0]].name, "g6e.12xlarge");
  EXPECT_EQ(ReservedClaims(before, "cr-l40s"), 0);

  for (bool strict : {true, false}) {
    SCOPED_TRACE(strict ? "strict reservations" : "reservations not strict");
    Options options;
    options.strict_reservations = strict;
    const Result r = Solve(in, options);
    ASSERT_EQ(r.new_claims.size(), 4u);
    EXPECT_EQ(Placed(r), 4);
    ExpectConsistent(r);
    EXPECT_EQ(ReservedClaims(r, "cr-l40s"), 2);
    for (const NewNodeClaim& c : r.new_claims) {
      EXPECT_EQ(c.pods.size(), 1u);
      EXPECT_EQ(in.instance_types[c.instance_types.front()].name, "g6e.2xlarge");
      if (PinnedTo(c, "cr-l40s")) {
        ASSERT_EQ(c.instance_types.size(), 1u) << "only the reserved type launches into the reservation";
        EXPECT_EQ(CheapestOffering(in.instance_types[c.instance_types[0]], c.requirements)->capacity_type,
                  CapacityType::kReserved);
      }
    }
    EXPECT_NEAR(OnDemandTotal(in, r), 2 * 2.24208, 1e-9);
  }
}

TEST(GpuCostTest, OnePodTakesOneReservedInstance) {
  Input in = G6eCluster();
  AddReservation(in, 0, "cr-l40s", 2);
  in.pods = {GpuPod("a", 1)};
  const Result r = Solve(in);
  ASSERT_EQ(r.new_claims.size(), 1u);
  ExpectConsistent(r);
  EXPECT_TRUE(PinnedTo(r.new_claims[0], "cr-l40s"));
  ASSERT_EQ(r.new_claims[0].instance_types.size(), 1u);
  EXPECT_EQ(in.instance_types[r.new_claims[0].instance_types[0]].name, "g6e.2xlarge");
}

TEST(GpuCostTest, AReservationUsedUpByInFlightClaimsLeavesTheKnapsack) {
  // The provisioner subtracts the instances in-flight claims hold: nothing left, the offering
  // is unavailable, and the group is packed as if there were no reservation.
  Input plain = G6eCluster();
  for (int i = 0; i < 4; ++i) plain.pods.push_back(GpuPod("p" + std::to_string(i), 1));
  Input in = plain;
  AddReservation(in, 0, "cr-l40s", 0);
  const Result expected = Solve(plain);
  const Result r = Solve(in);
  ASSERT_EQ(r.new_claims.size(), 4u) << "four g6e.2xlarge ($8.97/h) beat a g6e.12xlarge";
  ExpectConsistent(r);
  ASSERT_EQ(r.new_claims.size(), expected.new_claims.size());
  for (size_t c = 0; c < r.new_claims.size(); ++c) {
    EXPECT_EQ(r.new_claims[c].pods, expected.new_claims[c].pods);
    EXPECT_EQ(r.new_claims[c].instance_types, expected.new_claims[c].instance_types);
    EXPECT_EQ(r.new_claims[c].requirements, expected.new_claims[c].requirements);
  }
  EXPECT_NEAR(Total(in, r), 4 * 2.24208, 1e-9);
}

TEST(GpuCostTest, PodsTheReservedTypeCannotHoldIgnoreTheReservation) {
  // 2-GPU pods do not fit the reserved 1-GPU g6e.2xlarge: the same plan as without it.
  Input plain = G6eCluster();
  for (int i = 0; i < 6; ++i) plain.pods.push_back(GpuPod("p" + std::to_string(i), 2));
  Input in = plain;
  AddReservation(in, 0, "cr-l40s", 2);
  const Result expected = Solve(plain);
  const Result r = Solve(in);
  ASSERT_EQ(r.new_claims.size(), 3u);
  ExpectConsistent(r);
  for (const NewNodeClaim& c : r.new_claims) {
    EXPECT_EQ(in.instance_types[c.instance_types.front()].name, "g6e.12xlarge");
    EXPECT_EQ(c.pods.size(), 2u);
  }
  ASSERT_EQ(r.new_claims.size(), expected.new_claims.size());
  for (size_t c = 0; c < r.new_claims.size(); ++c) {
    EXPECT_EQ(r.new_claims[c].pods, expected.new_claims[c].pods);
    EXPECT_EQ(r.new_claims[c].instance_types, expected.new_claims[c].instance_types);
    EXPECT_EQ(r.new_claims[c].requirements, expected.new_claims[c].requirements);
  }
  EXPECT_NEAR(Total(in, r), 3 * 10.49264, 1e-9);
}

TEST(GpuCostTest, AnUnderfilledReservedClaimIsRefilled) {
  // One reserved g6e.12xlarge (4 GPUs), nine 1-GPU pods: greedy packing fills a g6e.48xlarge
  // on-demand and puts the ninth pod alone on the reserved node. Four pods belong on the
  // reserved node and five on g6e.2xlarge on-demand.
  Input in = G6eCluster();
  AddReservation(in, 1, "cr-12x", 1);
  for (int i = 0; i < 9; ++i) in.pods.push_back(GpuPod("p" + std::to_string(i), 1));
  Options greedy;
  greedy.optimize_gpu_cost = false;
  const Result before = Solve(in, greedy);
  ASSERT_EQ(before.new_claims.size(), 2u);
  EXPECT_EQ(ReservedClaims(before, "cr-12x"), 1);
  EXPECT_NEAR(Total(in, before), 30.13118, 1e-5) << "a g6e.48xlarge on-demand and the reserved node";

  const Result r = Solve(in);
  EXPECT_EQ(Placed(r), 9);
  ExpectConsistent(r);
  ASSERT_EQ(ReservedClaims(r, "cr-12x"), 1) << "the reservation has one instance: never two claims in it";
  for (const NewNodeClaim& c : r.new_claims) {
    if (PinnedTo(c, "cr-12x")) {
      EXPECT_EQ(c.pods.size(), 4u);
      EXPECT_EQ(in.instance_types[c.instance_types.front()].name, "g6e.12xlarge");
    } else {
      EXPECT_EQ(in.instance_types[c.instance_types.front()].name, "g6e.2xlarge");
      EXPECT_TRUE(std::find(c.instance_types.begin(), c.instance_types.end(), 1) != c.instance_types.end())
          << "g6e.12xlarge stays listed, on-demand only";
    }
  }
  EXPECT_EQ(r.new_claims.size(), 6u);
  EXPECT_NEAR(OnDemandTotal(in, r), 5 * 2.24208, 1e-9);
}

TEST(GpuCostTest, GroupsSharingAReservationDoNotDoubleBookIt) {
  // Two pools, each with three 1-GPU pods, and two reserved g6e.2xlarge between them: two
  // reserved claims in all, the other four pods on-demand, in either reservation mode.
  Input in = G6eCluster();
  AddReservation(in, 0, "cr-l40s", 2);
  in.nodepools[0].name = "gpu-a";
  NodePool b = in.nodepools[0];
  b.name = "gpu-b";
  in.nodepools.push_back(b);
  for (const char* pool : {"gpu-a", "gpu-b"}) {
    for (int i = 0; i < 3; ++i) {
      Pod p = GpuPod(std::string(pool) + "-" + std::to_string(i), 1);
      p.requirements.Add(core::Requirement::In(keys::kNodePool, {pool}));
      in.pods.push_back(p);
    }
  }
  for (bool strict : {true, false}) {
    SCOPED_TRACE(strict ? "strict reservations" : "reservations not strict");
    Options options;
    options.strict_reservations = strict;
    const Result r = Solve(in, options);
    EXPECT_EQ(Placed(r), 6);
    ExpectConsistent(r);
    EXPECT_EQ(ReservedClaims(r, "cr-l40s"), 2);
    EXPECT_EQ(r.new_claims.size(), 6u);
    EXPECT_NEAR(OnDemandTotal(in, r), 4 * 2.24208, 1e-9);
  }
}

// Exact minimum for n identical pods by brute force over every way to split them into nodes
// (integer partitions), each node taking the cheapest type that holds its share.
double BruteForce(const Input& in, int n, const std::function<int64_t(const InstanceType&)>& capacity) {
  std::vector<double> cheapest_for(static_cast<size_t>(n) + 1, std::numeric_limits<double>::infinity());
  for (const InstanceType& t : in.instance_types) {
    const int64_t k = capacity(t);
    for (int m = 1; m <= n && m <= k; ++m) {
      cheapest_for[static_cast<size_t>(m)] = std::min(cheapest_for[static_cast<size_t>(m)], t.offerings[0].price);
    }
  }
  double best = std::numeric_limits<double>::infinity();
  std::function<void(int, int, double)> split = [&](int left, int max_part, double cost) {
    if (left == 0) {
      best = std::min(best, cost);
      return;
    }
    for (int part = std::min(left, max_part); part >= 1; --part) split(left - part, part, cost + cheapest_for[static_cast<size_t>(part)]);
  };
  split(n, n, 0);
  return best;
}

TEST(GpuCostTest, MatchesABruteForceOptimumOnRandomSmallCases) {
  std::mt19937 rng(1149);
  const int gpu_counts[] = {1, 2, 4, 8};
  for (int round = 0; round < 200; ++round) {
    std::vector<Shape> shapes;
    const int types = 2 + static_cast<int>(rng() % 5);
    std::vector<std::string> names;
    for (int t = 0; t < types; ++t) names.push_back("gpu-type-" + std::to_string(t));
    for (int t = 0; t < types; ++t) {
      const int64_t gpus = gpu_counts[rng() % 4];
      const double price = 0.5 + static_cast<double>(rng() % 2000) / 100.0;
      shapes.push_back({names[t].c_str(), 8 * gpus, 32768 * gpus, 110, gpus, 24576, price});
    }
    Input in = Cluster(shapes);
    const int pods = 1 + static_cast<int>(rng() % 7);
    const int gpus_per_pod = rng() % 3 == 0 ? 2 : 1;
    for (int i = 0; i < pods; ++i) in.pods.push_back(GpuPod("p" + std::to_string(i), gpus_per_pod));
    const Result r = Solve(in);
    const int placed = Placed(r);
    const double exact = BruteForce(in, pods, [&](const InstanceType& t) {
      // The same rule the optimiser uses: pods that fit the allocatable, GPUs, cpu and memory.
      const int64_t by_gpu = t.allocatable.Get("nvidia.com/gpu").Value() / gpus_per_pod;
      const int64_t by_cpu = t.allocatable.Get("cpu").MilliValue() / (2000);
      const int64_t by_mem = t.allocatable.Get("memory").Value() / (int64_t{8} << 30);
      const int64_t by_pods = t.allocatable.Get("pods").Value();
      return std::min({by_gpu, by_cpu, by_mem, by_pods});
    });
    if (exact == std::numeric_limits<double>::infinity()) {
      EXPECT_EQ(placed, 0) << "round " << round;
      continue;
    }
    ASSERT_EQ(placed, pods) << "round " << round;
    EXPECT_NEAR(Total(in, r), exact, 1e-9) << "round " << round;
  }
}

}  // namespace
}  // namespace gpufleet::scheduling

namespace gpufleet::scheduling {
namespace {

// Exact minimum for pods of mixed shapes: every set partition of the pods into nodes, each
// node at the cheapest type whose allocatable holds its pods.
double BruteForceMixed(const Input& in) {
  const size_t n = in.pods.size();
  std::vector<size_t> block(n, 0);
  double best = std::numeric_limits<double>::infinity();
  auto node_price = [&](const std::vector<size_t>& pods) {
    core::ResourceList sum;
    for (size_t p : pods) {
      for (const auto& [name, q] : in.pods[p].requests) {
        core::Quantity s = sum.Get(name);
        (void)s.Add(q);
        sum.Set(name, s);
      }
    }
    sum.Set("pods", core::Quantity::FromInt(static_cast<int64_t>(pods.size())));
    double cheapest = std::numeric_limits<double>::infinity();
    for (const InstanceType& t : in.instance_types) {
      if (core::Fits(sum, t.allocatable)) cheapest = std::min(cheapest, t.offerings[0].price);
    }
    return cheapest;
  };
  // Restricted growth strings enumerate each set partition once.
  std::function<void(size_t, size_t)> assign = [&](size_t i, size_t blocks) {
    if (i == n) {
      double total = 0;
      for (size_t b = 0; b < blocks; ++b) {
        std::vector<size_t> pods;
        for (size_t p = 0; p < n; ++p) {
          if (block[p] == b) pods.push_back(p);
        }
        total += node_price(pods);
      }
      best = std::min(best, total);
      return;
    }
    for (size_t b = 0; b <= blocks; ++b) {
      block[i] = b;
      assign(i + 1, std::max(blocks, b + 1));
    }
  };
  assign(0, 0);
  return best;
}

TEST(GpuCostTest, MixedShapesMatchABruteForceOptimum) {
  std::mt19937 rng(2339);
  const int gpu_counts[] = {1, 2, 4, 8};
  const int pod_gpus[] = {1, 1, 2, 4};
  int improved = 0;
  for (int round = 0; round < 150; ++round) {
    std::vector<Shape> shapes;
    std::vector<std::string> names;
    const int types = 2 + static_cast<int>(rng() % 4);
    for (int t = 0; t < types; ++t) names.push_back("gpu-type-" + std::to_string(t));
    for (int t = 0; t < types; ++t) {
      const int64_t gpus = gpu_counts[rng() % 4];
      shapes.push_back({names[t].c_str(), 8 * gpus, 32768 * gpus, 110, gpus, 24576,
                        0.5 + static_cast<double>(rng() % 2000) / 100.0});
    }
    Input in = Cluster(shapes);
    const int pods = 2 + static_cast<int>(rng() % 5);
    for (int i = 0; i < pods; ++i) in.pods.push_back(GpuPod("p" + std::to_string(i), pod_gpus[rng() % 4]));
    const double exact = BruteForceMixed(in);
    const Result r = Solve(in);
    if (exact == std::numeric_limits<double>::infinity()) continue;
    ASSERT_EQ(Placed(r), pods) << "round " << round;
    EXPECT_NEAR(Total(in, r), exact, 1e-9) << "round " << round;
    Options greedy;
    greedy.optimize_gpu_cost = false;
    improved += Total(in, Solve(in, greedy)) > exact + 1e-9 ? 1 : 0;
  }
  EXPECT_GT(improved, 10) << "the cases must include ones greedy packing gets wrong";
}

}  // namespace
}  // namespace gpufleet::scheduling
