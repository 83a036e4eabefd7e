#include "core/node_selector_requirement.h"

#include <gtest/gtest.h>

#include <limits>

#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;
using json = nlohmann::json;

TEST(Operator, RoundTripsEveryName) {
  for (auto name : {"In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt", "Gte", "Lte"}) {
    GF_ASSERT_OK_AND_ASSIGN(Operator op, ParseOperator(name));
    EXPECT_EQ(OperatorName(op), name);
  }
}

TEST(Operator, IsCaseSensitive) {
  EXPECT_THAT(ParseOperator("in"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("\"in\"")));
  EXPECT_THAT(ParseOperator(""), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseInt64, FollowsGoStrconv) {
  EXPECT_EQ(ParseInt64("42"), 42);
  EXPECT_EQ(ParseInt64("+7"), 7);
  EXPECT_EQ(ParseInt64("-7"), -7);
  EXPECT_EQ(ParseInt64("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseInt64("-9223372036854775808"), std::numeric_limits<int64_t>::min());
  for (auto bad : {"", "+", "-", "9223372036854775808", "1.0", " 1", "1 ", "0x10", "+-1", "1e3"}) {
    EXPECT_FALSE(ParseInt64(bad).has_value()) << bad;
  }
}

TEST(NodeSelectorRequirementJson, DecodesAllFields) {
  json j = json::parse(R"({"key":"node.kubernetes.io/instance-type","operator":"In",
                           "values":["g6e.2xlarge","g6e.4xlarge"],"minValues":2})");
  GF_ASSERT_OK_AND_ASSIGN(auto r, ParseNodeSelectorRequirement(j, "req"));
  EXPECT_EQ(r.key, "node.kubernetes.io/instance-type");
  EXPECT_EQ(r.op, Operator::kIn);
  EXPECT_EQ(r.values.size(), 2u);
  EXPECT_EQ(r.min_values, 2);
  EXPECT_EQ(ToJson(r), j);
}

TEST(NodeSelectorRequirementJson, ErrorsNameThePath) {
  struct Case {
    const char* json;
    const char* want;
  } cases[] = {
      {R"("x")", "reqs[0]: expected an object"},
      {R"({"key":"a","operator":"Maybe"})", "reqs[0].operator: unsupported operator \"Maybe\""},
      {R"({"key":"a","operator":"In","values":[1]})", "reqs[0].values[0]: expected a string"},
      {R"({"key":"a","operator":"In","values":"x"})", "reqs[0].values: expected a list"},
      {R"({"key":1,"operator":"In"})", "reqs[0].key: expected a string"},
      {R"({"key":"a","operator":"In","value":["x"]})", "unknown field \"value\""},
      {R"({"key":"a"})", "reqs[0].operator: Required value"},
      {R"({"key":"a","operator":"In","values":["x"],"minValues":"2"})", "minValues: expected an integer"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(ParseNodeSelectorRequirement(json::parse(c.json), "reqs[0]"),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.want)))
        << c.json;
  }
}

NodeSelectorRequirement Req(std::string key, Operator op, std::vector<std::string> values,
                            std::optional<int> min_values = std::nullopt) {
  return {std::move(key), op, std::move(values), min_values};
}

TEST(ValidateNodeSelectorRequirement, KubernetesRules) {
  auto k8s = RequirementDialect::kKubernetes;
  EXPECT_THAT(ValidateNodeSelectorRequirement(Req("a", Operator::kIn, {"x"}), k8s, "r"), IsOk());
  EXPECT_THAT(ValidateNodeSelectorRequirement(Req("a", Operator::kGt, {"-5"}), k8s, "r"), IsOk());
  struct Case {
    NodeSelectorRequirement r;
    const char* want;
  } cases[] = {
      {Req("a", Operator::kIn, {}), "r.values: must be specified when operator is In"},
      {Req("a", Operator::kNotIn, {}), "must be specified when operator is NotIn"},
      {Req("a", Operator::kExists, {"x"}), "may not be specified when operator is Exists"},
      {Req("a", Operator::kDoesNotExist, {"x"}), "may not be specified"},
      {Req("a", Operator::kGt, {"1", "2"}), "exactly one value"},
      {Req("a", Operator::kLt, {"x"}), "\"x\" must be an integer"},
      {Req("a", Operator::kGte, {"1"}), "Unsupported value \"Gte\""},
      {Req("bad key", Operator::kExists, {}), "r.key: invalid label key"},
      {Req("a", Operator::kIn, {"x"}, 1), "minValues: not a Kubernetes field"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(ValidateNodeSelectorRequirement(c.r, k8s, "r"),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.want)))
        << c.want;
  }
}

