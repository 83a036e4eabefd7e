#include "core/resource_list.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;

Quantity Q(std::string_view text) {
  Result<Quantity> q = Quantity::Parse(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.status();
  return q.value_or(Quantity());
}

ResourceList FromJson(std::string_view json) {
  Result<ResourceList> list = ResourceList::FromJson(json);
  EXPECT_TRUE(list.ok()) << json << ": " << list.status();
  return list.value_or(ResourceList());
}

TEST(ResourceList, FromJsonAcceptsStringsNumbersAndNull) {
  GF_ASSERT_OK_AND_ASSIGN(ResourceList list, ResourceList::FromJson(R"({
      "cpu": "500m", "memory": "1Gi", "nvidia.com/gpu": 1, "pods": 110,
      "ephemeral-storage": " 10Gi\t", "hugepages-2Mi": null, "half": 0.5, "kilo": 1e3,
      "neg": -2, "huge": 18446744073709551616, "float": 0.30000000000000004})"));
  EXPECT_EQ(list.size(), 11u);
  EXPECT_EQ(list.Get("cpu").String(), "500m");
  EXPECT_EQ(list.Get("memory").String(), "1Gi");
  EXPECT_EQ(list.Get("nvidia.com/gpu").String(), "1");
  EXPECT_EQ(list.Get("pods").Value(), 110);
  EXPECT_EQ(list.Get("ephemeral-storage").String(), "10Gi");
  ASSERT_TRUE(list.Contains("hugepages-2Mi"));
  EXPECT_TRUE(list.Get("hugepages-2Mi").IsZero());
  EXPECT_EQ(list.Get("half").String(), "500m");
  EXPECT_EQ(list.Get("kilo").String(), "1e3");  // the literal text, DecimalExponent
  EXPECT_EQ(list.Get("neg").String(), "-2");
  EXPECT_EQ(list.Get("huge").String(), "18446744073709551616");
  EXPECT_EQ(list.Get("float").String(), "300000001n");  // exact text, not a double
}

TEST(ResourceList, FromJsonErrorsNameTheKey) {
  struct Case {
    std::string json;
    StatusCode code;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"({"cpu":"abc"})", StatusCode::kInvalidArgument,
       "resource \"cpu\": quantity \"abc\": unexpected 'a' at position 0"},
      {R"({"nvidia.com/gpu":true})", StatusCode::kInvalidArgument,
       "resource \"nvidia.com/gpu\": expected a quantity string or number, got boolean"},
      {R"({"cpu":[1]})", StatusCode::kInvalidArgument,
       "resource \"cpu\": expected a quantity "
       "string or number, got array"},
      {R"({"cpu":{"a":1}})", StatusCode::kInvalidArgument, "got object"},
      {R"({"memory":""})", StatusCode::kInvalidArgument,
       "resource \"memory\": quantity \"\": expected a digit at position 0"},
      {R"({"memory":"1e30"})", StatusCode::kOutOfRange, "resource \"memory\": quantity \"1e30\""},
      {R"({"cpu":1e400})", StatusCode::kOutOfRange, "invalid JSON"},
      {R"([1])", StatusCode::kInvalidArgument, "resource list must be a JSON object, got array"},
      {R"("1")", StatusCode::kInvalidArgument, "must be a JSON object, got string"},
      {R"(3)", StatusCode::kInvalidArgument, "must be a JSON object, got number"},
      {R"({"cpu":)", StatusCode::kInvalidArgument, "invalid JSON"},
      {R"({"cpu":"1"} x)", StatusCode::kInvalidArgument, "invalid JSON"},
      {"", StatusCode::kInvalidArgument, "invalid JSON"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    EXPECT_THAT(ResourceList::FromJson(c.json), StatusIs(c.code, HasSubstr(c.message)));
  }
}

TEST(ResourceList, FromJsonNullIsEmptyAndRepeatedKeyKeepsLast) {
  EXPECT_TRUE(FromJson("null").empty());
  EXPECT_TRUE(FromJson("{}").empty());
  EXPECT_EQ(FromJson(R"({"cpu":"1","cpu":"2"})").Get("cpu").Value(), 2);
}

TEST(ResourceList, FromJsonValueReadsParsedObjects) {
  const nlohmann::json object = {{"cpu", 0.5}, {"memory", "1Gi"}, {"pods", 3}, {"gpu", nullptr}};
  GF_ASSERT_OK_AND_ASSIGN(ResourceList list, ResourceList::FromJsonValue(object));
  EXPECT_EQ(list.ToJson(), R"({"cpu":"500m","gpu":"0","memory":"1Gi","pods":"3"})");
  EXPECT_THAT(ResourceList::FromJsonValue(nlohmann::json::array()),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("got array")));
  EXPECT_THAT(ResourceList::FromJsonValue({{"cpu", true}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("resource \"cpu\"")));
  EXPECT_TRUE(ResourceList::FromJsonValue(nullptr)->empty());
}

TEST(ResourceList, ToJsonSortsNamesAndRoundTrips) {
  const ResourceList list = {{"nvidia.com/gpu", Q("1")}, {"cpu", Q("1.5")}, {"memory", Q("+1Gi")}};
  const std::string json = list.ToJson();
  EXPECT_EQ(json, R"({"cpu":"1500m","memory":"+1Gi","nvidia.com/gpu":"1"})");
  EXPECT_EQ(FromJson(json), list);
  EXPECT_EQ(ResourceList().ToJson(), "{}");
}

TEST(ResourceList, SetGetFindErase) {
  ResourceList list = {{"cpu", Q("1")}, {"cpu", Q("2")}};  // last wins
  EXPECT_EQ(list.Get("cpu").Value(), 2);
  EXPECT_TRUE(list.Get("memory").IsZero());
  EXPECT_EQ(list.Find("memory"), nullptr);
  list.Set("memory", Q("1Gi"));
  ASSERT_NE(list.Find("memory"), nullptr);
  EXPECT_EQ(list.Find("memory")->String(), "1Gi");
  EXPECT_TRUE(list.Erase("memory"));
  EXPECT_FALSE(list.Erase("memory"));
  EXPECT_EQ(list.size(), 1u);
}

TEST(ResourceList, EqualityComparesValuesNotFormats) {
  EXPECT_EQ(ResourceList({{"memory", Q("1Gi")}}), ResourceList({{"memory", Q("1073741824")}}));
  EXPECT_NE(ResourceList({{"memory", Q("1Gi")}}), ResourceList({{"memory", Q("1G")}}));
  EXPECT_NE(ResourceList({{"cpu", Q("0")}}), ResourceList());  // names matter
}

TEST(ResourceList, IsZeroWhenEveryQuantityIsZero) {
  EXPECT_TRUE(ResourceList().IsZero());
  EXPECT_TRUE(ResourceList({{"cpu", Q("0")}, {"memory", Q("0Gi")}}).IsZero());
  EXPECT_FALSE(ResourceList({{"cpu", Q("0")}, {"nvidia.com/gpu", Q("1n")}}).IsZero());
}

TEST(ResourceList, MergeSumsEveryNameOfEveryList) {
  const std::vector<ResourceList> lists = {
      {{"cpu", Q("500m")}, {"memory", Q("1Gi")}},
      {{"cpu", Q("1.5")}, {"nvidia.com/gpu", Q("1")}},
      {{"memory", Q("512Mi")}, {"nvidia.com/gpu", Q("2")}, {"pods", Q("1")}},
  };
  GF_ASSERT_OK_AND_ASSIGN(ResourceList merged, Merge(lists));
  EXPECT_EQ(merged.ToJson(), R"({"cpu":"2","memory":"1536Mi","nvidia.com/gpu":"3","pods":"1"})");
  GF_ASSERT_OK_AND_ASSIGN(ResourceList none, Merge(std::span<const ResourceList>()));
  EXPECT_TRUE(none.empty());
  GF_ASSERT_OK_AND_ASSIGN(ResourceList two, Merge(lists[0], lists[1]));
  EXPECT_EQ(two.Get("cpu").String(), "2");
}

TEST(ResourceList, MergeDropsParsedTextAndKeepsFirstFormat) {
  GF_ASSERT_OK_AND_ASSIGN(ResourceList merged,
                          Merge(ResourceList({{"cpu", Q("+1")}, {"memory", Q("1Gi")}}),
                                ResourceList({{"memory", Q("1073741824")}})));
  EXPECT_EQ(merged.Get("cpu").String(), "1");       // like Go: zero.Add(q) forgets q's text
  EXPECT_EQ(merged.Get("memory").String(), "2Gi");  // the first list's BinarySI
}

TEST(ResourceList, MergeIntoOverflowLeavesDestUnchanged) {
  const Quantity max = Q("170141183460469231731687303715.884105727");
  ResourceList dest = {{"cpu", Q("1")}, {"memory", max}};
  const ResourceList before = dest;
  EXPECT_THAT(MergeInto(dest, ResourceList({{"cpu", Q("1")}, {"memory", Q("1n")}})),
              StatusIs(StatusCode::kOutOfRange, HasSubstr("resource \"memory\"")));
  EXPECT_EQ(dest, before);
  GF_ASSERT_OK(MergeInto(dest, ResourceList({{"cpu", Q("1")}, {"pods", Q("3")}})));
  EXPECT_EQ(dest.Get("cpu").Value(), 2);
  EXPECT_EQ(dest.Get("pods").Value(), 3);
}

TEST(ResourceList, SubtractUsesLhsNamesOnly) {
  const ResourceList lhs = {{"cpu", Q("2")}, {"memory", Q("+1Gi")}, {"pods", Q("0")}};
  const ResourceList rhs = {{"cpu", Q("2500m")}, {"nvidia.com/gpu", Q("1")}, {"pods", Q("1Ki")}};
  GF_ASSERT_OK_AND_ASSIGN(ResourceList diff, Subtract(lhs, rhs));
  EXPECT_EQ(diff.size(), 3u);
  EXPECT_EQ(diff.Get("cpu").String(), "-500m");    // negative results are kept
  EXPECT_EQ(diff.Get("memory").String(), "+1Gi");  // untouched: a copy keeps its text
  EXPECT_EQ(diff.Get("pods").String(), "-1Ki");    // a zero receiver takes rhs's format
  EXPECT_FALSE(diff.Contains("nvidia.com/gpu"));
  const Quantity max = Q("170141183460469231731687303715.884105727");
  ResourceList low = {{"cpu", max}};
  low = *Subtract(ResourceList(), low);  // no names on the left: empty
  EXPECT_TRUE(low.empty());
  ResourceList neg_max = {{"cpu", max}};
  neg_max = *Subtract(ResourceList({{"cpu", Q("0")}}), neg_max);
  EXPECT_THAT(Subtract(neg_max, ResourceList({{"cpu", Q("1n")}})),
              StatusIs(StatusCode::kOutOfRange, HasSubstr("resource \"cpu\"")));
}

TEST(ResourceList, MaxResourcesTakesPerNameMaximumAndFirstOnTies) {
  const std::vector<ResourceList> lists = {
      {{"cpu", Q("1")}, {"memory", Q("1Gi")}},
      {{"cpu", Q("2")}, {"memory", Q("1073741824")}, {"nvidia.com/gpu", Q("4")}},
      {{"cpu", Q("1500m")}, {"nvidia.com/gpu", Q("-1")}},
  };
  const ResourceList max = MaxResources(lists);
  EXPECT_EQ(max.ToJson(), R"({"cpu":"2","memory":"1Gi","nvidia.com/gpu":"4"})");
  EXPECT_TRUE(MaxResources(std::span<const ResourceList>()).empty());
  EXPECT_EQ(MaxResources(lists[2], lists[0]).Get("cpu").String(), "1500m");
}

TEST(ResourceList, FitsTable) {
  struct Case {
    std::string name;
    std::string candidate;
    std::string total;
    bool fits;
  };
  const std::vector<Case> cases = {
      {"empty", "{}", "{}", true},
      {"missing total counts as zero", R"({"cpu":"1"})", "{}", false},
      {"zero request for absent resource", R"({"nvidia.com/gpu":"0"})", R"({"cpu":"4"})", true},
      {"negative request fits", R"({"cpu":"-1"})", "{}", true},
      {"extended resource fits", R"({"nvidia.com/gpu":1})", R"({"cpu":"4","nvidia.com/gpu":1})",
       true},
      {"extended resource exceeds", R"({"nvidia.com/gpu":2})", R"({"nvidia.com/gpu":"1"})", false},
      {"equal across formats", R"({"cpu":"4"})", R"({"cpu":"4000m"})", true},
      {"one byte short", R"({"memory":"1Gi"})", R"({"memory":"1073741823"})", false},
      {"negative total never fits", "{}", R"({"cpu":"4","memory":"-1"})", false},
      {"negative unrelated total", R"({"cpu":"1"})", R"({"cpu":"4","pods":"-1n"})", false},
      {"six resources", R"({"cpu":"3500m","memory":"12Gi","ephemeral-storage":"20Gi","pods":1,
         "nvidia.com/gpu":1,"hugepages-2Mi":"64Mi"})",
       R"({"cpu":"4","memory":"16Gi","ephemeral-storage":"100G","pods":110,"nvidia.com/gpu":1,
         "hugepages-2Mi":"128Mi"})",
       true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Fits(FromJson(c.candidate), FromJson(c.total)), c.fits);
  }
}

TEST(ResourceList, CmpResourceReadsMissingAsZero) {
  const ResourceList a = {{"cpu", Q("1")}, {"memory", Q("-1")}};
  const ResourceList b = {{"cpu", Q("1000m")}};
  EXPECT_EQ(CmpResource(a, b, "cpu"), 0);
  EXPECT_EQ(CmpResource(a, b, "memory"), -1);
  EXPECT_EQ(CmpResource(b, a, "memory"), 1);
  EXPECT_EQ(CmpResource(a, b, "nvidia.com/gpu"), 0);
}

}  // namespace
}  // namespace gpufleet::core
