#include "apiserver/jsonpath.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testing/status_matchers.h"

namespace gpufleet::apiserver {
namespace {

using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;
using json = nlohmann::json;

// Evaluates `expr` and prints the results as client-go's Execute does (space-separated).
std::string Eval(const std::string& expr, const json& doc) {
  auto path = JsonPath::Parse(expr);
  if (!path.ok()) return "PARSE ERROR: " + path.status().ToString();
  std::string out;
  for (const json* v : path->Evaluate(doc)) out += (out.empty() ? "" : " ") + JsonPathText(*v);
  return out;
}

struct Case {
  const char* expr;
  const char* want;
};

// client-go jsonpath_test.go TestTypesInput.
TEST(JsonPathUpstream, TypesInput) {
  const json types = json::parse(R"({
    "bools": [true, false, true, false], "integers": [1, 2, 3, 4],
    "floats": [1.0, 2.2, 3.3, 4.0], "strings": ["one", "two", "three", "four"],
    "interfaces": [true, "one", 1, 1.1],
    "maps": [{"name": "one", "value": 1}, {"name": "two", "value": 2.02},
             {"name": "three", "value": 3.03}, {"name": "four", "value": 4.04}]})");
  const Case cases[] = {
      {"{ .bools }", "[true,false,true,false]"},
      {"{ .bools[0] }", "true"},
      {"{ .bools[-1] }", "false"},
      {"{ .bools[0:2] }", "true false"},
      {"{ .bools[:2] }", "true false"},
      {"{ .bools[:4:2] }", "true true"},
      {"{ .integers }", "[1,2,3,4]"},
      {"{ .integers[-2] }", "3"},
      {"{ .integers[:4:2] }", "1 3"},
      {"{ .floats }", "[1,2.2,3.3,4]"},
      {"{ .floats[0] }", "1"},
      {"{ .floats[-2] }", "3.3"},
      {"{ .floats[0:2] }", "1 2.2"},
      {"{ .strings }", R"(["one","two","three","four"])"},
      {"{ .strings[-2] }", "three"},
      {"{ .strings[:4:2] }", "one three"},
      {"{ .interfaces }", R"([true,"one",1,1.1])"},
      {"{ .interfaces[0:2] }", "true one"},
      {"{ .interfaces[:4:2] }", "true 1"},
      {"{ .maps[0] }", R"({"name":"one","value":1})"},
      {"{ .maps[-2] }", R"({"name":"three","value":3.03})"},
      {"{ .maps[::2] }", R"({"name":"one","value":1} {"name":"three","value":3.03})"},
      {"{ .maps[1::2] }", R"({"name":"two","value":2.02} {"name":"four","value":4.04})"},
  };
  for (const Case& c : cases) EXPECT_EQ(Eval(c.expr, types), c.want) << c.expr;
}

// client-go TestStructInput / TestJSONInput, with the Go structs written as JSON.
TEST(JsonPathUpstream, StoreAndJsonInput) {
  const json store = json::parse(R"({
    "Name": "jsonpath",
    "Book": [{"Category": "reference", "Author": "Nigel Rees", "Price": 8.95},
             {"Category": "fiction", "Author": "Evelyn Waugh", "Price": 12.99},
             {"Category": "fiction", "Author": "Herman Melville", "Price": 8.99}],
    "Bicycle": [{"Color": "red", "Price": 19.95, "IsNew": true},
                {"Color": "green", "Price": 20.01, "IsNew": false}],
    "Labels": {"engieer": 10, "web/html": 15, "k8s-app": 20}})");
  const Case cases[] = {
      {"{$.Labels.web/html}", "15"},
      {"{.Labels.k8s-app}", "20"},
      {"{.Bicycle[*].Color}", "red green"},
      {"{.Book[*].Author}", "Nigel Rees Evelyn Waugh Herman Melville"},
      // Object members are visited in key order (Bicycle < Book); Go visits struct fields in
      // declaration order, which JSON input does not have.
      {"{..Price}", "19.95 20.01 8.95 12.99 8.99"},
      {"{...Price}", "19.95 20.01 8.95 12.99 8.99"},
      {"{.Book[-1:]}", R"({"Author":"Herman Melville","Category":"fiction","Price":8.99})"},
      {"{..Book[2]}", R"({"Author":"Herman Melville","Category":"fiction","Price":8.99})"},
      {"{.Bicycle[?(@.IsNew==true)]}", R"({"Color":"red","IsNew":true,"Price":19.95})"},
      {"{.hello}", ""},      // missing keys select nothing (AllowMissingKeys)
      {"{.Labels[0]}", ""},  // "map is not array or slice": an error selects nothing
  };
  for (const Case& c : cases) EXPECT_EQ(Eval(c.expr, store), c.want) << c.expr;
  EXPECT_EQ(Eval("{..}", json::parse("[1,2,3]")), "[1,2,3]");
  EXPECT_EQ(Eval("{[?(@<5)]}", json::parse("[2,6,3,7]")), "2 3");
  EXPECT_EQ(Eval("{[1,3,4]}", json::parse("[0,1,2,3,4]")), "1 3 4");
  EXPECT_EQ(Eval("{[0:2]}", json::parse(R"(["Monday","Tudesday"])")), "Monday Tudesday");
  const json points = json::parse(R"([{"id": "i1", "x": 4, "y": -5},
    {"id": "i2", "x": -2, "y": -5, "z": 1}, {"id": "i3", "x": 8, "y": 3},
    {"id": "i4", "x": -6, "y": -1}, {"id": "i5", "x": 0, "y": 2, "z": 1},
    {"id": "i6", "x": 1, "y": 4}])");
  EXPECT_EQ(Eval("{[?(@.z)].id}", points), "i2 i5");
  EXPECT_EQ(Eval("{[0]['id']}", points), "i1");
}

