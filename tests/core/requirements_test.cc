#include "core/requirements.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;

Requirements Reqs(std::vector<NodeSelectorRequirement> wire) {
  auto r = Requirements::FromNodeSelectorRequirements(wire);
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

// The seed's NodePool: g6e.2xlarge, on-demand or reserved, GPU label.
Requirements SeedNodePool() {
  Requirements r = Reqs({{"node.kubernetes.io/instance-type", Operator::kIn, {"g6e.2xlarge"}, {}},
                         {"karpenter.sh/capacity-type", Operator::kIn, {"on-demand", "reserved"}, {}}});
  r.Add(Requirements::FromLabels({{"nvidia.com/gpu.present", "true"}}));
  return r;
}

TEST(Requirements, AddIntersectsSameKey) {
  Requirements r = Reqs({{"zone", Operator::kIn, {"a", "b", "c"}, {}},
                         {"zone", Operator::kNotIn, {"b"}, {}}});
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(r.Get("zone").values(), (std::vector<std::string>{"a", "c"}));
}

TEST(Requirements, CopiesAreIndependentValues) {
  // Copies share their map until one changes (copy on write): a change must never show
  // through another copy, whichever side changes and however the copy was made.
  Requirements original = SeedNodePool();
  Requirements copy = original;
  copy.Add(Requirement::In("zone", {"us-west-2a"}));
  copy.Add(Requirement::In("karpenter.sh/capacity-type", {"reserved"}));
  EXPECT_FALSE(original.Has("zone"));
  EXPECT_EQ(original.Get("karpenter.sh/capacity-type").values(), (std::vector<std::string>{"on-demand", "reserved"}));
  EXPECT_EQ(copy.Get("karpenter.sh/capacity-type").values(), (std::vector<std::string>{"reserved"}));
  EXPECT_NE(original, copy);

  Requirements empty;
  empty.Add(original);  // shares original's map
  EXPECT_EQ(empty, original);
  original.Add(Requirement::NotIn("nvidia.com/gpu.present", {"true"}));
  EXPECT_TRUE(empty.Get("nvidia.com/gpu.present").Has("true")) << "the earlier sharer kept its value";
  EXPECT_FALSE(original.Get("nvidia.com/gpu.present").Has("true"));

  Requirements same = empty;
  same.Add(empty);  // x with x
  EXPECT_EQ(same, empty);
  same.Add(Requirement::In("nvidia.com/gpu.present", {"true"}));  // already exactly this
  EXPECT_EQ(same, empty);
  EXPECT_EQ(Requirements(), Requirements::FromLabels({}));
}

TEST(Requirements, GetOfUndefinedKeyIsExists) {
  EXPECT_EQ(Requirements().Get("anything").op(), Operator::kExists);
}

TEST(Requirements, SeedPodIsCompatibleWithSeedNodePool) {
  Requirements pod = Requirements::FromLabels({{"nvidia.com/gpu.present", "true"}});
  EXPECT_THAT(SeedNodePool().Compatible(pod), IsOk());
  EXPECT_TRUE(SeedNodePool().IsCompatible(pod));
}

TEST(Requirements, ConflictingValuesAreIncompatible) {
  Requirements pod = Requirements::FromLabels({{"nvidia.com/gpu.present", "false"}});
  EXPECT_THAT(SeedNodePool().Compatible(pod),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("key nvidia.com/gpu.present, nvidia.com/gpu.present In [false] "
                                 "not in nvidia.com/gpu.present In [true]")));
  EXPECT_FALSE(SeedNodePool().IsCompatible(pod));
}

TEST(Requirements, CustomLabelUndefinedOnNodePoolIsDenied) {
  Requirements pod = Requirements::FromLabels({{"team", "ml"}});
  EXPECT_THAT(SeedNodePool().Compatible(pod),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("label \"team\" does not have known values")));
  EXPECT_FALSE(SeedNodePool().IsCompatible(pod));
}

TEST(Requirements, WellKnownUndefinedLabelIsAllowedWhenListed) {
  Requirements pod = Requirements::FromLabels({{"topology.kubernetes.io/zone", "us-west-2a"}});
  std::set<std::string, std::less<>> well_known = {"topology.kubernetes.io/zone"};
  EXPECT_THAT(SeedNodePool().Compatible(pod, well_known), IsOk());
  EXPECT_FALSE(SeedNodePool().IsCompatible(pod));
}

