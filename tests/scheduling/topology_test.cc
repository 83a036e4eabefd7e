// Topology spread and pod (anti-)affinity through Solve.
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "scheduling/fake_instance_types.h"
#include "scheduling/scheduler.h"
#include "solve_testing.h"

namespace gpufleet::scheduling {
namespace {

using Kind = Placement::Kind;
constexpr std::string_view kZone = core::labels::kZone;
constexpr std::string_view kHost = core::labels::kHostname;

core::LabelSelector Select(const char* text) { return *core::LabelSelector::Parse(text); }

Pod Labelled(const std::string& name, core::Labels labels, const char* cpu = "1") {
  Pod p{.key = "default/" + name, .ns = "default", .uid = name, .labels = std::move(labels)};
  p.requests.Set("cpu", *core::Quantity::Parse(cpu));
  return p;
}

Input Cluster() {
  Input in;
  in.instance_types = FakeInstanceTypes(16);
  NodePool pool{.name = "default"};
  for (size_t i = 0; i < in.instance_types.size(); ++i) pool.instance_types.push_back(i);
  in.nodepools.push_back(pool);
  return in;
}

// The single zone a placed pod's node or claim is pinned to ("" when not pinned).
std::string ZoneOf(const Input& in, const Result& r, size_t pod) {
  const Placement& p = r.placements[pod];
  if (p.kind == Kind::kExistingNode) return in.nodes[p.index].labels.at(kZone).str();
  if (p.kind != Kind::kNewNodeClaim) return "";
  const core::Requirement z = r.new_claims[p.index].requirements.Get(kZone);
  return !z.complement() && z.values().size() == 1 ? z.values()[0] : "";
}

TEST(TopologyTest, ZonalSpreadBalancesAcrossZones) {
  Input in = Cluster();
  for (int i = 0; i < 6; ++i) {
    Pod p = Labelled("web-" + std::to_string(i), {{"app", "web"}});
    p.topology_spread = {{.max_skew = 1, .topology_key = std::string(kZone), .selector = Select("app=web")}};
    in.pods.push_back(p);
  }
  Result r = Solve(in);
  std::map<std::string, int> per_zone;
  for (size_t i = 0; i < in.pods.size(); ++i) ++per_zone[ZoneOf(in, r, i)];
  EXPECT_EQ(per_zone, (std::map<std::string, int>{{"test-zone-1", 2}, {"test-zone-2", 2}, {"test-zone-3", 2}}));
}

TEST(TopologyTest, ZonalSpreadCountsPodsAlreadyRunning) {
  Input in = Cluster();
  ExistingNode node{.name = "n1", .labels = {{std::string(kZone), "test-zone-1"}}};
  node.allocatable.Set("cpu", core::Quantity::FromInt(0));  // full: only its pods count
  node.pods = {{.ns = "default", .labels = {{"app", "web"}}}, {.ns = "default", .labels = {{"app", "web"}}}};
  in.nodes.push_back(node);
  for (int i = 0; i < 2; ++i) {
    Pod p = Labelled("web-" + std::to_string(i), {{"app", "web"}});
    p.topology_spread = {{.max_skew = 1, .topology_key = std::string(kZone), .selector = Select("app=web")}};
    in.pods.push_back(p);
  }
  Result r = Solve(in);
  EXPECT_NE(ZoneOf(in, r, 0), "test-zone-1");
  EXPECT_NE(ZoneOf(in, r, 1), "test-zone-1");
  EXPECT_NE(ZoneOf(in, r, 0), ZoneOf(in, r, 1));
}

TEST(TopologyTest, HostnameSpreadWithSkewOnePutsOneSelectedPodPerNode) {
  Input in = Cluster();
  for (int i = 0; i < 4; ++i) {
    Pod p = Labelled("s-" + std::to_string(i), {{"app", "s"}});
    p.topology_spread = {{.max_skew = 1, .topology_key = std::string(kHost), .selector = Select("app=s")}};
    in.pods.push_back(p);
  }
  in.pods.push_back(Labelled("other", {{"app", "other"}}));
  Result r = Solve(in);
  EXPECT_EQ(r.new_claims.size(), 4u);
  for (const NewNodeClaim& c : r.new_claims) EXPECT_FALSE(c.requirements.Has(kHost)) << "placeholder is dropped";
}

TEST(TopologyTest, HostnameAntiAffinityNeedsANodeEach) {
  Input in = Cluster();
  ExistingNode node{.name = "n1", .labels = {{std::string(kZone), "test-zone-1"}}};
  node.allocatable.Set("cpu", core::Quantity::FromInt(64));
  node.allocatable.Set("pods", core::Quantity::FromInt(110));
  node.pods = {{.ns = "default", .labels = {{"app", "nginx"}}}};
  in.nodes.push_back(node);
  for (int i = 0; i < 3; ++i) {
    Pod p = Labelled("nginx-" + std::to_string(i), {{"app", "nginx"}});
    p.anti_affinity = {{.topology_key = std::string(kHost), .selector = Select("app=nginx")}};
    in.pods.push_back(p);
  }
  in.pods.push_back(Labelled("plain", {}));
  Result r = Solve(in);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(r.placements[i].kind, Kind::kNewNodeClaim) << "n1 already runs nginx";
  EXPECT_EQ(r.new_claims.size(), 3u);
  EXPECT_EQ(r.placements[3].kind, Kind::kExistingNode);
}

TEST(TopologyTest, ShouldNotViolatePodAntiAffinityOnZoneInverse) {
  // A running pod in zone 1 repels app=web from its zone; the web pod has no rule of its own.
  Input in = Cluster();
  ExistingNode node{.name = "n1", .labels = {{std::string(kZone), "test-zone-1"}}};
  node.allocatable.Set("cpu", core::Quantity::FromInt(64));
  node.allocatable.Set("pods", core::Quantity::FromInt(110));
  node.pods = {{.ns = "default", .labels = {{"app", "db"}},
                .anti_affinity = {{.topology_key = std::string(kZone), .selector = Select("app=web")}}}};
  in.nodes.push_back(node);
  in.pods.push_back(Labelled("web", {{"app", "web"}}));
  Result r = Solve(in);
  ASSERT_EQ(r.placements[0].kind, Kind::kNewNodeClaim) << r.placements[0].error;
  EXPECT_FALSE(r.new_claims[0].requirements.Get(kZone).Has("test-zone-1"));

  // Symmetric within the solve too: the owner placed first keeps web out of its zone.
  in.nodes.clear();
  Pod db = Labelled("db", {{"app", "db"}}, "2");
  db.requirements.Add(core::Requirement::In(kZone, {"test-zone-2"}));
  db.anti_affinity = {{.topology_key = std::string(kZone), .selector = Select("app=web")}};
  in.pods = {db, Labelled("web", {{"app", "web"}})};
  r = Solve(in);
  EXPECT_EQ(ZoneOf(in, r, 0), "test-zone-2");
  ASSERT_EQ(r.placements[1].kind, Kind::kNewNodeClaim) << r.placements[1].error;
  EXPECT_NE(r.placements[0].index, r.placements[1].index);
  EXPECT_FALSE(r.new_claims[r.placements[1].index].requirements.Get(kZone).Has("test-zone-2"));
}

TEST(TopologyTest, ZonalSelfAffinityKeepsTheGroupInOneZone) {
  Input in = Cluster();
  for (int i = 0; i < 5; ++i) {
    Pod p = Labelled("a-" + std::to_string(i), {{"team", "a"}}, "6");  // too big to share much
    p.affinity = {{.topology_key = std::string(kZone), .selector = Select("team=a")}};
    in.pods.push_back(p);
  }
  Result r = Solve(in);
  const std::string zone = ZoneOf(in, r, 0);
  EXPECT_FALSE(zone.empty());
  for (size_t i = 0; i < in.pods.size(); ++i) EXPECT_EQ(ZoneOf(in, r, i), zone) << i;
}

TEST(TopologyTest, AffinityFollowsARunningPod) {
  Input in = Cluster();
  ExistingNode node{.name = "db-node", .labels = {{std::string(kZone), "test-zone-2"}}};
  node.pods = {{.ns = "default", .labels = {{"app", "db"}}}};
  in.nodes.push_back(node);  // no room: the pod needs a new node in the same zone
  Pod p = Labelled("cache", {{"app", "cache"}});
  p.affinity = {{.topology_key = std::string(kZone), .selector = Select("app=db")}};
  in.pods.push_back(p);
  Result r = Solve(in);
  EXPECT_EQ(ZoneOf(in, r, 0), "test-zone-2");

  // Nothing selected anywhere and not self-selecting: it cannot be placed.
  in.nodes.clear();
  r = Solve(in);
  ASSERT_EQ(r.placements[0].kind, Kind::kUnplaced);
  EXPECT_NE(r.placements[0].error.find("unsatisfiable pod affinity on topology.kubernetes.io/zone"), std::string::npos)
      << r.placements[0].error;
}

TEST(TopologyTest, ZonalAntiAffinityRunsOutOfZones) {
  Input in = Cluster();
  for (int i = 0; i < 4; ++i) {
    Pod p = Labelled("z-" + std::to_string(i), {{"app", "z"}});
    p.anti_affinity = {{.topology_key = std::string(kZone), .selector = Select("app=z")}};
    in.pods.push_back(p);
  }
  // The first claim may still land in any zone, so it blocks all three (Karpenter's rule); the
  // others wait for the next solve, when the claim's zone is known.
  EXPECT_EQ(PlacedOthersFailingWith(Solve(in), "unsatisfiable pod anti-affinity"), 1);

  // Pinned pods leave the other zones free.
  for (size_t i = 0; i < in.pods.size(); ++i) {
    const char* zones[] = {"test-zone-1", "test-zone-2", "test-zone-3", "test-zone-1"};
    in.pods[i].requirements.Add(core::Requirement::In(kZone, {zones[i]}));
  }
  EXPECT_EQ(Placed(Solve(in)), 3) << "one per zone";
}

TEST(TopologyTest, SpreadHonoursThePodsOwnZoneRequirement) {
  Input in = Cluster();
  for (int i = 0; i < 4; ++i) {
    Pod p = Labelled("w-" + std::to_string(i), {{"app", "w"}});
    p.requirements.Add(core::Requirement::In(kZone, {"test-zone-1", "test-zone-2"}));
    p.topology_spread = {{.max_skew = 1, .topology_key = std::string(kZone), .selector = Select("app=w")}};
    in.pods.push_back(p);
  }
  Result r = Solve(in);
  std::map<std::string, int> per_zone;
  for (size_t i = 0; i < in.pods.size(); ++i) ++per_zone[ZoneOf(in, r, i)];
  EXPECT_EQ(per_zone, (std::map<std::string, int>{{"test-zone-1", 2}, {"test-zone-2", 2}}));
}

}  // namespace
}  // namespace gpufleet::scheduling