// client-go TestKubernetes.
TEST(JsonPathUpstream, Kubernetes) {
  const json nodes = json::parse(R"({"kind": "List", "items": [
      {"kind": "None", "metadata": {"name": "127.0.0.1",
         "labels": {"kubernetes.io/hostname": "127.0.0.1"}},
       "status": {"capacity": {"cpu": "4"}, "ready": true,
         "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.1"}]}},
      {"kind": "None", "metadata": {"name": "127.0.0.2",
         "labels": {"kubernetes.io/hostname": "127.0.0.2"}},
       "status": {"capacity": {"cpu": "8"}, "ready": false,
         "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.2"},
                       {"type": "another", "address": "127.0.0.3"}]}}],
    "users": [{"name": "myself", "user": {}},
              {"name": "e2e", "user": {"username": "admin", "password": "secret"}}]})");
  const Case cases[] = {
      {"{.items[*].status.addresses[*].address}", "127.0.0.1 127.0.0.2 127.0.0.3"},
      {"{.items[*].metadata.name}", "127.0.0.1 127.0.0.2"},
      // A dot inside a bracket key separates fields, as in client-go.
      {"{.items[*]['metadata.name', 'status.capacity']}",
       R"(127.0.0.1 127.0.0.2 {"cpu":"4"} {"cpu":"8"})"},
      {R"({.users[?(@.name=="e2e")].user.password})", "secret"},
      {R"({.items[0].metadata.labels.kubernetes\.io/hostname})", "127.0.0.1"},
      {R"({.items[?(@.metadata.labels.kubernetes\.io/hostname=="127.0.0.1")].kind})", "None"},
      {"{.items[?(@..ready==true)].metadata.name}", "127.0.0.1"},
  };
  for (const Case& c : cases) EXPECT_EQ(Eval(c.expr, nodes), c.want) << c.expr;
  std::vector<std::string> names;
  for (const json* v : JsonPath::Parse("{..name}")->Evaluate(nodes))
    names.push_back(JsonPathText(*v));
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ::testing::ElementsAre("127.0.0.1", "127.0.0.2", "e2e", "myself"));
}

