// Fuzzes the JSONPath parser and evaluator (CRD additionalPrinterColumns, kubectl -o jsonpath
// evaluated server-side for Tables). Input: an expression, then optionally a NUL byte and a JSON
// document to evaluate it against (a Pod-like document otherwise). Traps when an error has no
// message, when an accepted expression does not parse again the same way, or when evaluation
// selects differently twice (it must be a pure function of the document).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "apiserver/jsonpath.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gpufleet::apiserver::JsonPath;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nul = input.find('\0');
  std::string_view expression = input.substr(0, nul);
  nlohmann::json doc = nlohmann::json::parse(R"({"metadata":{"name":"p","labels":{"a.b/c":"x"}},
      "spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":80}]}]},
      "status":{"conditions":[{"type":"Ready","status":"True"}],"phase":"Running"}})");
  if (nul != std::string_view::npos) {
    doc = nlohmann::json::parse(input.substr(nul + 1), nullptr, false);
    if (doc.is_discarded()) return 0;
  }
  auto path = JsonPath::Parse(expression);
  if (!path.ok()) {
    if (path.status().message().empty()) __builtin_trap();
    return 0;
  }
  auto again = JsonPath::Parse(path->expression());
  if (!again.ok()) __builtin_trap();
  auto first = path->Evaluate(doc);
  auto second = again->Evaluate(doc);
  if (first.size() != second.size()) __builtin_trap();
  for (size_t i = 0; i < first.size(); ++i) {
    if (first[i] != second[i]) __builtin_trap();  // same nodes of the same document
  }
  return 0;
}
