#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/yaml.h"
#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::IsOk;
using json = nlohmann::json;

TEST(YamlEmit, BlockStyleLikeKubectl) {
  json pod = json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"containers": [{"name": "c", "args": ["--port", "80"], "ports": [{"containerPort": 80}]}],
             "volumes": [], "nodeSelector": {}, "priority": 0.5, "hostNetwork": false,
             "affinity": null, "matrix": [[1, 2], [], [{"a": 1}]]}})");
  EXPECT_EQ(JsonToYaml(pod), R"(apiVersion: v1
kind: Pod
metadata:
  labels:
    app: web
  name: web
spec:
  affinity: null
  containers:
  - args:
    - --port
    - "80"
    name: c
    ports:
    - containerPort: 80
  hostNetwork: false
  matrix:
  - - 1
    - 2
  - []
  - - a: 1
  nodeSelector: {}
  priority: 0.5
  volumes: []
)");
}

TEST(YamlEmit, TopLevelScalarsAndEmptyCollections) {
  EXPECT_EQ(JsonToYaml(json("text")), "text\n");
  EXPECT_EQ(JsonToYaml(json(42)), "42\n");
  EXPECT_EQ(JsonToYaml(json::object()), "{}\n");
  EXPECT_EQ(JsonToYaml(json::array()), "[]\n");
  EXPECT_EQ(JsonToYaml(json(nullptr)), "null\n");
  EXPECT_EQ(JsonToYaml(json::array({1, "a"})), "- 1\n- a\n");
  EXPECT_EQ(JsonToYaml(json(std::numeric_limits<double>::infinity())), "null\n");
}

