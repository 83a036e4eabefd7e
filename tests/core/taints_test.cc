#include "core/taints.h"

#include <gtest/gtest.h>

#include <vector>

#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;
using json = nlohmann::json;

const Taint kGpu{"nvidia.com/gpu", "", TaintEffect::kNoSchedule, {}};
const Taint kDedicated{"dedicated", "ml", TaintEffect::kNoExecute, {}};
const Taint kPrefer{"spot", "true", TaintEffect::kPreferNoSchedule, {}};

Toleration Tol(std::string key, TolerationOperator op, std::string value,
               std::optional<TaintEffect> effect) {
  return {std::move(key), op, std::move(value), effect, {}};
}

TEST(Toleration, RulesOfToleratesTaint) {
  using O = TolerationOperator;
  struct Case {
    Toleration tol;
    Taint taint;
    bool want;
    const char* why;
  } cases[] = {
      {Tol("", O::kExists, "", {}), kDedicated, true, "empty key + Exists tolerates everything"},
      {Tol("", O::kExists, "", TaintEffect::kNoSchedule), kDedicated, false, "but the effect must match"},
      {Tol("nvidia.com/gpu", O::kExists, "", TaintEffect::kNoSchedule), kGpu, true, "the seed's toleration"},
      {Tol("nvidia.com/gpu", O::kExists, "", {}), kGpu, true, "empty effect matches every effect"},
      {Tol("nvidia.com/gpu", O::kEqual, "", {}), kGpu, true, "Equal with both values empty"},
      {Tol("dedicated", O::kEqual, "ml", TaintEffect::kNoExecute), kDedicated, true, "Equal same value"},
      {Tol("dedicated", O::kEqual, "web", {}), kDedicated, false, "Equal different value"},
      {Tol("dedicated", O::kExists, "", {}), kDedicated, true, "Exists ignores the value"},
      {Tol("other", O::kExists, "", {}), kDedicated, false, "key must match"},
      {Tol("dedicated", O::kEqual, "ml", TaintEffect::kNoSchedule), kDedicated, false, "effect must match"},
  };
  for (const auto& c : cases) EXPECT_EQ(c.tol.Tolerates(c.taint), c.want) << c.why;
}

TEST(Taints, KubernetesFilterIgnoresPreferNoSchedule) {
  std::vector<Taint> taints = {kPrefer, kGpu};
  std::vector<Toleration> none;
  EXPECT_EQ(FindUntoleratedTaint(taints, none), kGpu);
  std::vector<Toleration> gpu = {Tol("nvidia.com/gpu", TolerationOperator::kExists, "", {})};
  EXPECT_EQ(FindUntoleratedTaint(taints, gpu), std::nullopt);
}

TEST(Taints, KarpenterStrictPassRequiresPreferNoScheduleToo) {
  std::vector<Taint> taints = {kPrefer, kGpu};
  std::vector<Toleration> gpu = {Tol("nvidia.com/gpu", TolerationOperator::kExists, "", {})};
  EXPECT_THAT(ToleratesAll(taints, gpu),
              StatusIs(StatusCode::kFailedPrecondition, "did not tolerate taint spot=true:PreferNoSchedule"));
  EXPECT_THAT(ToleratesAll(taints, gpu, /*allow_prefer_no_schedule=*/true), IsOk());
}

TEST(Taint, TextForm) {
  EXPECT_EQ(kGpu.ToString(), "nvidia.com/gpu:NoSchedule");
  EXPECT_EQ(kDedicated.ToString(), "dedicated=ml:NoExecute");
  GF_ASSERT_OK_AND_ASSIGN(Taint t, ParseTaint("nvidia.com/gpu:NoSchedule"));
  EXPECT_EQ(t, kGpu);
  GF_ASSERT_OK_AND_ASSIGN(t, ParseTaint("dedicated=ml:NoExecute"));
  EXPECT_EQ(t, kDedicated);
  GF_ASSERT_OK_AND_ASSIGN(t, ParseTaint("k=:PreferNoSchedule"));
  EXPECT_EQ(t.value, "");
  for (auto bad : {"nvidia.com/gpu", "k=v:Never", ":NoSchedule", "a b:NoSchedule", "k=v/x:NoExecute"}) {
    EXPECT_THAT(ParseTaint(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr(bad))) << bad;
  }
}

