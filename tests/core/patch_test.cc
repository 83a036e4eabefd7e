// JSON merge patch (RFC 7386) and JSON patch (RFC 6902): the RFCs' appendix examples plus the
// evanphx/json-patch v4 behaviour the Kubernetes API server has.
#include "core/patch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;
using json = nlohmann::json;

json J(std::string_view text) {
  Result<json> r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status();
  return r.ok() ? *r : json();
}

struct PatchCase {
  const char* name;
  const char* original;
  const char* patch;
  const char* want;
};

// ---- Merge patch --------------------------------------------------------------------------

TEST(MergePatch, Rfc7386AppendixA) {
  const PatchCase cases[] = {
      {"replace member", R"({"a":"b"})", R"({"a":"c"})", R"({"a":"c"})"},
      {"add member", R"({"a":"b"})", R"({"b":"c"})", R"({"a":"b","b":"c"})"},
      {"delete member", R"({"a":"b"})", R"({"a":null})", R"({})"},
      {"delete one of two", R"({"a":"b","b":"c"})", R"({"a":null})", R"({"b":"c"})"},
      {"array to string", R"({"a":["b"]})", R"({"a":"c"})", R"({"a":"c"})"},
      {"string to array", R"({"a":"c"})", R"({"a":["b"]})", R"({"a":["b"]})"},
      {"nested", R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})", R"({"a":{"b":"d"}})"},
      {"array replaced", R"({"a":[{"b":"c"}]})", R"({"a":[1]})", R"({"a":[1]})"},
      {"array doc", R"(["a","b"])", R"(["c","d"])", R"(["c","d"])"},
      {"object to array", R"({"a":"b"})", R"(["c"])", R"(["c"])"},
      {"null patch", R"({"a":"foo"})", "null", "null"},
      {"string patch", R"({"a":"foo"})", R"("bar")", R"("bar")"},
      {"existing null kept", R"({"e":null})", R"({"a":1})", R"({"e":null,"a":1})"},
      {"array doc to object", R"([1,2])", R"({"a":"b","c":null})", R"({"a":"b"})"},
      {"nulls pruned in new", R"({})", R"({"a":{"bb":{"ccc":null}}})", R"({"a":{"bb":{}}})"},
  };
  for (const PatchCase& c : cases) {
    SCOPED_TRACE(c.name);
    GF_ASSERT_OK_AND_ASSIGN(json got, ApplyMergePatch(J(c.original), J(c.patch)));
    EXPECT_EQ(got, J(c.want));
  }
}

TEST(MergePatch, ObjectsMergeRecursivelyAndListsReplace) {
  json pod = J(R"({"metadata":{"labels":{"app":"a","tier":"web"}},
                   "spec":{"containers":[{"name":"a","image":"x"},{"name":"b"}]}})");
  json patch = J(R"({"metadata":{"labels":{"tier":null,"new":"1"}},
                     "spec":{"containers":[{"name":"a","image":"y"}]}})");
  GF_ASSERT_OK_AND_ASSIGN(json got, ApplyMergePatch(pod, patch));
  EXPECT_EQ(got, J(R"({"metadata":{"labels":{"app":"a","new":"1"}},
                       "spec":{"containers":[{"name":"a","image":"y"}]}})"));
}

TEST(MergePatch, NullsInsideArraysAreKept) {
  GF_ASSERT_OK_AND_ASSIGN(json got, ApplyMergePatch(J("{}"), J(R"({"a":[null,{"b":null}]})")));
  EXPECT_EQ(got, J(R"({"a":[null,{"b":null}]})"));
}

TEST(MergePatch, IsIdempotent) {
  json original = J(R"({"a":{"b":1,"c":[1,2]},"d":"x"})");
  json patch = J(R"({"a":{"b":null,"e":{"f":null,"g":2}},"d":null,"h":[3]})");
  GF_ASSERT_OK_AND_ASSIGN(json once, ApplyMergePatch(original, patch));
  GF_ASSERT_OK_AND_ASSIGN(json twice, ApplyMergePatch(once, patch));
  EXPECT_EQ(once, twice);
}