// The paths CRD printer columns use (Karpenter NodePool, NodeClaim, EC2NodeClass).
TEST(JsonPathCrd, PrinterColumnPaths) {
  const json np = json::parse(R"({"metadata": {"name": "gpu",
      "labels": {"a.b/c": "dotted"}, "creationTimestamp": "2026-01-01T00:00:00Z"},
    "spec": {"template": {"spec": {"nodeClassRef": {"name": "default"}}}, "weight": 10},
    "status": {"resources": {"nodes": "3", "cpu": "96"}, "conditions": [
      {"type": "ValidationSucceeded", "status": "True"}, {"type": "Ready", "status": "False"}]}})");
  const Case cases[] = {
      {".spec.template.spec.nodeClassRef.name", "default"},
      {"{.spec.template.spec.nodeClassRef.name}", "default"},
      {".status.resources.nodes", "3"},
      {R"(.status.conditions[?(@.type=="Ready")].status)", "False"},
      {".status.conditions[?(@.type=='Ready')].status", "False"},
      {".status.conditions[?(@.type != 'Ready')].type", "ValidationSucceeded"},
      {".status.conditions[?(@.type=='Missing')].status", ""},
      {".spec.weight", "10"},
      {".spec.missing.deeper", ""},
      {R"(.metadata.labels.a\.b/c)", "dotted"},
      {R"(.metadata.labels['a\.b/c'])", "dotted"},
      {R"(.metadata.labels["a\.b/c"])", "dotted"},  // double-quoted key: gpufleet extension
      {"$.status.conditions[-1].type", "Ready"},
      {".status.conditions[*].type", "ValidationSucceeded Ready"},
      {".status.conditions[0,1].status", "True False"},
      {".status.conditions[5].type", ""},  // out of range: an error selects nothing
      {".status.resources.*", "96 3"},     // object members in key order
  };
  for (const Case& c : cases) EXPECT_EQ(Eval(c.expr, np), c.want) << c.expr;
  // The empty path is the object itself.
  EXPECT_EQ(Eval("", np), GoJsonText(np));
  EXPECT_EQ(Eval("{$}", np.at("spec")),
            R"({"template":{"spec":{"nodeClassRef":{"name":"default"}}},"weight":10})");
}

TEST(JsonPathFilter, ComparisonsFollowGoTemplateRules) {
  const json doc = json::parse(R"({"items": [{"n": 1, "f": 1.5, "s": "a", "b": true},
      {"n": 5, "f": 2.5, "s": "b", "b": false}, {"n": 10, "f": 3.5, "s": "c"}]})");
  const Case cases[] = {
      {".items[?(@.n>4)].n", "5 10"},
      {".items[?(@.n>=5)].n", "5 10"},
      {".items[?(@.n<5)].n", "1"},
      {".items[?(@.n<=5)].n", "1 5"},
      {".items[?(@.n!=5)].n", "1 10"},
      {".items[?(@.f>2.0)].n", "5 10"},
      {".items[?(@.s>'a')].s", "b c"},
      {".items[?(@.b==false)].n", "5"},  // items without b are skipped
      {".items[?(@.n==@.n)].n", "1 5 10"},
      {".items[?(@.n==1.0)].n", ""},  // int vs float: an error selects nothing
      {".items[?(@.s==1)].n", ""},    // string vs int: error
      {".items[?(@.b<true)].n", ""},  // bools are not ordered: error
      {".items[?(@.b)].n", "1 5"},    // exists
      {".items[?(@.n)].s", "a b c"},
  };
  for (const Case& c : cases) EXPECT_EQ(Eval(c.expr, doc), c.want) << c.expr;
}

TEST(JsonPathParse, ErrorsNamePositionAndReason) {
  const Case cases[] = {
      {".a[", "unterminated array at offset 2"},
      {".a[?(@.b==1", "unterminated filter at offset 2"},
      {".a[?(@.b==1)", "unclosed array expect ] at offset 12"},
      {"{.a", "unclosed action at offset 3"},
      {".a}", "unexpected '}' at offset 2"},
      {"{.a}.b", "text after the closing '}' is not supported at offset 4"},
      {".a (", "unrecognized character in action: U+0028 '(' at offset 3"},
      {".a[x]", "invalid array index x at offset 3"},
      {".a[1:2:3:4]", "invalid array index 1:2:3:4 at offset 3"},
      {".a[99999999999999999999]", "array index 99999999999999999999 is not a number"},
      {"{range .items[*]}", "range/end is not supported at offset 1"},
      {"{hello}", "unrecognized identifier hello at offset 1"},
      {".Book[?(@.Price<>10)]", "unrecognized filter operator <> at offset 15"},
      {"....Price", "invalid multiple recursive descent at offset 2"},
      {"{\"{\"}", "a literal is only supported inside a filter at offset 1"},
      {".a[?(@.b=='x)]", "unterminated filter at offset 2"},
      {".a[?(@.b=='x\\q')]", "unquote string 'x\\q' error invalid syntax"},
      {".a\n", "unclosed action at offset 2"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(JsonPath::Parse(c.expr), StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.want)))
        << c.expr;
  }
  EXPECT_THAT(JsonPath::Parse(".a[").status().message(), HasSubstr("jsonpath \".a[\""));
}