namespace gpufleet::scheduling {
namespace {

// The claim-scan shortcuts (zone partitions, hostname anti-affinity blocking every claim) must
// not change a single decision: compare with the exhaustive scan on random topology-heavy mixes.
TEST(TopologyTest, ScanShortcutsMakeTheSameDecisionsAsTheExhaustiveScan) {
  std::mt19937 rng(7);
  const char* zones[] = {"test-zone-1", "test-zone-2", "test-zone-3"};
  const char* values[] = {"a", "b", "c"};
  for (int round = 0; round < 20; ++round) {
    Input in = Cluster();
    for (int i = 0; i < 150; ++i) {
      Pod p = Labelled("p" + std::to_string(i), {{"v", values[rng() % 3]}}, rng() % 2 ? "500m" : "1500m");
      const std::string v = values[rng() % 3];
      switch (rng() % 6) {
        case 0: p.topology_spread = {{.max_skew = 1, .topology_key = std::string(kZone), .selector = Select(("v=" + v).c_str())}}; break;
        case 1: p.topology_spread = {{.max_skew = 1, .topology_key = std::string(kHost), .selector = Select(("v=" + v).c_str())}}; break;
        case 2: p.labels = {{"aff", v}}; p.affinity = {{.topology_key = std::string(kZone), .selector = Select(("aff=" + v).c_str())}}; break;
        case 3: p.labels = {{"app", "x"}}; p.anti_affinity = {{.topology_key = std::string(kHost), .selector = Select("app=x")}}; break;
        case 4: p.requirements.Add(core::Requirement::In(kZone, {zones[rng() % 3]})); break;
        default: break;
      }
      in.pods.push_back(p);
    }
    Options fast, exhaustive;
    exhaustive.exhaustive_claim_scan = true;
    const Result a = Solve(in, fast);
    const Result b = Solve(in, exhaustive);
    ASSERT_EQ(a.new_claims.size(), b.new_claims.size()) << "round " << round;
    for (size_t i = 0; i < in.pods.size(); ++i) {
      EXPECT_EQ(a.placements[i].kind, b.placements[i].kind) << "round " << round << " pod " << i;
      EXPECT_EQ(a.placements[i].index, b.placements[i].index) << "round " << round << " pod " << i;
    }
    for (size_t c = 0; c < a.new_claims.size(); ++c) {
      EXPECT_EQ(a.new_claims[c].pods, b.new_claims[c].pods);
      EXPECT_EQ(a.new_claims[c].requirements, b.new_claims[c].requirements);
      EXPECT_EQ(a.new_claims[c].instance_types, b.new_claims[c].instance_types);
    }
  }
}

}  // namespace
}  // namespace gpufleet::scheduling

