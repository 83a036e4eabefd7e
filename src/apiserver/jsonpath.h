// JsonPath: the Kubernetes JSONPath dialect (k8s.io/client-go/util/jsonpath) as CRD
// additionalPrinterColumns use it, parsed once and evaluated against API objects.
//
// Supported, with client-go's semantics: `.a.b` fields (`\.` escapes a dot inside a key, as in
// `.metadata.labels.kubernetes\.io/hostname`), `.*` and `[*]`, `[0]`, `[-1]`, slices `[1:3]`,
// `[::2]`, unions `[0,2]`, bracket keys `['a']`, `..` recursive descent, and filters
// `[?(@.type=='Ready')]` / `[?(@.x)]` comparing with == != < > <= >= against single- or
// double-quoted strings, integers, floats, true/false or another path. The surrounding `{}` is
// optional ("{.status.phase}" and ".status.phase" are the same path). Not supported (rejected by
// Parse): text outside the braces, several actions, `range`/`end`, and literals outside filters.
//
// Deliberate differences from client-go: a bracket key may also use double quotes (`["a"]`;
// client-go rejects it); as in client-go, a dot inside a bracket key separates fields
// (`['a.b']` is `.a.b`; write `['a\.b']` or `.a\.b` for a key containing a dot). `*` over a string
// yields nothing (client-go yields its bytes). Nesting is bounded (32 levels of brackets/filters)
// and an evaluation doing more than 2^20 steps selects nothing, so adversarial expressions
// cannot exhaust the stack, memory or time.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace gpufleet::apiserver {

namespace jsonpath_internal {
struct Node;
}  // namespace jsonpath_internal

// A parsed JSONPath. Immutable and cheap to copy (copies share the syntax tree); thread-safe.
class JsonPath {
 public:
  // Parses `expression`. InvalidArgument naming the expression (its first 200 bytes), the problem
  // and its 0-based byte offset, e.g. `jsonpath ".a[": unterminated array at offset 2`.
  static Result<JsonPath> Parse(std::string_view expression);

  // The values the path selects in `doc`, in client-go's order (object keys in sorted order). A
  // missing key selects nothing (client-go's AllowMissingKeys(true)); an evaluation error
  // (indexing a non-array, an index out of range, comparing a string with a number, ...) selects
  // nothing at all, as the CRD table convertor treats client-go's error. The pointers refer into
  // `doc` and stay valid while `doc` is neither modified nor destroyed. Never fails or throws.
  std::vector<const nlohmann::json*> Evaluate(const nlohmann::json& doc) const;

  // The text given to Parse.
  const std::string& expression() const { return expression_; }

 private:
  using NodeList = std::vector<jsonpath_internal::Node>;
  JsonPath(std::string expression, std::shared_ptr<const NodeList> root)
      : expression_(std::move(expression)), root_(std::move(root)) {}

  std::string expression_;
  std::shared_ptr<const NodeList> root_;
};

// One selected value as client-go's JSONPath PrintResults writes it: strings unquoted, integers
// in decimal, floats as Go's %v ("2.5", "1e+06"), booleans "true"/"false", objects and arrays
// as compact JSON the way Go's encoding/json writes it (sorted keys, <>& escaped), null "<nil>".
std::string JsonPathText(const nlohmann::json& value);

// Compact JSON exactly as Go's encoding/json.Marshal writes a decoded value: keys sorted,
// integers in decimal, floats shortest ('e' form below 1e-6 or from 1e21), "<", ">", "&", U+2028
// and U+2029 escaped, invalid UTF-8 replaced by U+FFFD. Iterative: any nesting depth is safe.
std::string GoJsonText(const nlohmann::json& value);

}  // namespace gpufleet::apiserver
