// Behaviour tests for Solve, named after the Karpenter tests they port where one exists.
#include "scheduling/scheduler.h"

#include <gtest/gtest.h>

#include "scheduling/fake_instance_types.h"
#include "solve_testing.h"

namespace gpufleet::scheduling {
namespace {

using Kind = Placement::Kind;

core::Quantity Q(const char* text) { return *core::Quantity::Parse(text); }

Pod MakePod(std::string name, const char* cpu, const char* memory = "1Gi") {
  Pod p;
  p.key = "default/" + name;
  p.uid = name;
  p.requests.Set("cpu", Q(cpu));
  p.requests.Set("memory", Q(memory));
  return p;
}

NodePool MakePool(std::string name, const Input& in, int32_t weight = 0) {
  NodePool pool;
  pool.name = std::move(name);
  pool.weight = weight;
  for (size_t i = 0; i < in.instance_types.size(); ++i) pool.instance_types.push_back(i);
  return pool;
}

Input SmallCluster(int types = 8) {
  Input in;
  in.instance_types = FakeInstanceTypes(types);
  in.nodepools.push_back(MakePool("default", in));
  return in;
}

const NewNodeClaim& ClaimOf(const Result& r, size_t pod) {
  EXPECT_EQ(r.placements[pod].kind, Kind::kNewNodeClaim) << r.placements[pod].error;
  return r.new_claims.at(r.placements[pod].index);
}

TEST(SolveTest, PacksPodsOntoOneNodeClaimWithTheCheapestTypesFirst) {
  Input in = SmallCluster();
  for (int i = 0; i < 3; ++i) in.pods.push_back(MakePod("p" + std::to_string(i), "1"));
  Result r = Solve(in);
  ASSERT_EQ(r.new_claims.size(), 1u);
  EXPECT_EQ(r.new_claims[0].pods.size(), 3u);
  // 3 cpu and 3Gi need fake-it-2 (3 cpu, 6Gi) or larger; cheapest first.
  ASSERT_FALSE(r.new_claims[0].instance_types.empty());
  EXPECT_EQ(in.instance_types[r.new_claims[0].instance_types[0]].name, "fake-it-2");
  EXPECT_EQ(r.new_claims[0].instance_types.size(), 6u);
  EXPECT_EQ(r.new_claims[0].requests.Get("cpu"), Q("3"));
  EXPECT_TRUE(r.new_claims[0].requirements.Get(keys::kNodePool).Has("default"));
}

TEST(SolveTest, ShouldNotLaunchASecondNodeIfThereIsAnInFlightNodeThatCanSupportThePod) {
  Input in = SmallCluster();
  ExistingNode inflight{.name = "claim-1", .nodepool = "default", .initialized = false};
  inflight.allocatable.Set("cpu", Q("4"));
  inflight.allocatable.Set("memory", Q("8Gi"));
  inflight.allocatable.Set("pods", Q("40"));
  inflight.labels = {{"karpenter.sh/nodepool", "default"}, {"topology.kubernetes.io/zone", "test-zone-1"}};
  inflight.taints = {{.key = "node.kubernetes.io/not-ready", .effect = core::TaintEffect::kNoSchedule}};
  in.nodes.push_back(inflight);
  in.pods.push_back(MakePod("a", "2"));
  Result r = Solve(in);
  EXPECT_EQ(r.placements[0].kind, Kind::kExistingNode) << r.placements[0].error;
  EXPECT_TRUE(r.new_claims.empty());
}

TEST(SolveTest, ExistingNodeThatIsFullOrTaintedIsPassedOver) {
  Input in = SmallCluster();
  ExistingNode full{.name = "full"};
  full.allocatable.Set("cpu", Q("1"));
  full.allocatable.Set("memory", Q("8Gi"));
  full.allocatable.Set("pods", Q("110"));
  ExistingNode tainted{.name = "tainted"};
  tainted.allocatable.Set("cpu", Q("16"));
  tainted.allocatable.Set("memory", Q("64Gi"));
  tainted.allocatable.Set("pods", Q("110"));
  tainted.taints = {{.key = "dedicated", .value = "db", .effect = core::TaintEffect::kNoSchedule}};
  in.nodes = {full, tainted};
  in.pods.push_back(MakePod("a", "2"));
  Result r = Solve(in);
  EXPECT_EQ(r.placements[0].kind, Kind::kNewNodeClaim);

  in.pods[0].tolerations = {{.key = "dedicated", .op = core::TolerationOperator::kEqual, .value = "db"}};
  r = Solve(in);
  ASSERT_EQ(r.placements[0].kind, Kind::kExistingNode);
  EXPECT_EQ(r.placements[0].index, 1u);
}

TEST(SolveTest, ShouldLaunchInstancesForNvidiaGpuRequestsAndDeprioritizeGpuTypesOtherwise) {
  Input in;
  in.instance_types = FakeInstanceTypes(4);  // no GPUs
  for (int i = 0; i < 4; ++i) {
    in.instance_types.push_back(FakeInstanceType(i, {.gpus = 1, .name_prefix = "gpu-it-"}));
  }
  in.nodepools.push_back(MakePool("default", in));
  Pod gpu = MakePod("gpu", "1");
  gpu.requests.Set("nvidia.com/gpu", Q("1"));
  in.pods = {gpu, MakePod("cpu-only", "1")};
  // Host ports keep the two pods apart, so each gets its own claim.
  in.pods[0].host_ports = {{.port = 80}};
  in.pods[1].host_ports = {{.port = 80}};
  Result r = Solve(in);
  const NewNodeClaim& g = ClaimOf(r, 0);
  for (size_t t : g.instance_types) EXPECT_TRUE(in.instance_types[t].HasAccelerators()) << in.instance_types[t].name;
  EXPECT_FALSE(g.instance_types.empty());
  const NewNodeClaim& c = ClaimOf(r, 1);
  for (size_t t : c.instance_types) EXPECT_FALSE(in.instance_types[t].HasAccelerators()) << in.instance_types[t].name;
  EXPECT_NE(r.placements[0].index, r.placements[1].index);
}

TEST(SolveTest, NodePoolsAreTriedByWeightAndTaintsSteerPods) {
  Input in = SmallCluster();
  NodePool gpu_pool = MakePool("gpu", in, /*weight=*/50);
  gpu_pool.taints = {{.key = "nvidia.com/gpu", .effect = core::TaintEffect::kNoSchedule}};
  in.nodepools.push_back(gpu_pool);
  in.pods = {MakePod("plain", "1")};
  Result r = Solve(in);
  EXPECT_EQ(in.nodepools[ClaimOf(r, 0).nodepool].name, "default");
  in.pods[0].tolerations = {{.key = "nvidia.com/gpu", .op = core::TolerationOperator::kExists}};
  r = Solve(in);
  EXPECT_EQ(in.nodepools[ClaimOf(r, 0).nodepool].name, "gpu") << "heavier pool first when tolerated";

  // A claim made earlier in the same solve is preferred to a new one from a heavier pool.
  in.pods = {MakePod("a-plain", "1"), MakePod("b-tolerant", "1")};
  in.pods[1].tolerations = {{.key = "nvidia.com/gpu", .op = core::TolerationOperator::kExists}};
  r = Solve(in);
  ASSERT_EQ(r.new_claims.size(), 1u);
  EXPECT_EQ(r.new_claims[0].pods.size(), 2u);
}

TEST(SolveTest, ShouldPartiallyScheduleIfLimitsWouldBeExceeded) {
  Input in = SmallCluster(4);  // largest type: 4 cpu
  in.nodepools[0].limits.Set("cpu", Q("4"));
  // Anti-packing through host ports: each pod needs its own node of >= 1 cpu.
  for (int i = 0; i < 3; ++i) {
    in.pods.push_back(MakePod("p" + std::to_string(i), "1"));
    in.pods.back().host_ports = {{.port = 8080}};
  }
  Result r = Solve(in);
  // The first claim is charged its largest type (4 cpu): nothing is left for a second.
  EXPECT_EQ(PlacedOthersFailingWith(r, "exceed limits for nodepool: \"default\""), 1);
}

TEST(SolveTest, RequirementsFromNodeSelectorNarrowZonesAndTypes) {
  Input in = SmallCluster();
  Pod p = MakePod("zonal", "1");
  p.requirements.Add(core::Requirement::In(core::labels::kZone, {"test-zone-3"}));
  p.requirements.Add(core::Requirement::GreaterThan("karpenter.k8s.aws/instance-cpu", 4));
  in.pods.push_back(p);
  Result r = Solve(in);
  const NewNodeClaim& c = ClaimOf(r, 0);
  EXPECT_TRUE(c.requirements.Get(core::labels::kZone).Has("test-zone-3"));
  EXPECT_FALSE(c.requirements.Get(core::labels::kZone).Has("test-zone-1"));
  ASSERT_FALSE(c.instance_types.empty());
  EXPECT_EQ(in.instance_types[c.instance_types[0]].name, "fake-it-4") << "cpu > 4: 5 cpu and up";

  // test-zone-3 has on-demand only: a spot-only pod there cannot be placed.
  in.pods[0].requirements.Add(core::Requirement::In(keys::kCapacityType, {"spot"}));
  r = Solve(in);
  EXPECT_EQ(r.placements[0].kind, Kind::kUnplaced);
  EXPECT_NE(r.placements[0].error.find("available offering"), std::string::npos) << r.placements[0].error;
}

TEST(SolveTest, UnknownLabelThePoolDoesNotDefineIsRefusedWithItsName) {
  Input in = SmallCluster();
  Pod p = MakePod("picky", "1");
  p.requirements.Add(core::Requirement::In("example.com/rack", {"r1"}));
  in.pods.push_back(p);
  Result r = Solve(in);
  ASSERT_EQ(r.placements[0].kind, Kind::kUnplaced);
  EXPECT_NE(r.placements[0].error.find("incompatible with nodepool \"default\""), std::string::npos) << r.placements[0].error;
  EXPECT_NE(r.placements[0].error.find("example.com/rack"), std::string::npos) << r.placements[0].error;
}

TEST(SolveTest, PodTooLargeForEveryTypeSaysSo) {
  Input in = SmallCluster(4);
  in.pods.push_back(MakePod("huge", "64"));
  Result r = Solve(in);
  ASSERT_EQ(r.placements[0].kind, Kind::kUnplaced);
  EXPECT_NE(r.placements[0].error.find("no instance type has enough resources"), std::string::npos)
      << r.placements[0].error;
}

TEST(SolveTest, FallsBackToTheNextNodeAffinityTerm) {
  Input in = SmallCluster();
  Pod p = MakePod("or-terms", "1");
  p.requirements.Add(core::Requirement::In(core::labels::kZone, {"mars-1"}));
  core::Requirements second;
  second.Add(core::Requirement::In(core::labels::kZone, {"test-zone-2"}));
  p.alternative_requirements = {second};
  in.pods.push_back(p);
  Result r = Solve(in);
  EXPECT_TRUE(ClaimOf(r, 0).requirements.Get(core::labels::kZone).Has("test-zone-2"));
}

TEST(SolveTest, ReservedOfferingsComeFirst) {
  Input in = SmallCluster(4);
  InstanceType& t = in.instance_types[3];
  t.offerings.push_back({.zone = "test-zone-1", .capacity_type = CapacityType::kReserved, .price = 1e-7,
                         .reservation_id = "cr-1", .reservation_capacity = 2});
  t.requirements.Add(core::Requirement::In(keys::kCapacityType, {"on-demand", "reserved", "spot"}));
  in.nodepools[0].requirements.Add(core::Requirement::In(keys::kCapacityType, {"on-demand", "reserved"}));
  in.pods.push_back(MakePod("a", "1"));
  Result r = Solve(in);
  const NewNodeClaim& c = ClaimOf(r, 0);
  ASSERT_FALSE(c.instance_types.empty());
  EXPECT_EQ(in.instance_types[c.instance_types[0]].name, "fake-it-3") << "the reserved type, though larger";
}

// fake-it-3 (4 cpu) gets a reservation of `capacity` instances in test-zone-1; the pool allows
// reserved and on-demand capacity. Pods with hostname anti-affinity need a node each.
Input ReservedCluster(int capacity, int pods) {
  Input in = SmallCluster(4);
  InstanceType& t = in.instance_types[3];
  t.offerings.push_back({.zone = "test-zone-1", .capacity_type = CapacityType::kReserved, .price = 1e-7,
                         .reservation_id = "cr-1", .reservation_capacity = capacity});
  t.requirements.Add(core::Requirement::In(keys::kCapacityType, {"on-demand", "reserved", "spot"}));
  in.nodepools[0].requirements.Add(core::Requirement::In(keys::kCapacityType, {"on-demand", "reserved"}));
  for (int i = 0; i < pods; ++i) {
    Pod p = MakePod("r" + std::to_string(i), "1");
    p.ns = "default";
    p.labels = {{"app", "r"}};
    p.anti_affinity = {{.topology_key = std::string(core::labels::kHostname), .selector = *core::LabelSelector::Parse("app=r")}};
    in.pods.push_back(p);
  }
  return in;
}

TEST(SolveTest, ClaimsHoldingAReservationLaunchIntoIt) {
  Input in = ReservedCluster(/*capacity=*/2, /*pods=*/2);
  Result r = Solve(in);
  ASSERT_EQ(r.new_claims.size(), 2u);
  for (const NewNodeClaim& c : r.new_claims) {
    EXPECT_TRUE(c.requirements.Get(keys::kCapacityType).Has("reserved"));
    EXPECT_FALSE(c.requirements.Get(keys::kCapacityType).Has("on-demand"));
    EXPECT_TRUE(c.requirements.Get(keys::kReservationId).Has("cr-1"));
    ASSERT_EQ(c.instance_types.size(), 1u);
    EXPECT_EQ(in.instance_types[c.instance_types[0]].name, "fake-it-3");
  }
}

TEST(SolveTest, ShouldntFallbackToOnDemandOrSpotWhenCompatibleReservedOfferingsAreAvailable) {
  // Two reserved instances, three pods: the third waits for the reservation (the next solve,
  // once claims launch and the reservation frees or grows) instead of silently going on-demand.
  Input in = ReservedCluster(/*capacity=*/2, /*pods=*/3);
  NodePool fallback = MakePool("on-demand-fallback", in, /*weight=*/-1);
  in.nodepools.push_back(fallback);
  Result r = Solve(in);
  int placed = 0;
  for (const Placement& p : r.placements) {
    if (p.kind == Kind::kNewNodeClaim) {
      ++placed;
      EXPECT_EQ(in.nodepools[r.new_claims[p.index].nodepool].name, "default");
    } else {
      EXPECT_NE(p.error.find("capacity reservations are used up in this batch (cr-1)"), std::string::npos) << p.error;
      EXPECT_EQ(p.error.find("on-demand-fallback"), std::string::npos) << "no fallback to the next pool: " << p.error;
    }
  }
  EXPECT_EQ(placed, 2);

  // Without strict mode the third pod takes on-demand capacity.
  Options relaxed;
  relaxed.strict_reservations = false;
  r = Solve(in, relaxed);
  EXPECT_EQ(Placed(r), 3);
}

TEST(SolveTest, ShouldntRelaxPreferencesWhenAPodFailsToScheduleDueToAReservedOfferingError) {
  Input in = ReservedCluster(/*capacity=*/1, /*pods=*/2);
  // The second pod could fall back to a term that avoids the reservation; it must not.
  core::Requirements elsewhere;
  elsewhere.Add(core::Requirement::In(core::labels::kZone, {"test-zone-2"}));
  in.pods[1].alternative_requirements = {elsewhere};
  EXPECT_EQ(Placed(Solve(in)), 1);
}

TEST(SolveTest, DaemonSetOverheadIsChargedOnlyWhereTheDaemonSetRuns) {
  Input in = SmallCluster();
  NodePool tainted = MakePool("tainted", in, 10);
  tainted.taints = {{.key = "team", .value = "ml", .effect = core::TaintEffect::kNoSchedule}};
  in.nodepools.push_back(tainted);
  DaemonSetPod ds{.name = "logging"};
  ds.requests.Set("cpu", Q("500m"));
  in.daemonsets.push_back(ds);
  in.pods = {MakePod("a", "1")};
  Result r = Solve(in);
  EXPECT_EQ(ClaimOf(r, 0).requests.Get("cpu"), Q("1500m")) << "default pool: the DaemonSet runs there";
  in.pods[0].tolerations = {{.key = "team", .op = core::TolerationOperator::kExists}};
  r = Solve(in);
  EXPECT_EQ(in.nodepools[ClaimOf(r, 0).nodepool].name, "tainted");
  EXPECT_EQ(ClaimOf(r, 0).requests.Get("cpu"), Q("1")) << "tainted pool: it does not tolerate the taint";
}

TEST(SolveTest, OrdersLargestPodsFirst) {
  Input in = SmallCluster(2);  // at most 2 cpu per node
  in.pods = {MakePod("small", "500m"), MakePod("big", "2")};
  Result r = Solve(in);
  // The big pod is placed first and fills a 2-cpu node; the small one needs its own.
  EXPECT_NE(r.placements[0].index, r.placements[1].index);
  EXPECT_EQ(r.new_claims[r.placements[1].index].pods.front(), 1u);
}

TEST(SolveTest, DeadlineStopsTheSolveAndSaysSo) {
  Input in = SmallCluster();
  for (int i = 0; i < 5; ++i) in.pods.push_back(MakePod("p" + std::to_string(i), "1"));
  int polls = 0;
  Options options;
  options.out_of_time = [&] { return ++polls > 2; };
  Result r = Solve(in, options);
  EXPECT_TRUE(r.timed_out);
  EXPECT_EQ(PlacedOthersFailingWith(r, "ran out of time"), 2);
}

TEST(SolveTest, NoNodePools) {
  Input in;
  in.pods.push_back(MakePod("a", "1"));
  Result r = Solve(in);
  EXPECT_EQ(r.placements[0].error, "no nodepools found");
}

}  // namespace
}  // namespace gpufleet::scheduling