TEST(JsonPathText, GoFormatting) {
  const Case cases[] = {
      {"1e6", "1e+06"},
      {"123456.0", "123456"},
      {"0.0001", "0.0001"},
      {"0.00001", "1e-05"},
      {"-2.5", "-2.5"},
      {"0.0", "0"},
      {"1234567.5", "1.2345675e+06"},
  };
  for (const Case& c : cases) EXPECT_EQ(JsonPathText(json::parse(c.expr)), c.want) << c.expr;
  EXPECT_EQ(JsonPathText(json(nullptr)), "<nil>");
  EXPECT_EQ(GoJsonText(json::parse(R"({"b":[1e21,1e-7,0.5,1.0],"a":"<&>\u2028\n"})")),
            R"({"a":"\u003c\u0026\u003e\u2028\n","b":[1e+21,1e-7,0.5,1]})");
  EXPECT_EQ(GoJsonText(json(std::string("bad\xff"))), R"("bad\ufffd")");
}

// Adversarial inputs must neither recurse deeply nor blow up in time or memory.
TEST(JsonPathFuzz, BoundedOnAdversarialInput) {
  std::string deep_text;
  for (int i = 0; i < 100000; ++i) deep_text += "[";
  for (int i = 0; i < 100000; ++i) deep_text += "]";
  const json deep = json::parse(deep_text);
  EXPECT_EQ(JsonPath::Parse("..")->Evaluate(deep).size(), 99999u);  // the innermost [] is empty

  std::string nested = "[[[[[[[[1]]]]]]]]";
  std::string fanout;
  for (int i = 0; i < 8; ++i) fanout += "[0,0,0,0,0,0,0,0]";  // 8^8 values: over budget
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(JsonPath::Parse(fanout)->Evaluate(json::parse(nested)).empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));  // ~0.1 s

  std::string long_path;
  for (int i = 0; i < 20000; ++i) long_path += "..a";
  EXPECT_TRUE(JsonPath::Parse(long_path).ok());
  std::string brackets;
  for (int i = 0; i < 20000; ++i) brackets += "[?(";
  EXPECT_THAT(JsonPath::Parse(brackets), StatusIs(StatusCode::kInvalidArgument));
  for (const char* junk : {"[", "]", "[?(", ")]", "'", "\"", "{", "}", "[-]", "[:::]", "[?()]",
                           "[?(@==)]", "[?(==1)]", "[,]", "..", "\\", "[' ']", "[''']"}) {
    auto p = JsonPath::Parse(junk);
    if (p.ok()) p->Evaluate(deep);  // must not crash
  }
}

// A deterministic fuzz smoke test: random expressions over JSONPath's alphabet must parse or fail
// cleanly, and evaluate without crashing (ASan/UBSan builds check the memory side).
TEST(JsonPathFuzz, RandomExpressions) {
  const json doc = json::parse(R"({"a": [{"b": 1, "c": "x"}, {"b": 2.5, "c": null}], "d": {"e":
    [[1, 2], [3]], "f": true}, "g": "str"})");
  const std::string alphabet = ".[]?()@$'\"=!<>*:,-+0123456789abcdefg {}\\\n";
  std::mt19937 rng(42);
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string expr;
    const size_t len = rng() % 24;
    for (size_t k = 0; k < len; ++k) expr += alphabet[rng() % alphabet.size()];
    auto p = JsonPath::Parse(expr);
    if (!p.ok()) {
      EXPECT_THAT(p, StatusIs(StatusCode::kInvalidArgument)) << expr;
      continue;
    }
    ++parsed;
    for (const json* v : p->Evaluate(doc)) JsonPathText(*v);
  }
  EXPECT_GT(parsed, 100);
}

}  // namespace
}  // namespace gpufleet::apiserver
