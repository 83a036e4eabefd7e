#include "core/requirement.h"

#include <gtest/gtest.h>

#include <limits>

#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::StatusIs;

Requirement Make(Operator op, std::vector<std::string> values = {}) {
  auto r = Requirement::Create({"key", op, std::move(values), std::nullopt});
  EXPECT_TRUE(r.ok()) << r.status();
  return *r;
}

TEST(Requirement, OperatorsMapToSetsAndBounds) {
  EXPECT_EQ(Make(Operator::kIn, {"a"}).op(), Operator::kIn);
  EXPECT_EQ(Make(Operator::kNotIn, {"a"}).op(), Operator::kNotIn);
  EXPECT_EQ(Make(Operator::kExists).op(), Operator::kExists);
  EXPECT_EQ(Make(Operator::kDoesNotExist).op(), Operator::kDoesNotExist);
  // Bounded sets are "Exists with bounds", as in Karpenter.
  EXPECT_EQ(Make(Operator::kGt, {"1"}).op(), Operator::kExists);
  EXPECT_EQ(Make(Operator::kGt, {"1"}).greater_than(), 1);
  EXPECT_EQ(Make(Operator::kLt, {"9"}).less_than(), 9);
}

TEST(Requirement, GteAndLteAreInclusiveBounds) {
  Requirement gte = Make(Operator::kGte, {"4"});
  EXPECT_EQ(gte.greater_than(), 3);
  EXPECT_TRUE(gte.Has("4"));
  EXPECT_FALSE(gte.Has("3"));
  Requirement lte = Make(Operator::kLte, {"8"});
  EXPECT_EQ(lte.less_than(), 9);
  EXPECT_TRUE(lte.Has("8"));
  EXPECT_FALSE(lte.Has("9"));
}

TEST(Requirement, BoundsAtInt64EdgesSaturate) {
  EXPECT_EQ(Make(Operator::kLte, {"9223372036854775807"}).less_than(),
            std::numeric_limits<int64_t>::max());
  EXPECT_EQ(Make(Operator::kGte, {"-9223372036854775808"}).greater_than(),
            std::numeric_limits<int64_t>::min());
}