TEST(MergePatch, CreateTwoWayRoundTrips) {
  json original = J(R"({"a":1,"b":{"c":2,"d":3},"e":[1],"gone":true})");
  json modified = J(R"({"a":1,"b":{"c":5,"d":3},"e":[1,2],"new":"x"})");
  GF_ASSERT_OK_AND_ASSIGN(json patch, CreateTwoWayMergePatch(original, modified));
  EXPECT_EQ(patch, J(R"({"b":{"c":5},"e":[1,2],"gone":null,"new":"x"})"));
  GF_ASSERT_OK_AND_ASSIGN(json applied, ApplyMergePatch(original, patch));
  EXPECT_EQ(applied, modified);
  EXPECT_THAT(CreateTwoWayMergePatch(J("[]"), modified), StatusIs(StatusCode::kInvalidArgument));
}

// ---- JSON patch ---------------------------------------------------------------------------

TEST(JsonPatch, Rfc6902AppendixA) {
  const PatchCase cases[] = {
      {"A.1 add member", R"({"foo":"bar"})", R"([{"op":"add","path":"/baz","value":"qux"}])",
       R"({"baz":"qux","foo":"bar"})"},
      {"A.2 add element", R"({"foo":["bar","baz"]})",
       R"([{"op":"add","path":"/foo/1","value":"qux"}])", R"({"foo":["bar","qux","baz"]})"},
      {"A.3 remove member", R"({"baz":"qux","foo":"bar"})", R"([{"op":"remove","path":"/baz"}])",
       R"({"foo":"bar"})"},
      {"A.4 remove element", R"({"foo":["bar","qux","baz"]})",
       R"([{"op":"remove","path":"/foo/1"}])", R"({"foo":["bar","baz"]})"},
      {"A.5 replace", R"({"baz":"qux","foo":"bar"})",
       R"([{"op":"replace","path":"/baz","value":"boo"}])", R"({"baz":"boo","foo":"bar"})"},
      {"A.6 move value", R"({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}})",
       R"([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}])",
       R"({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}})"},
      {"A.7 move element", R"({"foo":["all","grass","cows","eat"]})",
       R"([{"op":"move","from":"/foo/1","path":"/foo/3"}])",
       R"({"foo":["all","cows","eat","grass"]})"},
      {"A.8 test success", R"({"baz":"qux","foo":["a",2,"c"]})",
       R"([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}])",
       R"({"baz":"qux","foo":["a",2,"c"]})"},
      {"A.10 nested member", R"({"foo":"bar"})",
       R"([{"op":"add","path":"/child","value":{"grandchild":{}}}])",
       R"({"foo":"bar","child":{"grandchild":{}}})"},
      {"A.11 unknown members ignored", R"({"foo":"bar"})",
       R"([{"op":"add","path":"/baz","value":"qux","xyz":123}])", R"({"foo":"bar","baz":"qux"})"},
      {"A.14 escape ordering", R"({"/":9,"~1":10})", R"([{"op":"test","path":"/~01","value":10}])",
       R"({"/":9,"~1":10})"},
      {"A.16 add array value", R"({"foo":["bar"]})",
       R"([{"op":"add","path":"/foo/-","value":["abc","def"]}])",
       R"({"foo":["bar",["abc","def"]]})"},
  };
  for (const PatchCase& c : cases) {
    SCOPED_TRACE(c.name);
    GF_ASSERT_OK_AND_ASSIGN(json got, ApplyJsonPatch(J(c.original), J(c.patch)));
    EXPECT_EQ(got, J(c.want));
  }
}

TEST(JsonPatch, Rfc6902AppendixAErrorsAre422) {
  const PatchCase cases[] = {
      {"A.9 test error", R"({"baz":"qux"})", R"([{"op":"test","path":"/baz","value":"bar"}])",
       "testing value /baz failed: test failed"},
      {"A.12 nonexistent target", R"({"foo":"bar"})",
       R"([{"op":"add","path":"/baz/bat","value":"qux"}])", "doc is missing path"},
      {"A.13 duplicate op keys: last wins", R"({"foo":"bar"})",
       R"([{"op":"add","path":"/baz","value":"qux","op":"remove"}])", "nonexistent key: baz"},
      {"A.15 string vs number", R"({"/":9,"~1":10})",
       R"([{"op":"test","path":"/~01","value":"10"}])", "test failed"},
  };
  for (const PatchCase& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_THAT(ApplyJsonPatch(J(c.original), J(c.patch)),
                StatusIs(StatusCode::kFailedPrecondition, HasSubstr(c.want)));
  }
}

