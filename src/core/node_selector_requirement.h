// NodeSelectorRequirement: the wire form of one node affinity expression (corev1 plus Karpenter's
// minValues), its operators, validation and Kubernetes' matching rules against node labels.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/labels.h"
#include "core/status.h"

namespace gpufleet::core {

// Values are persistent (used in hashes and snapshots): append only.
enum class Operator : uint8_t {
  kIn = 0,
  kNotIn = 1,
  kExists = 2,
  kDoesNotExist = 3,
  kGt = 4,
  kLt = 5,
  kGte = 6,  // Karpenter v1 only
  kLte = 7,  // Karpenter v1 only
};

// "In", "NotIn", ... exactly as in the API.
std::string_view OperatorName(Operator op);
// Case-sensitive, as the API server is. InvalidArgument names the text and the valid operators.
Result<Operator> ParseOperator(std::string_view text);

// Which API's rules apply: corev1 node affinity (In NotIn Exists DoesNotExist Gt Lt; Gt/Lt take
// one int64) or Karpenter v1 requirements (also Gte/Lte; Gt/Lt/Gte/Lte take one integer >= 0;
// In needs values; minValues 1..50 and, with In, <= len(values)).
enum class RequirementDialect { kKubernetes, kKarpenter };

struct NodeSelectorRequirement {
  std::string key;
  Operator op = Operator::kIn;
  std::vector<std::string> values;
  std::optional<int> min_values;  // Karpenter only

  friend bool operator==(const NodeSelectorRequirement&, const NodeSelectorRequirement&) = default;
};

// Decodes {"key","operator","values","minValues"}. Type errors are InvalidArgument naming
// `field_path` (e.g. "spec.template.spec.requirements[2].operator"). Does not validate semantics.
Result<NodeSelectorRequirement> ParseNodeSelectorRequirement(const nlohmann::json& j,
                                                             std::string_view field_path);
nlohmann::json ToJson(const NodeSelectorRequirement& r);

// Semantic validation for `dialect`; InvalidArgument naming `field_path` and the rule.
Status ValidateNodeSelectorRequirement(const NodeSelectorRequirement& r,
                                       RequirementDialect dialect, std::string_view field_path);

// Kubernetes node affinity semantics: In needs the label with a listed value; NotIn and
// DoesNotExist match an absent label; Gt/Lt (and Gte/Lte) need the label, parsed as int64, to
// compare with the single value (a non-integer label or value never matches).
bool Matches(const NodeSelectorRequirement& r, const Labels& labels);

// Go's strconv.Atoi/ParseInt(s, 10, 64): optional sign, decimal digits, int64 range, nothing else.
std::optional<int64_t> ParseInt64(std::string_view s);

}  // namespace gpufleet::core