TEST(Taint, JsonRoundTripAndErrors) {
  json j = json::parse(R"({"key":"nvidia.com/gpu","effect":"NoSchedule"})");
  GF_ASSERT_OK_AND_ASSIGN(Taint t, TaintFromJson(j, "spec.taints[0]"));
  EXPECT_EQ(t, kGpu);
  EXPECT_EQ(ToJson(t), j);
  EXPECT_THAT(TaintFromJson(json::parse(R"({"key":"a"})"), "spec.taints[0]"),
              StatusIs(StatusCode::kInvalidArgument, "spec.taints[0].effect: Required value"));
  EXPECT_THAT(TaintFromJson(json::parse(R"({"key":"a","effect":"Sometimes"})"), "t"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("t.effect: unsupported taint effect")));
  EXPECT_THAT(TaintsFromJson(json::parse(R"([{"key":"a","effect":"NoSchedule"},{"key":2}])"), "spec.taints"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("spec.taints[1].key")));
}

TEST(Toleration, JsonDecodesSeedToleration) {
  json j = json::parse(R"({"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"})");
  GF_ASSERT_OK_AND_ASSIGN(Toleration t, TolerationFromJson(j, "spec.tolerations[0]"));
  EXPECT_EQ(t, Tol("nvidia.com/gpu", TolerationOperator::kExists, "", TaintEffect::kNoSchedule));
  EXPECT_EQ(ToJson(t), j);
  EXPECT_TRUE(t.Tolerates(kGpu));
  GF_ASSERT_OK_AND_ASSIGN(t, TolerationFromJson(json::parse(R"({"key":"a","value":"b"})"), "x"));
  EXPECT_EQ(t.op, TolerationOperator::kEqual);  // empty operator means Equal
  EXPECT_THAT(TolerationFromJson(json::parse(R"({"operator":"Like"})"), "x"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("x.operator: Unsupported value \"Like\"")));
}

TEST(Toleration, Validation) {
  using O = TolerationOperator;
  EXPECT_THAT(ValidateToleration(Tol("", O::kExists, "", {}), "t"), IsOk());
  EXPECT_THAT(ValidateToleration(Tol("", O::kEqual, "", {}), "t"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("operator must be Exists when `key` is empty")));
  EXPECT_THAT(ValidateToleration(Tol("k", O::kExists, "v", {}), "t"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("value must be empty")));
  EXPECT_THAT(ValidateToleration(Tol("k", O::kEqual, "a b", {}), "t"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("t.value")));
  Toleration seconds = Tol("k", O::kExists, "", TaintEffect::kNoSchedule);
  seconds.toleration_seconds = 30;
  EXPECT_THAT(ValidateToleration(seconds, "t"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("effect must be 'NoExecute'")));
  seconds.effect = TaintEffect::kNoExecute;
  EXPECT_THAT(ValidateToleration(seconds, "t"), IsOk());
}

TEST(Taint, IdentityIsKeyAndEffect) {
  Taint other_value = kDedicated;
  other_value.value = "web";
  EXPECT_TRUE(kDedicated.MatchesIdentity(other_value));
  Taint other_effect = kDedicated;
  other_effect.effect = TaintEffect::kNoSchedule;
  EXPECT_FALSE(kDedicated.MatchesIdentity(other_effect));
}

TEST(Taint, KnownEphemeralTaints) {
  EXPECT_TRUE(IsKnownEphemeralTaint({"node.kubernetes.io/not-ready", "", TaintEffect::kNoSchedule, {}}));
  EXPECT_TRUE(IsKnownEphemeralTaint({"karpenter.sh/unregistered", "", TaintEffect::kNoExecute, {}}));
  EXPECT_TRUE(IsKnownEphemeralTaint(
      {"node.cloudprovider.kubernetes.io/uninitialized", "true", TaintEffect::kNoSchedule, {}}));
  EXPECT_FALSE(IsKnownEphemeralTaint(kGpu));
}

}  // namespace
}  // namespace gpufleet::core