TEST(JsonPatch, FailedTestIsDistinguishable) {
  json doc = J(R"({"metadata":{"finalizers":["a"]}})");
  Result<json> failed =
      ApplyJsonPatch(doc, J(R"([{"op":"test","path":"/metadata/finalizers/0","value":"b"}])"));
  EXPECT_THAT(failed, StatusIs(StatusCode::kFailedPrecondition,
                               "json patch operation 0 (test \"/metadata/finalizers/0\"): testing "
                               "value /metadata/finalizers/0 failed: test failed"));
  EXPECT_TRUE(IsJsonPatchTestFailure(failed.status()));
  Result<json> missing = ApplyJsonPatch(doc, J(R"([{"op":"remove","path":"/spec"}])"));
  EXPECT_THAT(missing, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_FALSE(IsJsonPatchTestFailure(missing.status()));
  Result<json> test_missing_parent =
      ApplyJsonPatch(doc, J(R"([{"op":"test","path":"/a/b","value":"x: test failed"}])"));
  EXPECT_FALSE(IsJsonPatchTestFailure(test_missing_parent.status()));
}

TEST(JsonPatch, MalformedPatchIsInvalidArgument) {
  EXPECT_THAT(ApplyJsonPatch(J("{}"), J(R"({"op":"add"})")),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("cannot unmarshal object")));
  EXPECT_THAT(ApplyJsonPatch(J("{}"), J(R"([{"op":"add","path":"/a","value":1}, 7])")),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(JsonPatch, ErrorsNameOperationIndexAndPath) {
  json doc = J(R"({"a":{"b":[1,2]}})");
  EXPECT_THAT(ApplyJsonPatch(doc, J(R"([{"op":"test","path":"/a/b/0","value":1},
                                       {"op":"remove","path":"/a/b/5"}])")),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("json patch operation 1 (remove \"/a/b/5\"): Unable to access "
                                 "invalid index: 5")));
  EXPECT_THAT(ApplyJsonPatch(doc, J(R"([{"op":"frobnicate","path":"/a"}])")),
              StatusIs(StatusCode::kFailedPrecondition,
                       HasSubstr("operation 0 (frobnicate \"/a\"): Unexpected kind: frobnicate")));
  EXPECT_THAT(ApplyJsonPatch(doc, J(R"([{"op":"add","path":"a","value":1}])")),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("not a JSON pointer")));
  EXPECT_THAT(ApplyJsonPatch(doc, J(R"([{"op":"add","path":"/a/c"}])")),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("missing value field")));
}

TEST(JsonPatch, TooManyOperationsIs413) {
  json ops = json::array();
  for (std::size_t i = 0; i <= kMaxJsonPatchOperations; ++i) {
    ops.push_back({{"op", "test"}, {"path", ""}, {"value", json::object()}});
  }
  EXPECT_THAT(ApplyJsonPatch(json::object(), ops),
              StatusIs(StatusCode::kOutOfRange,
                       "The allowed maximum operations in a JSON patch is 10000, got 10001"));
}