TEST(ValidateNodeSelectorRequirement, KarpenterRules) {
  auto kp = RequirementDialect::kKarpenter;
  EXPECT_THAT(ValidateNodeSelectorRequirement(Req("a", Operator::kGte, {"4"}), kp, "r"), IsOk());
  EXPECT_THAT(ValidateNodeSelectorRequirement(Req("a", Operator::kIn, {"x", "y"}, 2), kp, "r"),
              IsOk());
  EXPECT_THAT(ValidateNodeSelectorRequirement(Req("a", Operator::kExists, {}, 3), kp, "r"), IsOk());
  struct Case {
    NodeSelectorRequirement r;
    const char* want;
  } cases[] = {
      {Req("a", Operator::kGt, {"-1"}), "non-negative integer"},
      {Req("a", Operator::kLte, {"1.5"}), "must be an integer"},
      {Req("a", Operator::kIn, {"x"}, 2), "minValues: 2 is more than the 1 values"},
      {Req("a", Operator::kIn, {"x"}, 0), "between 1 and 50"},
      {Req("a", Operator::kExists, {}, 51), "between 1 and 50"},
  };
  for (const auto& c : cases) {
    EXPECT_THAT(ValidateNodeSelectorRequirement(c.r, kp, "r"),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.want)))
        << c.want;
  }
}

TEST(MatchesNodeSelectorRequirement, KubernetesSemantics) {
  Labels node = {{"gpu-count", "4"}, {"zone", "us-west-2a"}, {"name", "abc"}};
  struct Case {
    NodeSelectorRequirement r;
    bool want;
  } cases[] = {
      {Req("zone", Operator::kIn, {"us-west-2a", "us-west-2b"}), true},
      {Req("zone", Operator::kIn, {"us-west-2b"}), false},
      {Req("missing", Operator::kIn, {"x"}), false},
      {Req("zone", Operator::kNotIn, {"us-west-2b"}), true},
      {Req("zone", Operator::kNotIn, {"us-west-2a"}), false},
      {Req("missing", Operator::kNotIn, {"x"}), true},  // absent label satisfies NotIn
      {Req("zone", Operator::kExists, {}), true},
      {Req("missing", Operator::kExists, {}), false},
      {Req("missing", Operator::kDoesNotExist, {}), true},
      {Req("zone", Operator::kDoesNotExist, {}), false},
      {Req("gpu-count", Operator::kGt, {"3"}), true},
      {Req("gpu-count", Operator::kGt, {"4"}), false},  // strict
      {Req("gpu-count", Operator::kLt, {"5"}), true},
      {Req("gpu-count", Operator::kLt, {"4"}), false},
      {Req("gpu-count", Operator::kGte, {"4"}), true},
      {Req("gpu-count", Operator::kLte, {"3"}), false},
      {Req("missing", Operator::kGt, {"0"}), false},  // Gt needs the label
      {Req("name", Operator::kGt, {"0"}), false},     // non-integer label never matches
      {Req("gpu-count", Operator::kGt, {"x"}), false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Matches(c.r, node), c.want) << c.r.key << " " << OperatorName(c.r.op);
  }
}

}  // namespace
}  // namespace gpufleet::core