namespace gpufleet::scheduling {
namespace {

TEST(SolveTest, MinValuesKeepsEnoughInstanceTypesOrRefuses) {
  Input in = SmallCluster(8);
  core::NodeSelectorRequirement wire{.key = std::string(core::labels::kInstanceType),
                                     .op = core::Operator::kExists, .min_values = 3};
  in.nodepools[0].requirements.Add(*core::Requirement::Create(wire));
  in.pods.push_back(MakePod("small", "1"));
  Result r = Solve(in);
  ASSERT_EQ(r.placements[0].kind, Kind::kNewNodeClaim) << r.placements[0].error;
  EXPECT_GE(r.new_claims[0].instance_types.size(), 3u);

  // 7 cpu fit only fake-it-6 and fake-it-7: two types, three required.
  in.pods = {MakePod("large", "7")};
  r = Solve(in);
  ASSERT_EQ(r.placements[0].kind, Kind::kUnplaced);
  EXPECT_NE(r.placements[0].error.find("minValues requirement is not met for \"node.kubernetes.io/instance-type\": 2 of 3"),
            std::string::npos)
      << r.placements[0].error;
}

}  // namespace
}  // namespace gpufleet::scheduling

namespace gpufleet::scheduling {
namespace {

TEST(SolveTest, DaemonSetOverheadIsPerInstanceType) {
  // NVIDIA's device plugin runs only on GPU types: CPU nodes do not pay for it.
  Input in;
  in.instance_types = FakeInstanceTypes(4);
  for (int i = 0; i < 4; ++i) in.instance_types.push_back(FakeInstanceType(i, {.gpus = 1, .name_prefix = "gpu-it-"}));
  in.nodepools.push_back(MakePool("default", in));
  DaemonSetPod plugin{.name = "nvidia-device-plugin"};
  plugin.requests.Set("cpu", Q("500m"));
  plugin.requirements.Add(core::Requirement::Exists(keys::kGpuCount));
  in.daemonsets.push_back(plugin);
  Pod gpu = MakePod("gpu", "1");
  gpu.requests.Set("nvidia.com/gpu", Q("1"));
  gpu.host_ports = {{.port = 80}};
  Pod cpu = MakePod("cpu", "1");
  cpu.host_ports = {{.port = 80}};
  in.pods = {gpu, cpu};
  Result r = Solve(in);
  EXPECT_EQ(ClaimOf(r, 0).requests.Get("cpu"), Q("1500m")) << "the plugin runs on the GPU node";
  EXPECT_EQ(ClaimOf(r, 1).requests.Get("cpu"), Q("1")) << "and not on the CPU node";
  // The plugin's 500m leaves the 1-cpu GPU type too small for a 1-cpu pod: 2 cpu and up.
  EXPECT_EQ(in.instance_types[ClaimOf(r, 0).instance_types[0]].name, "gpu-it-1");
  EXPECT_EQ(in.instance_types[ClaimOf(r, 1).instance_types[0]].name, "fake-it-0");
}

TEST(SolveTest, ShouldNotAssumePodWillScheduleToANodeWithStartupTaintsAfterInitialization) {
  Input in = SmallCluster();
  in.nodepools[0].startup_taints = {{.key = "example.com/agent-not-ready", .effect = core::TaintEffect::kNoSchedule}};
  ExistingNode node{.name = "n1", .nodepool = "default", .initialized = false};
  node.allocatable = {{"cpu", Q("4")}, {"memory", Q("8Gi")}, {"pods", Q("110")}};
  node.taints = {in.nodepools[0].startup_taints[0]};
  in.nodes.push_back(node);
  in.pods.push_back(MakePod("a", "1"));
  Result r = Solve(in);
  EXPECT_EQ(r.placements[0].kind, Kind::kExistingNode) << "still starting: the startup taint will go";
  in.nodes[0].initialized = true;
  r = Solve(in);
  EXPECT_EQ(r.placements[0].kind, Kind::kNewNodeClaim) << "initialized with the taint: it is real";
}

}  // namespace
}  // namespace gpufleet::scheduling

