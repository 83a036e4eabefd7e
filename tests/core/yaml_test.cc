#include "core/yaml.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::IsOk;
using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;
using json = nlohmann::json;

// "integer" covers nlohmann's signed and unsigned kinds; == on json ignores int vs float.
std::string Kind(const json& j) {
  if (j.is_number_integer()) return "integer";
  return j.type_name();
}

struct Typed {
  const char* yaml;  // The value in "v: <yaml>".
  json want;
};

void ExpectTyped(const std::vector<Typed>& cases) {
  for (const Typed& c : cases) {
    auto doc = YamlToJsonSingle(std::string("v: ") + c.yaml);
    ASSERT_THAT(doc, IsOk()) << c.yaml;
    const json& got = (*doc)["v"];
    EXPECT_EQ(got, c.want) << "v: " << c.yaml;
    EXPECT_EQ(Kind(got), Kind(c.want)) << "v: " << c.yaml << " gave " << got.dump();
  }
}

TEST(YamlTyping, Nulls) {
  ExpectTyped({{"~", nullptr},
               {"null", nullptr},
               {"Null", nullptr},
               {"NULL", nullptr},
               {"", nullptr},
               {"nULL", "nULL"},
               {"'null'", "null"},
               {"!!null ''", nullptr}});
  GF_ASSERT_OK_AND_ASSIGN(json j, YamlToJsonSingle("key:\nother: 1\n"));
  EXPECT_EQ(j, json::parse(R"({"key": null, "other": 1})"));
}