TEST(Requirement, CreateRejectsBadBounds) {
  EXPECT_THAT(Requirement::Create({"k", Operator::kGt, {"x"}, std::nullopt}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(Requirement::Create({"k", Operator::kLt, {}, std::nullopt}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(Requirement, KeyIsNormalized) {
  EXPECT_EQ(Requirement::In("failure-domain.beta.kubernetes.io/zone", {"a"}).key(),
            "topology.kubernetes.io/zone");
}

TEST(Requirement, HasFollowsComplementAndBounds) {
  EXPECT_TRUE(Make(Operator::kIn, {"a", "b"}).Has("a"));
  EXPECT_FALSE(Make(Operator::kIn, {"a"}).Has("c"));
  EXPECT_FALSE(Make(Operator::kNotIn, {"a"}).Has("a"));
  EXPECT_TRUE(Make(Operator::kNotIn, {"a"}).Has("c"));
  EXPECT_TRUE(Make(Operator::kExists).Has("anything"));
  EXPECT_FALSE(Make(Operator::kDoesNotExist).Has("anything"));
  EXPECT_TRUE(Make(Operator::kGt, {"2"}).Has("3"));
  EXPECT_FALSE(Make(Operator::kGt, {"2"}).Has("2"));
  EXPECT_FALSE(Make(Operator::kGt, {"2"}).Has("three"));  // bounds admit integers only
}

TEST(Requirement, LenCountsComplementFromInt64Max) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(Make(Operator::kIn, {"a", "b", "a"}).Len(), 2);
  EXPECT_EQ(Make(Operator::kNotIn, {"a"}).Len(), kMax - 1);
  EXPECT_EQ(Make(Operator::kExists).Len(), kMax);
  EXPECT_EQ(Make(Operator::kDoesNotExist).Len(), 0);
}

// The intersection table: each operator against each, as Karpenter defines it.
TEST(Requirement, IntersectionTable) {
  struct Case {
    Requirement a, b;
    Operator want_op;
    std::vector<std::string> want_values;
  } cases[] = {
      {Make(Operator::kIn, {"a", "b"}), Make(Operator::kIn, {"b", "c"}), Operator::kIn, {"b"}},
      {Make(Operator::kIn, {"a"}), Make(Operator::kIn, {"c"}), Operator::kDoesNotExist, {}},
      {Make(Operator::kIn, {"a", "b"}), Make(Operator::kNotIn, {"a"}), Operator::kIn, {"b"}},
      {Make(Operator::kNotIn, {"a"}), Make(Operator::kIn, {"a", "b"}), Operator::kIn, {"b"}},
      {Make(Operator::kNotIn, {"a"}), Make(Operator::kNotIn, {"b"}), Operator::kNotIn, {"a", "b"}},
      {Make(Operator::kExists), Make(Operator::kIn, {"a"}), Operator::kIn, {"a"}},
      {Make(Operator::kExists), Make(Operator::kNotIn, {"a"}), Operator::kNotIn, {"a"}},
      {Make(Operator::kExists), Make(Operator::kExists), Operator::kExists, {}},
      {Make(Operator::kExists), Make(Operator::kDoesNotExist), Operator::kDoesNotExist, {}},
      {Make(Operator::kDoesNotExist), Make(Operator::kNotIn, {"a"}), Operator::kDoesNotExist, {}},
      {Make(Operator::kDoesNotExist), Make(Operator::kIn, {"a"}), Operator::kDoesNotExist, {}},
      {Make(Operator::kIn, {"1", "5", "9"}), Make(Operator::kGt, {"4"}), Operator::kIn, {"5", "9"}},
      {Make(Operator::kIn, {"1", "x"}), Make(Operator::kLt, {"4"}), Operator::kIn, {"1"}},
      {Make(Operator::kGt, {"4"}), Make(Operator::kLt, {"4"}), Operator::kDoesNotExist, {}},
      {Make(Operator::kGt, {"4"}), Make(Operator::kLt, {"6"}), Operator::kExists, {}},
      {Make(Operator::kGt, {"1"}), Make(Operator::kNotIn, {"3"}), Operator::kNotIn, {"3"}},
      {Make(Operator::kGte, {"2"}), Make(Operator::kLte, {"2"}), Operator::kExists, {}},
  };
  for (const auto& c : cases) {
    Requirement got = c.a.Intersection(c.b);
    EXPECT_EQ(got.op(), c.want_op) << c.a.ToString() << " ∩ " << c.b.ToString() << " = "
                                   << got.ToString();
    EXPECT_EQ(got.values(), c.want_values) << c.a.ToString() << " ∩ " << c.b.ToString();
  }
}

// Divergence from Karpenter, which only checks gt >= lt: integer ranges are exact.
TEST(Requirement, IntegerRangeWithNoIntegerInsideIsEmpty) {
  EXPECT_EQ(Make(Operator::kGt, {"4"}).Intersection(Make(Operator::kLt, {"5"})).op(),
            Operator::kDoesNotExist);
  EXPECT_EQ(Make(Operator::kGte, {"5"}).Intersection(Make(Operator::kLte, {"4"})).op(),
            Operator::kDoesNotExist);
  Requirement only_five = Make(Operator::kGte, {"5"}).Intersection(Make(Operator::kLte, {"5"}));
  EXPECT_EQ(only_five.op(), Operator::kExists);
  EXPECT_EQ(only_five.Any(), "5");
  EXPECT_EQ(only_five.Intersection(Make(Operator::kNotIn, {"5"})).op(), Operator::kDoesNotExist);
}

TEST(Requirement, IntersectionKeepsTightestBoundsOnComplements) {
  Requirement r = Make(Operator::kGt, {"1"}).Intersection(Make(Operator::kGt, {"3"}));
  EXPECT_EQ(r.greater_than(), 3);
  r = r.Intersection(Make(Operator::kLt, {"10"})).Intersection(Make(Operator::kLt, {"7"}));
  EXPECT_EQ(r.less_than(), 7);
  EXPECT_TRUE(r.Has("4"));
  EXPECT_FALSE(r.Has("7"));
}

TEST(Requirement, IntersectionDropsBoundsOnConcreteSets) {
  Requirement r = Make(Operator::kIn, {"5"}).Intersection(Make(Operator::kGt, {"1"}));
  EXPECT_FALSE(r.greater_than().has_value());
  EXPECT_EQ(r.values(), std::vector<std::string>{"5"});
}

TEST(Requirement, IntersectionTakesLargerMinValues) {
  Requirement a = Make(Operator::kIn, {"a", "b", "c"});
  a.set_min_values(2);
  Requirement b = Make(Operator::kExists);
  b.set_min_values(3);
  EXPECT_EQ(a.Intersection(b).min_values(), 3);
  EXPECT_EQ(b.Intersection(Make(Operator::kExists)).min_values(), 3);
  // Even an empty intersection keeps minValues, so a caller can report it.
  Requirement empty = Make(Operator::kGt, {"5"}).Intersection(b.Intersection(Make(Operator::kLt, {"2"})));
  EXPECT_EQ(empty.op(), Operator::kDoesNotExist);
  EXPECT_EQ(empty.min_values(), 3);
}

TEST(Requirement, AnyIsDeterministic) {
  EXPECT_EQ(Make(Operator::kIn, {"z", "b"}).Any(), "b");
  EXPECT_EQ(Make(Operator::kDoesNotExist).Any(), std::nullopt);
  EXPECT_EQ(Make(Operator::kExists).Any(), "0");
  EXPECT_EQ(Make(Operator::kNotIn, {"0", "1"}).Any(), "2");
  EXPECT_EQ(Make(Operator::kGt, {"7"}).Any(), "8");
  EXPECT_EQ(Make(Operator::kGt, {"7"}).Intersection(Make(Operator::kLt, {"9"})).Any(), "8");
}

// Found by fuzzing: Gt INT64_MAX must not overflow when looking for an example value.
TEST(Requirement, AnyOfGreaterThanInt64MaxIsNone) {
  EXPECT_EQ(Make(Operator::kGt, {"9223372036854775807"}).Any(), std::nullopt);
  EXPECT_EQ(Make(Operator::kGt, {"9223372036854775807"})
                .Intersection(Make(Operator::kLte, {"-9223372036854775808"}))
                .op(),
            Operator::kDoesNotExist);
}

TEST(Requirement, ToNodeSelectorRequirementsIsLossless) {
  EXPECT_EQ(Make(Operator::kIn, {"b", "a"}).ToNodeSelectorRequirements(),
            (std::vector<NodeSelectorRequirement>{{"key", Operator::kIn, {"a", "b"}, {}}}));
  Requirement bounded = Make(Operator::kNotIn, {"5"})
                            .Intersection(Make(Operator::kGt, {"1"}))
                            .Intersection(Make(Operator::kLt, {"9"}));
  auto wire = bounded.ToNodeSelectorRequirements();
  ASSERT_EQ(wire.size(), 3u);
  EXPECT_EQ(wire[0].op, Operator::kNotIn);
  EXPECT_EQ(wire[1].op, Operator::kGt);
  EXPECT_EQ(wire[2].op, Operator::kLt);
  // Rebuilding from the wire form gives back the same set.
  Requirement rebuilt = Make(Operator::kExists);
  for (const auto& w : wire) rebuilt = rebuilt.Intersection(*Requirement::Create(w));
  EXPECT_EQ(rebuilt, bounded);
}

TEST(Requirement, ToStringTruncatesLongValueLists) {
  EXPECT_EQ(Make(Operator::kIn, {"1", "2", "3", "4", "5", "6", "7"}).ToString(),
            "key In [1 2 3 4 5 and 2 others]");
  EXPECT_EQ(Make(Operator::kGt, {"3"}).ToString(), "key Exists >3");
}

}  // namespace
}  // namespace gpufleet::core
