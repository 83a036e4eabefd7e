#include "core/node_selector.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;
using json = nlohmann::json;

NodeSelector Parse(const char* text) {
  auto s = ParseNodeSelector(json::parse(text), "affinity");
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

TEST(NodeSelector, TermsAreOredExpressionsAnded) {
  NodeSelector s = Parse(R"({"nodeSelectorTerms":[
      {"matchExpressions":[{"key":"zone","operator":"In","values":["a"]},
                           {"key":"gpu","operator":"Exists"}]},
      {"matchExpressions":[{"key":"zone","operator":"In","values":["b"]}]}]})");
  EXPECT_TRUE(Matches(s, {{"zone", "a"}, {"gpu", "1"}}, "n1"));
  EXPECT_FALSE(Matches(s, {{"zone", "a"}}, "n1"));  // second expression of term 1 fails
  EXPECT_TRUE(Matches(s, {{"zone", "b"}}, "n1"));   // term 2
  EXPECT_FALSE(Matches(s, {{"zone", "c"}, {"gpu", "1"}}, "n1"));
}

TEST(NodeSelector, EmptyTermMatchesNothing) {
  NodeSelector s = Parse(R"({"nodeSelectorTerms":[{}]})");
  EXPECT_FALSE(Matches(s, {{"zone", "a"}}, "n1"));
}

TEST(NodeSelector, NoTermsMatchesNothing) {
  EXPECT_FALSE(Matches(NodeSelector{}, {{"zone", "a"}}, "n1"));
}

TEST(NodeSelector, MatchFieldsOnMetadataName) {
  NodeSelector s = Parse(R"({"nodeSelectorTerms":[
      {"matchFields":[{"key":"metadata.name","operator":"In","values":["node-1"]}]}]})");
  EXPECT_TRUE(Matches(s, {}, "node-1"));
  EXPECT_FALSE(Matches(s, {}, "node-2"));
  NodeSelector not_in = Parse(R"({"nodeSelectorTerms":[
      {"matchFields":[{"key":"metadata.name","operator":"NotIn","values":["node-1"]}]}]})");
  EXPECT_TRUE(Matches(not_in, {}, "node-2"));
}

TEST(NodeSelector, Validation) {
  EXPECT_THAT(ValidateNodeSelector(NodeSelector{}, "spec.affinity"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("must have at least one")));
  NodeSelector bad_field = Parse(R"({"nodeSelectorTerms":[
      {"matchFields":[{"key":"spec.nodeName","operator":"In","values":["x"]}]}]})");
  EXPECT_THAT(ValidateNodeSelector(bad_field, "s"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("s.nodeSelectorTerms[0].matchFields[0].key: Unsupported value")));
  NodeSelector two_values = Parse(R"({"nodeSelectorTerms":[
      {"matchFields":[{"key":"metadata.name","operator":"In","values":["x","y"]}]}]})");
  EXPECT_THAT(ValidateNodeSelector(two_values, "s"), StatusIs(StatusCode::kInvalidArgument));
  NodeSelector bad_expr = Parse(R"({"nodeSelectorTerms":[
      {"matchExpressions":[{"key":"a","operator":"In"}]}]})");
  EXPECT_THAT(ValidateNodeSelector(bad_expr, "s"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("s.nodeSelectorTerms[0].matchExpressions[0].values")));
  EXPECT_THAT(ValidateNodeSelector(Parse(R"({"nodeSelectorTerms":[
      {"matchExpressions":[{"key":"a","operator":"Exists"}]}]})"), "s"), IsOk());
}

TEST(NodeSelector, DecodeErrorsNamePath) {
  EXPECT_THAT(ParseNodeSelector(json::parse(R"({"nodeSelectorTerms":[{"matchExpressions":[{"key":"a","operator":"Near"}]}]})"), "spec"),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("spec.nodeSelectorTerms[0].matchExpressions[0].operator")));
  EXPECT_THAT(ParseNodeSelector(json::parse(R"({"terms":[]})"), "spec"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown field \"terms\"")));
}

TEST(NodeSelector, JsonRoundTrip) {
  json j = json::parse(R"({"nodeSelectorTerms":[{"matchExpressions":[
      {"key":"zone","operator":"In","values":["a","b"]}],
      "matchFields":[{"key":"metadata.name","operator":"In","values":["n"]}]}]})");
  EXPECT_EQ(ToJson(Parse(j.dump().c_str())), j);
}

}  // namespace
}  // namespace gpufleet::core