TEST(Requirements, UndefinedKeyWithNotInOrDoesNotExistIsAllowed) {
  EXPECT_THAT(SeedNodePool().Compatible(Reqs({{"team", Operator::kNotIn, {"x"}, {}}})), IsOk());
  EXPECT_THAT(SeedNodePool().Compatible(Reqs({{"team", Operator::kDoesNotExist, {}, {}}})), IsOk());
}

TEST(Requirements, BothAbsenceOperatorsIntersectEvenWhenEmpty) {
  // NotIn [a] ∩ DoesNotExist has no values, but a node without the label satisfies both.
  Requirements node = Reqs({{"k", Operator::kNotIn, {"a"}, {}}});
  EXPECT_THAT(node.Intersects(Reqs({{"k", Operator::kDoesNotExist, {}, {}}})), IsOk());
  Requirements exists = Reqs({{"k", Operator::kExists, {}, {}}});
  EXPECT_THAT(exists.Intersects(Reqs({{"k", Operator::kDoesNotExist, {}, {}}})),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST(Requirements, GpuCountBoundsIntersect) {
  Requirements pool = Reqs({{"karpenter.k8s.aws/instance-gpu-count", Operator::kGte, {"1"}, {}},
                            {"karpenter.k8s.aws/instance-gpu-count", Operator::kLte, {"4"}, {}}});
  EXPECT_TRUE(pool.DoesIntersect(
      Requirements::FromLabels({{"karpenter.k8s.aws/instance-gpu-count", "4"}})));
  EXPECT_FALSE(pool.DoesIntersect(
      Requirements::FromLabels({{"karpenter.k8s.aws/instance-gpu-count", "8"}})));
  EXPECT_FALSE(pool.DoesIntersect(Reqs({{"karpenter.k8s.aws/instance-gpu-count", Operator::kGt, {"4"}, {}}})));
}

TEST(Requirements, CompatibleReportsEveryReason) {
  Requirements pod = Requirements::FromLabels({{"team", "ml"}, {"nvidia.com/gpu.present", "no"}});
  Status s = SeedNodePool().Compatible(pod);
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition, HasSubstr("team")));
  EXPECT_THAT(s, StatusIs(StatusCode::kFailedPrecondition, HasSubstr("nvidia.com/gpu.present")));
}

TEST(Requirements, MatchesLabels) {
  Requirements r = Reqs({{"zone", Operator::kIn, {"a"}, {}},
                         {"spot", Operator::kDoesNotExist, {}, {}},
                         {"gpus", Operator::kGt, {"1"}, {}}});
  EXPECT_TRUE(r.Matches({{"zone", "a"}, {"gpus", "2"}}));
  EXPECT_FALSE(r.Matches({{"zone", "a"}, {"gpus", "2"}, {"spot", "x"}}));
  EXPECT_FALSE(r.Matches({{"zone", "a"}}));  // Gt needs the label
  EXPECT_FALSE(r.Matches({{"zone", "b"}, {"gpus", "2"}}));
}

TEST(Requirements, ToLabelsSkipsRestrictedAndUnsatisfiable) {
  Requirements r = SeedNodePool();
  r.Add(Requirement::DoesNotExist("gone"));
  Labels labels = r.ToLabels([](std::string_view key) { return key == "karpenter.sh/capacity-type"; });
  EXPECT_EQ(labels, (Labels{{"node.kubernetes.io/instance-type", "g6e.2xlarge"},
                            {"nvidia.com/gpu.present", "true"}}));
}

TEST(Requirements, MinValuesIsTracked) {
  EXPECT_FALSE(SeedNodePool().HasMinValues());
  EXPECT_TRUE(Reqs({{"node.kubernetes.io/instance-type", Operator::kExists, {}, 3}}).HasMinValues());
}

TEST(Requirements, ToStringIsSorted) {
  EXPECT_EQ(Reqs({{"b", Operator::kExists, {}, {}}, {"a", Operator::kIn, {"x"}, {}}}).ToString(),
            "a In [x], b Exists");
}

TEST(Requirements, WireRoundTrip) {
  Requirements r = SeedNodePool();
  EXPECT_EQ(Reqs(r.ToNodeSelectorRequirements()), r);
}

}  // namespace
}  // namespace gpufleet::core