TEST(YamlTyping, Yaml11Booleans) {
  for (const char* t : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"}) {
    ExpectTyped({{t, true}});
  }
  for (const char* f :
       {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"}) {
    ExpectTyped({{f, false}});
  }
  ExpectTyped({{"yEs", "yEs"}, {"tRUE", "tRUE"}, {"oN", "oN"}, {"'yes'", "yes"}, {"\"on\"", "on"}});
}

TEST(YamlTyping, NorwayProblem) {
  GF_ASSERT_OK_AND_ASSIGN(json j, YamlToJsonSingle("country: NO\nquoted: \"NO\"\n"));
  EXPECT_EQ(j, json::parse(R"({"country": false, "quoted": "NO"})"));
}

TEST(YamlTyping, Integers) {
  ExpectTyped({{"0", 0},
               {"42", 42},
               {"+42", 42},
               {"-17", -17},
               {"-0", 0},
               {"0x1F", 31},
               {"0X1f", 31},
               {"-0x1F", -31},
               {"010", 8},  // go-yaml v2: a leading 0 is octal.
               {"0o17", 15},
               {"0O17", 15},
               {"0b101", 5},
               {"-0b101", -5},
               {"1_000_000", 1000000},
               {"0x_1F", 31},
               {"1_", 1},  // v2 deletes every '_' first.
               {"9223372036854775807", INT64_MAX},
               {"-9223372036854775808", INT64_MIN}});
}

TEST(YamlTyping, Uint64AboveInt64) {
  ExpectTyped({{"9223372036854775808", 9223372036854775808u},
               {"18446744073709551615", 18446744073709551615u},
               {"0xFFFFFFFFFFFFFFFF", 18446744073709551615u}});
}

TEST(YamlTyping, Floats) {
  ExpectTyped({{"1.10", 1.1},
               {"3.14", 3.14},
               {"-2.5", -2.5},
               {".5", 0.5},
               {"-.5", -0.5},
               {"+.5e1", 5},
               {"6.02e23", 6.02e23},
               {"1e-7", 1e-7},
               {"1_000.5", 1000.5},
               {"._5", "._5"},
               {".5_5", 0.55}});
}

TEST(YamlTyping, IntegralFloatsBecomeIntegersAsGoPrintsThem) {
  // encoding/json prints float64(1000) as 1000, so the API server sees an integer.
  ExpectTyped({{"1e3", 1000},
               {"1.0", 1},
               {"1.", 1},
               {"-0.0", 0},
               {"08", 8},
               {"09.5", 9.5},
               {"1e20", 1e20}});  // 1e20 >= 2^53 stays a float.
}

TEST(YamlTyping, OverflowingNumbers) {
  // 1e400 overflows a double: go-yaml v2 leaves it a string. 20 decimal digits overflow uint64
  // but match the float syntax; hex beyond 64 bits is a big integer, which JSON gets as a number.
  ExpectTyped({{"1e400", "1e400"},
               {"99999999999999999999", 1e20},
               {"0x1FFFFFFFFFFFFFFFF", 36893488147419103231.0},
               {"-0x1FFFFFFFFFFFFFFFF", "-0x1FFFFFFFFFFFFFFFF"}});
}

TEST(YamlTyping, InfinityAndNaNAreErrors) {
  for (const char* v : {".inf", "-.Inf", "+.INF", ".nan", ".NaN"}) {
    EXPECT_THAT(YamlToJson(std::string("a: 1\nv: ") + v),
                StatusIs(StatusCode::kInvalidArgument,
                         HasSubstr("document 1, line 2:4: \"" + std::string(v) +
                                   "\" is not a finite number")));
  }
  ExpectTyped({{".infinity", ".infinity"}, {"'.inf'", ".inf"}});
}

TEST(YamlTyping, PlainStrings) {
  ExpectTyped({{"hello", "hello"},
               {"1.2.3", "1.2.3"},
               {"0x", "0x"},
               {"0b", "0b"},
               {"1e", "1e"},
               {"+", "+"},
               {"<<", "<<"},
               {"500m", "500m"},
               {"1Gi", "1Gi"},
               {"10.0.0.1", "10.0.0.1"},
               {"1:30", "1:30"},  // No base-60 in go-yaml v2.
               {"a b  c", "a b  c"}});
}

TEST(YamlTyping, TimestampsStayStrings) {
  ExpectTyped({{"2001-12-14", "2001-12-14"},
               {"2001-12-14T21:59:43.10-05:00", "2001-12-14T21:59:43.10-05:00"},
               {"2024-01-01 10:00:00", "2024-01-01 10:00:00"},
               {"!!timestamp 2001-12-14", "2001-12-14"}});
}

TEST(YamlTyping, QuotedAndBlockScalarsAreStrings) {
  ExpectTyped({{"\"1.10\"", "1.10"},
               {"'123'", "123"},
               {"\"true\"", "true"},
               {"\"\"", ""},
               {"\"a\\tb\\u00e9\"", "a\tb\xC3\xA9"},
               {"'it''s'", "it's"},
               {"|\n  123\n", "123\n"},
               {"|-\n  true\n", "true"},
               {">\n  folded\n  line\n", "folded line\n"},
               {"! 12", "12"}});
}

TEST(YamlTyping, ExplicitTags) {
  ExpectTyped({{"!!str 123", "123"},
               {"!!str yes", "yes"},
               {"!!int '12'", 12},
               {"!!int 0x10", 16},
               {"!!float 1", 1},
               {"!!float '2.5'", 2.5},
               {"!!bool yes", true},
               {"!!bool \"off\"", false},
               {"!!null ~", nullptr},
               {"!custom 12", "12"},
               {"!!str", ""}});
  struct Bad {
    const char* yaml;
    const char* message;
  };
  for (const Bad& b : std::vector<Bad>{{"v: !!int abc", "line 1:4: cannot decode \"abc\" as !!int"},
                                       {"v: !!int 1.5", "cannot decode \"1.5\" as !!int"},
                                       {"v: !!bool 1", "cannot decode \"1\" as !!bool"},
                                       {"v: !!float yes", "cannot decode \"yes\" as !!float"},
                                       {"v: !!null 0", "cannot decode \"0\" as !!null"},
                                       {"v: !!binary aGVsbG8=", "!!binary is not supported"}}) {
    EXPECT_THAT(YamlToJson(b.yaml), StatusIs(StatusCode::kInvalidArgument, HasSubstr(b.message)))
        << b.yaml;
  }
}

TEST(YamlKeys, NonStringKeysBecomeStringsAsGoFormatsThem) {
  struct Case {
    const char* yaml;
    const char* key;
  };
  const std::vector<Case> cases = {
      {"1: a", "1"},
      {"-7: a", "-7"},
      {"0x10: a", "16"},
      {"true: a", "true"},
      {"yes: a", "true"},
      {"off: a", "false"},
      {"1.5: a", "1.5"},
      {"1.0: a", "1"},
      {"0.1: a", "0.1"},
      {"1e3: a", "1000"},
      {"1e+36: a", "1e+36"},
      {"1000000000000000000000000000000000000: a", "1e+36"},
      {"1000000: a", "1000000"},  // An int.
      {"1e6: a", "1e+06"},
      {"0.00001: a", "1e-05"},
      {"3.14159265358979: a", "3.1415927"},  // Formatted as a float32.
      {".inf: a", ".inf"},
      {"-.inf: a", "-.inf"},
      {".nan: a", ".nan"},
      {"1e39: a", ".inf"},
      {"'1': a", "1"},
      {"\"yes\": a", "yes"},
      {"2001-12-14: a", "2001-12-14"},
  };
  for (const Case& c : cases) {
    GF_ASSERT_OK_AND_ASSIGN(json j, YamlToJsonSingle(c.yaml));
    EXPECT_EQ(j, json::object({{c.key, "a"}})) << c.yaml << " gave " << j.dump();
  }
}

TEST(YamlKeys, UnsupportedKeys) {
  struct Case {
    const char* yaml;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"a: 1\n~: b", "document 1, line 2:1: null keys are not supported"},
      {"null: b", "line 1:1: null keys are not supported"},
      {"? [a]\n: b", "line 1:3: mapping and sequence keys are not supported"},
      {"{a: 1}: b", "mapping and sequence keys are not supported"},
      {"18446744073709551615: a", "integer key \"18446744073709551615\" does not fit in int64"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(YamlToJson(c.yaml), StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.message)))
        << c.yaml;
  }
}