TEST(YamlEmit, QuotesStringsThatWouldBeRetyped) {
  struct Case {
    const char* value;
    const char* yaml;
  };
  const std::vector<Case> cases = {
      {"yes", "\"yes\""},
      {"NO", "\"NO\""},
      {"on", "\"on\""},
      {"null", "\"null\""},
      {"~", "\"~\""},
      {"", "\"\""},
      {"1", "\"1\""},
      {"1.10", "\"1.10\""},
      {"0x1F", "\"0x1F\""},
      {"1e3", "\"1e3\""},
      {".inf", "\".inf\""},
      {"<<", "\"<<\""},
      {"a: b", "\"a: b\""},
      {"a #b", "\"a #b\""},
      {"#x", "\"#x\""},
      {"- x", "\"- x\""},
      {"-", "\"-\""},
      {"key:", "\"key:\""},
      {"---", "\"---\""},
      {" lead", "\" lead\""},
      {"trail ", "\"trail \""},
      {"*star", "\"*star\""},
      {"&amp", "\"&amp\""},
      {"!bang", "\"!bang\""},
      {"'q'", "\"'q'\""},
      {"say \"hi\"", "say \"hi\""},
      {"tab\there", "\"tab\\there\""},
      {"bell\x07", "\"bell\\x07\""},
      {"back\\slash", "back\\slash"},
      {"--port", "--port"},
      {"a:b", "a:b"},
      {"http://x/y", "http://x/y"},
      {"500m", "500m"},
      {"2001-12-14", "2001-12-14"},
      {"yEs", "yEs"},
      {"caf\xC3\xA9", "caf\xC3\xA9"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(JsonToYaml(json::object({{"k", c.value}})), std::string("k: ") + c.yaml + "\n")
        << c.value;
  }
  EXPECT_EQ(JsonToYaml(json::object({{"yes", 1}, {"1", 2}, {"a b", 3}})),
            "\"1\": 2\na b: 3\n\"yes\": 1\n");
}

TEST(YamlEmit, MultiLineStringsAreLiteralBlocks) {
  EXPECT_EQ(JsonToYaml(json::object({{"s", "a\nb\n"}})), "s: |\n  a\n  b\n");
  EXPECT_EQ(JsonToYaml(json::object({{"s", "a\nb"}})), "s: |-\n  a\n  b\n");
  EXPECT_EQ(JsonToYaml(json::object({{"s", "a\n\n"}})), "s: |+\n  a\n\n");
  EXPECT_EQ(JsonToYaml(json::object({{"s", "a\n\n  b\n"}})), "s: |\n  a\n\n    b\n");
  EXPECT_EQ(JsonToYaml(json::array({"x\ny"})), "- |-\n  x\n  y\n");
  EXPECT_EQ(JsonToYaml(json::object({{"l", json::array({json::object({{"s", "x\n"}})})}})),
            "l:\n- s: |\n    x\n");
  // Leading blank line, leading space, whitespace-only lines and CR fall back to quotes.
  EXPECT_EQ(JsonToYaml(json::object({{"s", "\nx"}})), "s: \"\\nx\"\n");
  EXPECT_EQ(JsonToYaml(json::object({{"s", " x\ny"}})), "s: \" x\\ny\"\n");
  EXPECT_EQ(JsonToYaml(json::object({{"s", "x\n  \ny"}})), "s: \"x\\n  \\ny\"\n");
  EXPECT_EQ(JsonToYaml(json::object({{"s", "x\r\ny"}})), "s: \"x\\r\\ny\"\n");
  EXPECT_EQ(JsonToYaml(json::object({{"multi\nkey", 1}})), "\"multi\\nkey\": 1\n");
}

TEST(YamlEmit, LongKeysUseTheExplicitForm) {
  std::string key(1500, 'k');
  EXPECT_EQ(JsonToYaml(json::object({{key, 1}})), "? " + key + "\n: 1\n");
  EXPECT_EQ(JsonToYaml(json::object({{key, json::array({1})}})), "? " + key + "\n:\n  - 1\n");
  json nested = json::object(
      {{"l", json::array({json::object({{key, json::array({1, 2})}, {"b", json::object()}})})}});
  auto back = YamlToJsonSingle(JsonToYaml(nested));
  ASSERT_THAT(back, IsOk()) << JsonToYaml(nested);
  EXPECT_EQ(*back, nested);
}

TEST(YamlEmit, NeverStartsWithWhatLooksLikeAByteOrderMark) {
  // Regression (fuzz): a document starting "\xFE\xFF" was read back as UTF-16.
  for (const char* s : {"\xEF\xBB\xBFx", "\xFE\xFFx", "\xFF\xFEx", "\xC3\xA9t\xC3\xA9"}) {
    EXPECT_EQ(JsonToYaml(json(s))[0], '"') << s;
    for (const json& doc : {json(s), json::object({{s, 1}})}) {
      auto back = YamlToJsonSingle(JsonToYaml(doc));
      ASSERT_THAT(back, IsOk()) << s;
      EXPECT_EQ(*back, doc);
    }
  }
  EXPECT_EQ(JsonToYaml(json::object({{"k", "\xC3\xA9t\xC3\xA9"}})), "k: \xC3\xA9t\xC3\xA9\n");
}

std::vector<json> TrickyValues() {
  std::vector<json> values;
  for (const char* s : {"yes",
                        "no",
                        "on",
                        "off",
                        "y",
                        "n",
                        "Y",
                        "N",
                        "true",
                        "False",
                        "null",
                        "Null",
                        "~",
                        "",
                        "1",
                        "-1",
                        "+1",
                        "1.10",
                        "0x1F",
                        "010",
                        "0o7",
                        "0b1",
                        "08",
                        "1e3",
                        "1_000",
                        "1_",
                        ".5",
                        "1.",
                        ".inf",
                        "-.inf",
                        ".nan",
                        "<<",
                        "a: b",
                        "a #b",
                        "#x",
                        "- x",
                        "-",
                        "--x",
                        "?",
                        "? x",
                        "?x",
                        ":",
                        ":x",
                        "key:",
                        "---",
                        "--- x",
                        "...",
                        "'q'",
                        "\"dq\"",
                        "tab\there",
                        " lead",
                        "trail ",
                        "multi\nline",
                        "multi\nline\n",
                        "multi\n\n",
                        "\n",
                        "\n\n",
                        "\nlead",
                        "  indented\nx",
                        "x\n  indented",
                        "x\n\ty",
                        "a\r\nb",
                        "\x01\x02\x7F",
                        "caf\xC3\xA9",
                        "@at",
                        "`tick",
                        "%pct",
                        "!bang",
                        "&amp",
                        "*star",
                        "|pipe",
                        ">gt",
                        "[br",
                        "{br",
                        "]",
                        "}",
                        ",",
                        "2001-12-14",
                        "2001-12-14T21:59:43Z",
                        "a b  c",
                        "x:  y",
                        "x :y",
                        "http://example.com:80/#frag",
                        "\\",
                        "\"",
                        "'",
                        "\xE2\x80\xA8sep",
                        "\xC2\x85nel"}) {
    values.emplace_back(s);
  }
  values.emplace_back(std::string("nul\0byte", 8));
  values.emplace_back(std::string(3000, 'x'));
  for (json n : {json(0), json(-1), json(std::numeric_limits<int64_t>::min()),
                 json(std::numeric_limits<int64_t>::max()),
                 json(std::numeric_limits<uint64_t>::max()), json(1.5), json(-2.25), json(1e300),
                 json(1e-7), json(6.02e23), json(0.1), json(2.0), json(1e20)}) {
    values.push_back(n);
  }
  values.emplace_back(true);
  values.emplace_back(false);
  values.push_back(json::object());
  values.push_back(json::array());
  values.push_back(json::parse(R"({"a": [1, {"b": [[], {}, [null]]}], "": {"": ""}})"));
  return values;
}

TEST(YamlEmit, RoundTripsTrickyValues) {
  for (const json& v : TrickyValues()) {
    for (const json& doc : {json::object({{"v", v}}), json::array({v, v}),
                            json::object({{"nested", json::array({json::object({{"k", v}})})}})}) {
      std::string yaml = JsonToYaml(doc);
      auto back = YamlToJsonSingle(yaml);
      ASSERT_THAT(back, IsOk()) << yaml;
      EXPECT_EQ(*back, doc) << yaml;
    }
    if (v.is_string()) {  // As a key too.
      json doc = json::object({{v.get<std::string>(), 1}});
      auto back = YamlToJsonSingle(JsonToYaml(doc));
      ASSERT_THAT(back, IsOk()) << JsonToYaml(doc);
      EXPECT_EQ(*back, doc) << JsonToYaml(doc);
    }
    if (!v.is_null()) {  // At the top level too (a null document would be skipped).
      auto back = YamlToJsonSingle(JsonToYaml(v));
      ASSERT_THAT(back, IsOk()) << JsonToYaml(v);
      EXPECT_EQ(*back, v) << JsonToYaml(v);
    }
  }
}

}  // namespace
}  // namespace gpufleet::core