namespace gpufleet::scheduling {
namespace {

TEST(SolveTest, ShouldScheduleCompatibleRequirementsWithOperatorGtLtLteNotIn) {
  struct Case {
    core::Operator op;
    std::vector<std::string> values;
    const char* want_first;  // cheapest type left
  };
  // instance-cpu of fake-it-i is i+1.
  const Case cases[] = {
      {core::Operator::kGt, {"3"}, "fake-it-3"},
      {core::Operator::kGte, {"3"}, "fake-it-2"},
      {core::Operator::kLt, {"3"}, "fake-it-0"},
      {core::Operator::kLte, {"1"}, "fake-it-0"},
      {core::Operator::kNotIn, {"1", "2"}, "fake-it-2"},
  };
  for (const Case& c : cases) {
    Input in = SmallCluster(8);
    Pod p = MakePod("p", "100m", "100Mi");
    core::NodeSelectorRequirement wire{.key = "karpenter.k8s.aws/instance-cpu", .op = c.op, .values = c.values};
    p.requirements.Add(*core::Requirement::Create(wire));
    in.pods.push_back(p);
    Result r = Solve(in);
    ASSERT_EQ(r.placements[0].kind, Kind::kNewNodeClaim) << r.placements[0].error;
    EXPECT_EQ(in.instance_types[r.new_claims[0].instance_types[0]].name, c.want_first)
        << core::Requirement::Create(wire)->ToString();
  }
  // Lt 1 leaves nothing.
  Input in = SmallCluster(8);
  Pod p = MakePod("p", "100m", "100Mi");
  p.requirements.Add(core::Requirement::LessThan("karpenter.k8s.aws/instance-cpu", 1));
  in.pods.push_back(p);
  EXPECT_EQ(Solve(in).placements[0].kind, Kind::kUnplaced);
}

TEST(SolveTest, ShouldNotRelaxTheFinalTerm) {
  Input in = SmallCluster();
  Pod p = MakePod("p", "1");
  p.requirements.Add(core::Requirement::In(core::labels::kZone, {"mars-1"}));
  core::Requirements last;
  last.Add(core::Requirement::In(core::labels::kZone, {"venus-1"}));
  p.alternative_requirements = {last};
  in.pods.push_back(p);
  Result r = Solve(in);
  ASSERT_EQ(r.placements[0].kind, Kind::kUnplaced) << "the last required term still holds";
  EXPECT_NE(r.placements[0].error.find("venus-1"), std::string::npos) << r.placements[0].error;
}

TEST(SolveTest, TypesWhoseOfferingsHitInsufficientCapacityAreSkipped) {
  Input in = SmallCluster(4);
  // fake-it-1 would be the cheapest fit for 2 cpu; EC2 reported insufficient capacity for it
  // everywhere (the cloud provider marks those offerings unavailable for 3 minutes).
  for (Offering& o : in.instance_types[1].offerings) o.available = false;
  in.pods.push_back(MakePod("p", "1500m"));
  Result r = Solve(in);
  const NewNodeClaim& c = ClaimOf(r, 0);
  for (size_t t : c.instance_types) EXPECT_NE(in.instance_types[t].name, "fake-it-1");
  EXPECT_EQ(in.instance_types[c.instance_types[0]].name, "fake-it-2");
}

}  // namespace
}  // namespace gpufleet::scheduling