namespace gpufleet::scheduling {
namespace {

WeightedRequirements Prefer(int32_t weight, const char* zone) {
  WeightedRequirements w{.weight = weight};
  w.requirements.Add(core::Requirement::In(kZone, {zone}));
  return w;
}

TEST(PreferencesTest, PreferredNodeAffinityIsHonouredHeaviestFirst) {
  Input in = Cluster();
  Pod p = Labelled("p", {{"app", "p"}});
  p.preferred_node_affinity = {Prefer(1, "test-zone-2"), Prefer(50, "test-zone-3")};
  in.pods.push_back(p);
  Result r = Solve(in);
  EXPECT_EQ(ZoneOf(in, r, 0), "test-zone-3");

  Options ignore;
  ignore.ignore_preferences = true;
  r = Solve(in, ignore);
  ASSERT_EQ(r.placements[0].kind, Kind::kNewNodeClaim);
  EXPECT_FALSE(r.new_claims[0].requirements.Has(kZone)) << "preferences ignored: zone left open";
}

TEST(PreferencesTest, UnsatisfiablePreferencesAreRelaxedNotFatal) {
  Input in = Cluster();
  Pod p = Labelled("p", {{"app", "p"}});
  p.preferred_node_affinity = {Prefer(100, "mars-1"), Prefer(10, "test-zone-2")};
  p.preferred_affinity = {{.weight = 5, .term = {.topology_key = std::string(kZone), .selector = Select("app=nobody")}}};
  in.pods.push_back(p);
  Result r = Solve(in);
  ASSERT_EQ(r.placements[0].kind, Kind::kNewNodeClaim) << r.placements[0].error;
  // Affinity to nobody dropped first, then mars-1; the next preferred term still holds.
  EXPECT_EQ(ZoneOf(in, r, 0), "test-zone-2");
}

TEST(PreferencesTest, ScheduleAnywaySpreadIsEnforcedUntilItCannotBe) {
  Input in = Cluster();
  for (int i = 0; i < 6; ++i) {
    Pod p = Labelled("w-" + std::to_string(i), {{"app", "web"}});
    p.topology_spread = {{.max_skew = 1, .topology_key = std::string(kZone), .selector = Select("app=web"),
                          .schedule_anyway = true}};
    in.pods.push_back(p);
  }
  Result r = Solve(in);
  std::map<std::string, int> per_zone;
  for (size_t i = 0; i < in.pods.size(); ++i) ++per_zone[ZoneOf(in, r, i)];
  EXPECT_EQ(per_zone, (std::map<std::string, int>{{"test-zone-1", 2}, {"test-zone-2", 2}, {"test-zone-3", 2}}));

  // minDomains 3 while the pods may only use test-zone-1: the minimum counts as zero, so a
  // second pod there breaks the skew. ScheduleAnyway gives way; DoNotSchedule does not.
  for (Pod& p : in.pods) {
    p.requirements.Add(core::Requirement::In(kZone, {"test-zone-1"}));
    p.topology_spread[0].min_domains = 3;
  }
  EXPECT_EQ(Placed(Solve(in)), 6);
  for (Pod& p : in.pods) p.topology_spread[0].schedule_anyway = false;
  EXPECT_EQ(PlacedOthersFailingWith(Solve(in), "unsatisfiable topology spread"), 1);
}

TEST(PreferencesTest, PreferredAntiAffinityGivesWayWhenZonesRunOut) {
  // Upstream's preference pods: anti-affinity on zone (weight 10) cannot hold for 4 pods and 3
  // zones, so it is dropped first; the one on hostname (weight 1) holds: a node each.
  Input in = Cluster();
  for (int i = 0; i < 4; ++i) {
    Pod p = Labelled("z-" + std::to_string(i), {{"app", "z"}});
    p.preferred_anti_affinity = {{.weight = 10, .term = {.topology_key = std::string(kZone), .selector = Select("app=z")}},
                                 {.weight = 1, .term = {.topology_key = std::string(kHost), .selector = Select("app=z")}}};
    in.pods.push_back(p);
  }
  Result r = Solve(in);
  EXPECT_EQ(Placed(r), 4);
  EXPECT_EQ(r.new_claims.size(), 4u) << "the hostname preference still holds";
  Options ignore;
  ignore.ignore_preferences = true;
  EXPECT_EQ(Solve(in, ignore).new_claims.size(), 1u) << "ignored: the four 1-cpu pods share a node";
}

TEST(PreferencesTest, PreferredAffinityFollowsARunningPod) {
  Input in = Cluster();
  ExistingNode node{.name = "db-node", .labels = {{std::string(kZone), "test-zone-3"}}};
  node.pods = {{.ns = "default", .labels = {{"app", "db"}}}};
  in.nodes.push_back(node);
  Pod p = Labelled("cache", {{"app", "cache"}});
  p.preferred_affinity = {{.weight = 100, .term = {.topology_key = std::string(kZone), .selector = Select("app=db")}}};
  in.pods.push_back(p);
  Result r = Solve(in);
  EXPECT_EQ(ZoneOf(in, r, 0), "test-zone-3");
}

TEST(PreferencesTest, PreferNoScheduleTaintsAreToleratedOnlyWhenAllowed) {
  Input in = Cluster();
  in.nodepools[0].taints = {{.key = "spot-only", .effect = core::TaintEffect::kPreferNoSchedule}};
  in.pods.push_back(Labelled("p", {}));
  Result r = Solve(in);
  EXPECT_EQ(r.placements[0].kind, Kind::kUnplaced) << "Karpenter's strict first pass";
  Options options;
  options.tolerate_prefer_no_schedule = true;
  r = Solve(in, options);
  EXPECT_EQ(r.placements[0].kind, Kind::kNewNodeClaim) << r.placements[0].error;
}

}  // namespace
}  // namespace gpufleet::scheduling