TEST(YamlDuplicateKeys, RejectedByDefaultWithBothLines) {
  EXPECT_THAT(YamlToJson("metadata:\n  name: a\n  labels: {}\n  name: b\n"),
              StatusIs(StatusCode::kInvalidArgument,
                       "yaml: document 1, line 4:3: duplicate key \"name\" (first at line 2:3)"));
  // Keys that only collide once converted to strings are duplicates in JSON too.
  EXPECT_THAT(YamlToJson("1: a\n'1': b\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("duplicate key \"1\"")));
  EXPECT_THAT(YamlToJson("{a: 1, a: 2}"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("line 1:8: duplicate key \"a\"")));
}

TEST(YamlDuplicateKeys, AllowedLastWins) {
  GF_ASSERT_OK_AND_ASSIGN(
      json j, YamlToJsonSingle("a: 1\nb: 2\na: 3\n", YamlOptions{.allow_duplicate_keys = true}));
  EXPECT_EQ(j, json::parse(R"({"a": 3, "b": 2})"));
}

TEST(YamlAnchors, AliasesAreExpanded) {
  GF_ASSERT_OK_AND_ASSIGN(json j, YamlToJsonSingle(R"(
base: &b {cpu: 1, tags: [x, y]}
copy: *b
num: &n 010
again: *n
list: [*b, *n]
)"));
  EXPECT_EQ(j["copy"], j["base"]);
  EXPECT_EQ(j["again"], 8);
  EXPECT_EQ(j["list"], json::array({j["base"], 8}));
}

TEST(YamlAnchors, MergeKeys) {
  GF_ASSERT_OK_AND_ASSIGN(json j, YamlToJsonSingle(R"(
defaults: &defaults {a: 1, b: 1, c: 1}
extra: &extra {b: 2, d: 2}
single:
  <<: *defaults
  c: 3
list:
  <<: [*extra, *defaults]
explicit_first:
  a: 9
  <<: *defaults
inline:
  <<: {x: 1}
nested:
  <<: *defaults
  more:
    <<: *extra
)"));
  EXPECT_EQ(j["single"], json::parse(R"({"a":1,"b":1,"c":3})"));
  EXPECT_EQ(j["list"], json::parse(R"({"a":1,"b":2,"c":1,"d":2})"));      // Earlier entry wins.
  EXPECT_EQ(j["explicit_first"], json::parse(R"({"a":9,"b":1,"c":1})"));  // Explicit wins.
  EXPECT_EQ(j["inline"], json::parse(R"({"x":1})"));
  EXPECT_EQ(j["nested"]["more"], json::parse(R"({"b":2,"d":2})"));
}

TEST(YamlAnchors, MergeKeyQuirks) {
  // A quoted "<<" is an ordinary key; a later << wins over an earlier one.
  GF_ASSERT_OK_AND_ASSIGN(json j, YamlToJsonSingle("a: &a {k: 1}\nb: &b {k: 2}\n"
                                                   "c: {\"<<\": 1}\nd: {<<: *a, <<: *b}\n"));
  EXPECT_EQ(j["c"], json::parse(R"({"<<": 1})"));
  EXPECT_EQ(j["d"], json::parse(R"({"k": 2})"));
  for (const char* bad : {"a: &a 1\nb: {<<: *a}", "a: {<<: [1]}", "a: {<<: x}", "a: {<<: [[]]}",
                          "a: &l [{x: 1}]\nb: {<<: *l}"}) {
    EXPECT_THAT(YamlToJson(bad),
                StatusIs(StatusCode::kInvalidArgument,
                         HasSubstr("merge key << needs a mapping or a sequence of mappings")))
        << bad;
  }
}

TEST(YamlAnchors, RecursiveAndUnknownAliases) {
  EXPECT_THAT(YamlToJson("a: &x [1, *x]"),
              StatusIs(StatusCode::kInvalidArgument,
                       "yaml: document 1, line 1:11: recursive alias: it refers to a node that "
                       "contains it"));
  EXPECT_THAT(YamlToJson("a: &x {b: {<<: *x}}"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(YamlToJson("a: *nope"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("document 1, line 1:4")));
}

TEST(YamlLimits, AliasBombIsRejected) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    bomb += std::string(1, c) + ": &" + c + " [*" + prev + ", *" + prev + ", *" + prev + ", *" +
            prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev +
            ", *" + prev + "]\n";
  }
  EXPECT_THAT(YamlToJson(bomb),
              StatusIs(StatusCode::kOutOfRange,
                       HasSubstr("more than 1000000 JSON values (alias expansion?)")));
  EXPECT_THAT(YamlToJson("a: &a [1, 2, 3]\nb: [*a, *a]\n", YamlOptions{.max_nodes = 10}),
              StatusIs(StatusCode::kOutOfRange, HasSubstr("more than 10 JSON values")));
  EXPECT_THAT(YamlToJson("a: &a [1, 2, 3]\nb: [*a, *a]\n", YamlOptions{.max_nodes = 16}), IsOk());
}

TEST(YamlLimits, DeepNestingIsRejected) {
  auto nested = [](int n) { return std::string(n, '[') + std::string(n, ']'); };
  EXPECT_THAT(YamlToJson(nested(256)), IsOk());
  EXPECT_THAT(YamlToJson(nested(257)),
              StatusIs(StatusCode::kOutOfRange,
                       "yaml: document 1, line 1:257: nesting deeper than 256 levels"));
  EXPECT_THAT(YamlToJson(nested(100000)),
              StatusIs(StatusCode::kOutOfRange, HasSubstr("nesting too deep for the parser")));
  EXPECT_THAT(YamlToJson("a:\n  b:\n    c: 1\n", YamlOptions{.max_depth = 2}),
              StatusIs(StatusCode::kOutOfRange, HasSubstr("line 3:5: nesting deeper than 2")));
  // Aliases nest too: each level here is 200 deep, and *x inside y makes 400.
  std::string via_alias = "x: &x " + nested(200) + "\ny: " + std::string(200, '[') + "*x" +
                          std::string(200, ']') + "\n";
  EXPECT_THAT(YamlToJson(via_alias), StatusIs(StatusCode::kOutOfRange));
}

TEST(YamlStream, MultipleDocumentsSkippingEmptyOnes) {
  GF_ASSERT_OK_AND_ASSIGN(std::vector<json> docs, YamlToJson(R"(---
a: 1
---
---
# only a comment
---
null
---
b: 2
...
---
- 3
)"));
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0], json::parse(R"({"a":1})"));
  EXPECT_EQ(docs[1], json::parse(R"({"b":2})"));
  EXPECT_EQ(docs[2], json::parse("[3]"));
  GF_ASSERT_OK_AND_ASSIGN(std::vector<json> none, YamlToJson("# nothing\n\n"));
  EXPECT_TRUE(none.empty());
  GF_ASSERT_OK_AND_ASSIGN(std::vector<json> empty, YamlToJson(""));
  EXPECT_TRUE(empty.empty());
}

TEST(YamlStream, ErrorsNameTheDocument) {
  EXPECT_THAT(YamlToJson("a: 1\n---\nb: 2\n---\nc: 1\nc: 2\n"),
              StatusIs(StatusCode::kInvalidArgument,
                       "yaml: document 3, line 6:1: duplicate key \"c\" (first at line 5:1)"));
  EXPECT_THAT(YamlToJson("a: 1\n---\nb: [1, 2\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("yaml: document 2, line")));
  EXPECT_THAT(YamlToJson("a: b: c\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("document 1, line 1:")));
}

TEST(YamlSyntax, UnterminatedQuotesAreErrors) {
  // yaml-cpp alone takes the rest of the input as the string when it ends with a newline.
  EXPECT_THAT(YamlToJson("a: \"x\"\nb: \"never closed\nc: 3\n"),
              StatusIs(StatusCode::kInvalidArgument,
                       "yaml: document 1, line 2:4: quoted scalar is not terminated"));
  EXPECT_THAT(YamlToJson("a: 'it''s'\nb: 'open\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("line 2:4: quoted scalar")));
  EXPECT_THAT(YamlToJson("a: \"ends with escaped quote\\\"\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("quoted scalar")));
  GF_ASSERT_OK_AND_ASSIGN(json j, YamlToJsonSingle("\xEF\xBB\xBF"
                                                   "a: \"x\"\nb: 'it''s'\n"));
  EXPECT_EQ(j, json::parse(R"({"a": "x", "b": "it's"})"));
}

TEST(YamlStream, SingleDocument) {
  EXPECT_THAT(
      YamlToJsonSingle("a: 1\n---\nb: 2\n"),
      StatusIs(StatusCode::kInvalidArgument, "yaml: expected exactly one document, found 2"));
  EXPECT_THAT(YamlToJsonSingle("# empty\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("found 0")));
  EXPECT_THAT(YamlToJsonSingle("---\nkind: Pod\n---\n"), IsOk());
}

TEST(YamlStream, JsonIsYaml) {
  const char* text =
      "{\n\t\"apiVersion\": \"v1\",\n\t\"items\": [1, 2.5, \"010\", true, null, "
      "{\"a\": \"x\\/y\\u00e9\"}],\n\t\"n\": -3e2\n}\n";
  GF_ASSERT_OK_AND_ASSIGN(json j, YamlToJsonSingle(text));
  EXPECT_EQ(j, json::parse(text));
}

}  // namespace
}  // namespace gpufleet::core
