#include "core/json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

TEST(JsonParse, AcceptsOneValueWithSurroundingWhitespace) {
  GF_ASSERT_OK_AND_ASSIGN(json j, ParseJson(" \n{\"a\": [1, 2.5, \"x\", true, null]}\t\n"));
  EXPECT_EQ(j, json::parse(R"({"a":[1,2.5,"x",true,null]})"));
  GF_ASSERT_OK_AND_ASSIGN(json scalar, ParseJson("42"));
  EXPECT_EQ(scalar, 42);
}

TEST(JsonParse, ErrorsNameTheByteOffset) {
  struct Case {
    const char* text;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"[1,2] x", "json: byte 7: "},      // Trailing garbage.
      {"{\"a\": 1,}", "json: byte 9: "},  // Trailing comma.
      {"", "json: byte 1: "},             // Empty input.
      {"{\"a\" 1}", "json: byte 6: "},    // Missing colon.
      {"\"\xff\"", "json: byte 2: "},     // Invalid UTF-8.
      {"[1e400]", "json: byte 1: number out of range: 1e400"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ParseJson(c.text), StatusIs(StatusCode::kInvalidArgument, StartsWith(c.message)))
        << c.text;
  }
  EXPECT_THAT(ParseJson("[1,2] x"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("expected end of input")));
}

TEST(JsonParse, DepthLimit) {
  std::string ok = std::string(kMaxJsonDepth, '[') + std::string(kMaxJsonDepth, ']');
  EXPECT_THAT(ParseJson(ok), IsOk());
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_THAT(ParseJson(deep),
              StatusIs(StatusCode::kOutOfRange, "json: byte 512: nesting deeper than 512 levels"));
  EXPECT_THAT(ParseJson("{\"a\":{\"b\":[1]}}", 2), StatusIs(StatusCode::kOutOfRange));
  // Brackets inside strings do not count.
  EXPECT_THAT(ParseJson("[\"[[[[\\\"[[[\"]", 1), IsOk());
}

TEST(JsonParse, DuplicateKeysLastWins) {
  GF_ASSERT_OK_AND_ASSIGN(json j, ParseJson(R"({"a":1,"a":2})"));
  EXPECT_EQ(j["a"], 2);
}

TEST(JsonDump, CompactSortedAndNeverThrows) {
  json j = json::parse(R"({"b": [1, 2], "a": {"y": null, "x": "s"}})");
  EXPECT_EQ(DumpJson(j), R"({"a":{"x":"s","y":null},"b":[1,2]})");
  EXPECT_EQ(DumpJson(json("bad \xff utf8")), "\"bad \xEF\xBF\xBD utf8\"");
  EXPECT_EQ(DumpJson(json(std::numeric_limits<double>::quiet_NaN())), "null");
  EXPECT_EQ(DumpJson(json(std::numeric_limits<double>::infinity())), "null");
}

TEST(JsonPath, BuildsKubernetesStylePaths) {
  JsonPath root;
  EXPECT_TRUE(root.empty());
  EXPECT_EQ(root.Field("spec").str(), "spec");
  EXPECT_EQ(root.Field("spec").Field("containers").Index(0).Field("resources").str(),
            "spec.containers[0].resources");
  EXPECT_EQ(JsonPath("metadata").Field("labels").Key("app.kubernetes.io/name").str(),
            "metadata.labels[app.kubernetes.io/name]");
  EXPECT_EQ(root.Index(3).str(), "[3]");
  EXPECT_EQ(JsonPath("a.b"), root.Field("a").Field("b"));
}

const json& Pod() {
  static const json pod = json::parse(R"({
    "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web"}},
    "spec": {
      "replicas": 3, "big": 18446744073709551615, "ratio": 1.5, "whole": 2.0, "paused": false,
      "nodeSelector": "oops", "nothing": null,
      "containers": [{"name": "c0", "resources": {"limits": {"cpu": "1"}}}, {"name": "c1"}]
    }})");
  return pod;
}

TEST(JsonFindField, WalksFieldsIndexesAndKeys) {
  GF_ASSERT_OK_AND_ASSIGN(const json* name, FindField(Pod(), "spec.containers[1].name"));
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(*name, "c1");
  GF_ASSERT_OK_AND_ASSIGN(const json* label,
                          FindField(Pod(), "metadata.labels[app.kubernetes.io/name]"));
  ASSERT_NE(label, nullptr);
  EXPECT_EQ(*label, "web");
  GF_ASSERT_OK_AND_ASSIGN(const json* whole, FindField(Pod(), ""));
  EXPECT_EQ(whole, &Pod());
  GF_ASSERT_OK_AND_ASSIGN(const json* cpu, FindField(Pod(),
                                                     "spec.containers[0].resources."
                                                     "limits.cpu"));
  ASSERT_NE(cpu, nullptr);
  EXPECT_EQ(*cpu, "1");
}

TEST(JsonFindField, AbsentIsNullptr) {
  for (const char* path : {"spec.missing", "spec.containers[2]", "spec.containers[5].name",
                           "status.phase", "spec.nothing.deeper"}) {
    GF_ASSERT_OK_AND_ASSIGN(const json* found, FindField(Pod(), path));
    EXPECT_EQ(found, nullptr) << path;
  }
}

