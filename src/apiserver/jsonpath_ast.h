// JSONPath syntax tree: the internal form shared by the parser (jsonpath.cc) and the evaluator
// (jsonpath_eval.cc). Not part of the public API; include apiserver/jsonpath.h instead.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gpufleet::apiserver::jsonpath_internal {

enum class NodeKind : uint8_t {
  kField,      // .name (map key lookup)
  kWildcard,   // .*
  kRecursive,  // ..
  kArray,      // [i], [a:b:c], [*]
  kUnion,      // [x,y]: one NodeList per alternative
  kFilter,     // [?(left op right)] or [?(path)]
  kLiteral,    // 'text', 12, 1.5, true (filter operands only)
};

enum class FilterOp : uint8_t { kExists, kEq, kNe, kLt, kLe, kGt, kGe };

// One of the three slice parameters, as client-go's ParamsEntry.
struct SliceParam {
  int64_t value = 0;
  bool known = false;
  bool derived = false;  // end index computed as start+1 for a plain [i]
};

struct Node;
using NodeList = std::vector<Node>;

struct Node {
  NodeKind kind = NodeKind::kField;
  std::string name;                   // kField
  std::array<SliceParam, 3> slice{};  // kArray
  std::vector<NodeList> lists;        // kUnion: alternatives; kFilter: {left} or {left, right}
  FilterOp op = FilterOp::kExists;    // kFilter
  nlohmann::json literal;             // kLiteral
  bool literal_per_input = false;     // kLiteral: numbers and bools repeat once per input value
};

// Parse-time bound on nested unions, filters and bracket keys (keeps both recursions shallow).
inline constexpr int kMaxNesting = 32;
// Evaluation-time bound on work (values produced plus nodes visited by `..`); past it the
// evaluation fails.
inline constexpr size_t kMaxWork = size_t{1} << 20;

// Evaluates a parsed action against doc. Empty on any evaluation error (as client-go returns an
// error). The pointers refer into doc, or into literal nodes of `list` for filter operands only
// (never returned at the top level).
std::vector<const nlohmann::json*> EvaluateList(const NodeList& list, const nlohmann::json& doc);

}  // namespace gpufleet::apiserver::jsonpath_internal
