#include "core/node_selector_requirement.h"

#include <array>
#include <charconv>
#include <string>

namespace gpufleet::core {
namespace {

constexpr std::array<std::string_view, 8> kOperatorNames = {"In", "NotIn", "Exists", "DoesNotExist",
                                                            "Gt", "Lt",    "Gte",    "Lte"};

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

bool IsIntegerComparison(Operator op) {
  return op == Operator::kGt || op == Operator::kLt || op == Operator::kGte || op == Operator::kLte;
}

}  // namespace

std::string_view OperatorName(Operator op) { return kOperatorNames[static_cast<size_t>(op)]; }

Result<Operator> ParseOperator(std::string_view text) {
  for (size_t i = 0; i < kOperatorNames.size(); ++i) {
    if (kOperatorNames[i] == text) return static_cast<Operator>(i);
  }
  return InvalidArgumentError("unsupported operator " + Quote(text) +
                              ": must be one of In, NotIn, Exists, DoesNotExist, Gt, Lt, Gte, Lte");
}

std::optional<int64_t> ParseInt64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  bool negative = false;
  if (s.front() == '+' || s.front() == '-') {
    negative = s.front() == '-';
    s.remove_prefix(1);
    if (s.empty()) return std::nullopt;
  }
  // from_chars would accept a second sign; digits only from here.
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), magnitude);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(INT64_MAX);
  if (negative) {
    if (magnitude > kMaxPositive + 1) return std::nullopt;
    return magnitude == kMaxPositive + 1 ? INT64_MIN : -static_cast<int64_t>(magnitude);
  }
  if (magnitude > kMaxPositive) return std::nullopt;
  return static_cast<int64_t>(magnitude);
}

Result<NodeSelectorRequirement> ParseNodeSelectorRequirement(const nlohmann::json& j,
                                                             std::string_view field_path) {
  std::string path(field_path);
  if (!j.is_object()) {
    return InvalidArgumentError(path + ": expected an object with key, operator and values, got " +
                                std::string(j.type_name()));
  }
  NodeSelectorRequirement r;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& field = it.key();
    const nlohmann::json& v = it.value();
    if (field == "key") {
      if (!v.is_string()) return InvalidArgumentError(path + ".key: expected a string");
      r.key = v.get<std::string>();
    } else if (field == "operator") {
      if (!v.is_string()) return InvalidArgumentError(path + ".operator: expected a string");
      auto op = ParseOperator(v.get<std::string>());
      if (!op.ok()) return op.status().WithContext(path + ".operator");
      r.op = *op;
    } else if (field == "values") {
      if (v.is_null()) continue;
      if (!v.is_array()) return InvalidArgumentError(path + ".values: expected a list of strings");
      for (size_t i = 0; i < v.size(); ++i) {
        if (!v[i].is_string()) {
          return InvalidArgumentError(path + ".values[" + std::to_string(i) +
                                      "]: expected a string, got " + std::string(v[i].type_name()));
        }
        r.values.push_back(v[i].get<std::string>());
      }
    } else if (field == "minValues") {
      if (v.is_null()) continue;
      if (!v.is_number_integer()) return InvalidArgumentError(path + ".minValues: expected an integer");
      int64_t n = v.get<int64_t>();
      if (n < INT32_MIN || n > INT32_MAX) {
        return InvalidArgumentError(path + ".minValues: " + std::to_string(n) + " is out of range");
      }
      r.min_values = static_cast<int>(n);
    } else {
      return InvalidArgumentError(path + ": unknown field " + Quote(field));
    }
  }
  if (!j.contains("operator")) return InvalidArgumentError(path + ".operator: Required value");
  return r;
}

nlohmann::json ToJson(const NodeSelectorRequirement& r) {
  nlohmann::json j = {{"key", r.key}, {"operator", OperatorName(r.op)}};
  if (!r.values.empty()) j["values"] = r.values;
  if (r.min_values) j["minValues"] = *r.min_values;
  return j;
}

Status ValidateNodeSelectorRequirement(const NodeSelectorRequirement& r,
                                       RequirementDialect dialect, std::string_view field_path) {
  std::string path(field_path);
  GF_RETURN_IF_ERROR(ValidateLabelKey(r.key, path + ".key"));
  const bool karpenter = dialect == RequirementDialect::kKarpenter;
  std::string op(OperatorName(r.op));
  if (!karpenter && (r.op == Operator::kGte || r.op == Operator::kLte)) {
    return InvalidArgumentError(path + ".operator: Unsupported value " + Quote(op) +
                                ": supported values: In, NotIn, Exists, DoesNotExist, Gt, Lt");
  }
  switch (r.op) {
    case Operator::kIn:
    case Operator::kNotIn:
      if (r.values.empty()) {
        return InvalidArgumentError(path + ".values: must be specified when operator is " + op);
      }
      break;
    case Operator::kExists:
    case Operator::kDoesNotExist:
      if (!r.values.empty()) {
        return InvalidArgumentError(path + ".values: may not be specified when operator is " +
                                    op);
      }
      break;
    default: {
      if (r.values.size() != 1) {
        return InvalidArgumentError(path + ".values: must have exactly one value when operator is " +
                                    op);
      }
      auto n = ParseInt64(r.values[0]);
      if (!n) {
        return InvalidArgumentError(path + ".values[0]: " + Quote(r.values[0]) +
                                    " must be an integer for operator " + op);
      }
      if (karpenter && *n < 0) {
        return InvalidArgumentError(path + ".values[0]: " + Quote(r.values[0]) +
                                    " must be a non-negative integer for operator " + op);
      }
    }
  }
  if (r.min_values) {
    if (!karpenter) return InvalidArgumentError(path + ".minValues: not a Kubernetes field");
    if (*r.min_values < 1 || *r.min_values > 50) {
      return InvalidArgumentError(path + ".minValues: " + std::to_string(*r.min_values) +
                                  " must be between 1 and 50");
    }
    if (r.op == Operator::kIn && static_cast<size_t>(*r.min_values) > r.values.size()) {
      return InvalidArgumentError(path + ".minValues: " + std::to_string(*r.min_values) +
                                  " is more than the " + std::to_string(r.values.size()) +
                                  " values listed");
    }
  }
  return OkStatus();
}

bool Matches(const NodeSelectorRequirement& r, const Labels& labels) {
  auto it = labels.find(r.key);
  const bool present = it != labels.end();
  switch (r.op) {
    case Operator::kIn:
      if (!present) return false;
      for (const auto& v : r.values) {
        if (v == it->second) return true;
      }
      return false;
    case Operator::kNotIn:
      if (!present) return true;
      for (const auto& v : r.values) {
        if (v == it->second) return false;
      }
      return true;
    case Operator::kExists:
      return present;
    case Operator::kDoesNotExist:
      return !present;
    default:
      break;
  }
  if (!present || r.values.size() != 1 || !IsIntegerComparison(r.op)) return false;
  auto label = ParseInt64(it->second);
  auto bound = ParseInt64(r.values[0]);
  if (!label || !bound) return false;
  switch (r.op) {
    case Operator::kGt: return *label > *bound;
    case Operator::kLt: return *label < *bound;
    case Operator::kGte: return *label >= *bound;
    case Operator::kLte: return *label <= *bound;
    default: return false;
  }
}

}  // namespace gpufleet::core