TEST(JsonPatch, AllOrNothing) {
  json doc = J(R"({"a":1})");
  EXPECT_THAT(ApplyJsonPatch(doc, J(R"([{"op":"replace","path":"/a","value":2},
                                       {"op":"test","path":"/a","value":1}])")),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(doc, J(R"({"a":1})"));
}

TEST(JsonPatch, NegativeIndicesCountFromTheEnd) {
  json doc = J(R"({"a":[1,2,3]})");
  GF_ASSERT_OK_AND_ASSIGN(json removed,
                          ApplyJsonPatch(doc, J(R"([{"op":"remove","path":"/a/-1"}])")));
  EXPECT_EQ(removed, J(R"({"a":[1,2]})"));
  GF_ASSERT_OK_AND_ASSIGN(json added,
                          ApplyJsonPatch(doc, J(R"([{"op":"add","path":"/a/-1","value":9}])")));
  EXPECT_EQ(added, J(R"({"a":[1,2,3,9]})"));
  EXPECT_THAT(ApplyJsonPatch(doc, J(R"([{"op":"remove","path":"/a/-4"}])")),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST(JsonPatch, ReplaceOfMissingMemberAddsIt) {
  GF_ASSERT_OK_AND_ASSIGN(json got, ApplyJsonPatch(J(R"({"metadata":{}})"),
                                                   J(R"([{"op":"replace","path":"/metadata/labels",
                                                          "value":{"a":"b"}}])")));
  EXPECT_EQ(got, J(R"({"metadata":{"labels":{"a":"b"}}})"));
  EXPECT_THAT(ApplyJsonPatch(J(R"({"a":[]})"), J(R"([{"op":"replace","path":"/a/0","value":1}])")),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST(JsonPatch, RootOperations) {
  GF_ASSERT_OK_AND_ASSIGN(json replaced,
                          ApplyJsonPatch(J(R"({"a":1})"), J(R"([{"op":"replace","path":"",
                                                                 "value":{"b":2}}])")));
  EXPECT_EQ(replaced, J(R"({"b":2})"));
  GF_ASSERT_OK_AND_ASSIGN(json tested, ApplyJsonPatch(J(R"({"a":1})"), J(R"([{"op":"test","path":"",
                                                             "value":{"a":1.0}}])")));
  EXPECT_EQ(tested, J(R"({"a":1})"));
  EXPECT_THAT(ApplyJsonPatch(J(R"({"a":1})"), J(R"([{"op":"remove","path":""}])")),
              StatusIs(StatusCode::kFailedPrecondition));
}

TEST(JsonPatch, MoveAndCopy) {
  json doc = J(R"({"a":{"b":{"c":1}},"l":[1,2]})");
  EXPECT_THAT(ApplyJsonPatch(doc, J(R"([{"op":"move","from":"/a","path":"/a/b/d"}])")),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("is a prefix of path")));
  GF_ASSERT_OK_AND_ASSIGN(json same, ApplyJsonPatch(doc, J(R"([{"op":"move","from":"/a",
                                                                "path":"/a"}])")));
  EXPECT_EQ(same, doc);
  GF_ASSERT_OK_AND_ASSIGN(json copied, ApplyJsonPatch(doc, J(R"([{"op":"copy","from":"/a/b",
                                                                  "path":"/l/-"}])")));
  EXPECT_EQ(copied, J(R"({"a":{"b":{"c":1}},"l":[1,2,{"c":1}]})"));
  EXPECT_THAT(ApplyJsonPatch(doc, J(R"([{"op":"copy","from":"/nope","path":"/x"}])")),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("missing from path")));
}

TEST(JsonPatch, CopyGrowthIsBounded) {
  json doc = {{"a", std::string(1024 * 1024, 'x')}};
  json ops = json::array();
  for (int i = 0; i < 4; ++i) {
    ops.push_back({{"op", "copy"}, {"from", "/a"}, {"path", "/b" + std::to_string(i)}});
  }
  EXPECT_THAT(ApplyJsonPatch(doc, ops),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("accumulated size increase")));
}

TEST(JsonPatch, TestOfMissingMember) {
  json doc = J(R"({"a":1})");
  GF_EXPECT_OK(ApplyJsonPatch(doc, J(R"([{"op":"test","path":"/b"}])")));
  EXPECT_THAT(ApplyJsonPatch(doc, J(R"([{"op":"test","path":"/b","value":null}])")),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("test failed")));
  GF_EXPECT_OK(
      ApplyJsonPatch(J(R"({"a":null})"), J(R"([{"op":"test","path":"/a","value":null}])")));
}

TEST(JsonPatch, PointerEscapes) {
  GF_ASSERT_OK_AND_ASSIGN(
      json got, ApplyJsonPatch(J(R"({"metadata":{"labels":{}}})"),
                               J(R"([{"op":"add","path":"/metadata/labels/app.kubernetes.io~1name",
                                      "value":"x"},
                                     {"op":"add","path":"/metadata/labels/a~0b","value":"y"}])")));
  EXPECT_EQ(got, J(R"({"metadata":{"labels":{"app.kubernetes.io/name":"x","a~b":"y"}}})"));
  EXPECT_THAT(ApplyJsonPatch(J("{}"), J(R"([{"op":"add","path":"/a~2","value":1}])")),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("invalid '~' escape")));
}

}  // namespace
}  // namespace gpufleet::core