TEST(JsonFindField, WrongTypeNamesThePrefix) {
  EXPECT_THAT(
      FindField(Pod(), "spec.nodeSelector.zone"),
      StatusIs(StatusCode::kInvalidArgument, "spec.nodeSelector: expected object, got string"));
  EXPECT_THAT(
      FindField(Pod(), "spec.containers.name"),
      StatusIs(StatusCode::kInvalidArgument, "spec.containers: expected object, got array"));
  EXPECT_THAT(FindField(Pod(), "spec[0]"),
              StatusIs(StatusCode::kInvalidArgument, "spec: expected array, got object"));
  EXPECT_THAT(FindField(json::array(), "a"),
              StatusIs(StatusCode::kInvalidArgument, "<root>: expected object, got array"));
}

TEST(JsonFindField, MalformedPaths) {
  for (const char* path :
       {".a", "a..b", "a.", "a[", "a[]", "a]b", "a[0]b", "a[99999999999999999999]"}) {
    EXPECT_THAT(FindField(Pod(), path),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("invalid field path")))
        << path;
  }
}

TEST(JsonGet, RequiredValues) {
  EXPECT_EQ(*GetString(Pod(), "metadata.name"), "web");
  EXPECT_EQ(*GetInt64(Pod(), "spec.replicas"), 3);
  EXPECT_EQ(*GetBool(Pod(), "spec.paused"), false);
  GF_ASSERT_OK_AND_ASSIGN(const json* containers, GetArray(Pod(), "spec.containers"));
  EXPECT_EQ(containers->size(), 2u);
  GF_ASSERT_OK_AND_ASSIGN(const json* metadata, GetObject(Pod(), "metadata"));
  EXPECT_EQ(metadata, &Pod()["metadata"]);
}

TEST(JsonGet, MissingAndNullAreErrors) {
  EXPECT_THAT(
      GetString(Pod(), "metadata.namespace"),
      StatusIs(StatusCode::kInvalidArgument, "metadata.namespace: required field is missing"));
  EXPECT_THAT(GetInt64(Pod(), "spec.nothing"),
              StatusIs(StatusCode::kInvalidArgument, "spec.nothing: required field is missing"));
  EXPECT_THAT(GetObject(Pod(), "spec.template.metadata"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("required field is missing")));
}

TEST(JsonGet, WrongTypesNameThePath) {
  struct Case {
    Status status;
    const char* message;
  };
  const std::vector<Case> cases = {
      {GetObject(Pod(), "spec.nodeSelector").status(),
       "spec.nodeSelector: expected object, got string"},
      {GetString(Pod(), "spec.replicas").status(), "spec.replicas: expected string, got number"},
      {GetBool(Pod(), "metadata.name").status(), "metadata.name: expected boolean, got string"},
      {GetArray(Pod(), "metadata").status(), "metadata: expected array, got object"},
      {GetInt64(Pod(), "spec.ratio").status(), "spec.ratio: expected integer, got number 1.5"},
      {GetInt64(Pod(), "spec.whole").status(), "spec.whole: expected integer, got number 2.0"},
      {GetOptionalString(Pod(), "spec.paused").status(),
       "spec.paused: expected string, got boolean"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(c.status, StatusIs(StatusCode::kInvalidArgument, c.message));
  }
  EXPECT_THAT(
      GetInt64(Pod(), "spec.big"),
      StatusIs(StatusCode::kOutOfRange, "spec.big: 18446744073709551615 does not fit in int64"));
}

TEST(JsonGet, Int64AcceptsBothIntegerRepresentations) {
  json j = {{"neg", -5}, {"pos", 7u}, {"max", std::numeric_limits<int64_t>::max()}};
  EXPECT_EQ(*GetInt64(j, "neg"), -5);
  EXPECT_EQ(*GetInt64(j, "pos"), 7);
  EXPECT_EQ(*GetInt64(j, "max"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(*GetInt64(json::parse("[42]"), "[0]"), 42);
}

TEST(JsonGet, OptionalValues) {
  EXPECT_EQ(*GetOptionalString(Pod(), "metadata.name"), "web");
  EXPECT_EQ(*GetOptionalString(Pod(), "metadata.namespace"), std::nullopt);
  EXPECT_EQ(*GetOptionalInt64(Pod(), "spec.nothing"), std::nullopt);
  EXPECT_EQ(*GetOptionalInt64(Pod(), "spec.replicas"), 3);
  EXPECT_EQ(*GetOptionalBool(Pod(), "spec.paused"), false);
  EXPECT_EQ(*GetOptionalBool(Pod(), "status.ready"), std::nullopt);
  EXPECT_EQ(*GetOptionalObject(Pod(), "spec.affinity"), nullptr);
  EXPECT_EQ(*GetOptionalArray(Pod(), "spec.nothing"), nullptr);
  GF_ASSERT_OK_AND_ASSIGN(const json* limits,
                          GetOptionalObject(Pod(), "spec.containers[0].resources.limits"));
  ASSERT_NE(limits, nullptr);
  EXPECT_EQ(limits->at("cpu"), "1");
  EXPECT_THAT(
      GetOptionalArray(Pod(), "spec.nodeSelector"),
      StatusIs(StatusCode::kInvalidArgument, "spec.nodeSelector: expected array, got string"));
}

TEST(JsonGet, PathsFromJsonPath) {
  JsonPath path = JsonPath().Field("spec").Field("containers").Index(0).Field("name");
  EXPECT_EQ(*GetString(Pod(), path.str()), "c0");
}

}  // namespace
}  // namespace gpufleet::core
