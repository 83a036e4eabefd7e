#include "core/node_selector.h"

#include <string>

namespace gpufleet::core {
namespace {

constexpr std::string_view kNameField = "metadata.name";

Result<std::vector<NodeSelectorRequirement>> ParseList(const nlohmann::json& j,
                                                      const std::string& path) {
  std::vector<NodeSelectorRequirement> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return InvalidArgumentError(path + ": expected a list");
  for (size_t i = 0; i < j.size(); ++i) {
    GF_ASSIGN_OR_RETURN(auto r, ParseNodeSelectorRequirement(j[i], path + "[" + std::to_string(i) + "]"));
    out.push_back(std::move(r));
  }
  return out;
}

bool MatchesField(const NodeSelectorRequirement& r, std::string_view node_name) {
  if (r.key != kNameField || r.values.size() != 1) return false;
  if (r.op == Operator::kIn) return r.values[0] == node_name;
  if (r.op == Operator::kNotIn) return r.values[0] != node_name;
  return false;
}

}  // namespace

Result<NodeSelectorTerm> ParseNodeSelectorTerm(const nlohmann::json& j, std::string_view path) {
  std::string p(path);
  if (!j.is_object()) return InvalidArgumentError(p + ": expected an object");
  NodeSelectorTerm term;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "matchExpressions") {
      GF_ASSIGN_OR_RETURN(term.match_expressions, ParseList(it.value(), p + ".matchExpressions"));
    } else if (it.key() == "matchFields") {
      GF_ASSIGN_OR_RETURN(term.match_fields, ParseList(it.value(), p + ".matchFields"));
    } else {
      return InvalidArgumentError(p + ": unknown field \"" + it.key() + "\"");
    }
  }
  return term;
}

Result<NodeSelector> ParseNodeSelector(const nlohmann::json& j, std::string_view path) {
  std::string p(path);
  if (!j.is_object()) return InvalidArgumentError(p + ": expected an object");
  NodeSelector selector;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "nodeSelectorTerms") {
      return InvalidArgumentError(p + ": unknown field \"" + it.key() + "\"");
    }
    const auto& terms = it.value();
    if (terms.is_null()) continue;
    if (!terms.is_array()) return InvalidArgumentError(p + ".nodeSelectorTerms: expected a list");
    for (size_t i = 0; i < terms.size(); ++i) {
      GF_ASSIGN_OR_RETURN(auto term, ParseNodeSelectorTerm(
                                         terms[i], p + ".nodeSelectorTerms[" + std::to_string(i) + "]"));
      selector.terms.push_back(std::move(term));
    }
  }
  return selector;
}

nlohmann::json ToJson(const NodeSelectorTerm& term) {
  nlohmann::json j = nlohmann::json::object();
  if (!term.match_expressions.empty()) {
    for (const auto& r : term.match_expressions) j["matchExpressions"].push_back(ToJson(r));
  }
  if (!term.match_fields.empty()) {
    for (const auto& r : term.match_fields) j["matchFields"].push_back(ToJson(r));
  }
  return j;
}

nlohmann::json ToJson(const NodeSelector& selector) {
  nlohmann::json terms = nlohmann::json::array();
  for (const auto& t : selector.terms) terms.push_back(ToJson(t));
  return {{"nodeSelectorTerms", terms}};
}

Status ValidateNodeSelector(const NodeSelector& selector, std::string_view path) {
  std::string p(path);
  if (selector.terms.empty()) {
    return InvalidArgumentError(p + ".nodeSelectorTerms: Required value: must have at least one "
                                    "node selector term");
  }
  for (size_t i = 0; i < selector.terms.size(); ++i) {
    std::string tp = p + ".nodeSelectorTerms[" + std::to_string(i) + "]";
    const auto& term = selector.terms[i];
    for (size_t k = 0; k < term.match_expressions.size(); ++k) {
      GF_RETURN_IF_ERROR(ValidateNodeSelectorRequirement(
          term.match_expressions[k], RequirementDialect::kKubernetes,
          tp + ".matchExpressions[" + std::to_string(k) + "]"));
    }
    for (size_t k = 0; k < term.match_fields.size(); ++k) {
      const auto& f = term.match_fields[k];
      std::string fp = tp + ".matchFields[" + std::to_string(k) + "]";
      if (f.key != kNameField) {
        return InvalidArgumentError(fp + ".key: Unsupported value \"" + f.key +
                                    "\": supported values: \"metadata.name\"");
      }
      if ((f.op != Operator::kIn && f.op != Operator::kNotIn) || f.values.size() != 1) {
        return InvalidArgumentError(fp + ": must be In or NotIn with exactly one value for "
                                         "metadata.name");
      }
    }
  }
  return OkStatus();
}

bool Matches(const NodeSelectorTerm& term, const Labels& node_labels, std::string_view node_name) {
  if (term.match_expressions.empty() && term.match_fields.empty()) return false;
  for (const auto& r : term.match_expressions) {
    if (!Matches(r, node_labels)) return false;
  }
  for (const auto& f : term.match_fields) {
    if (!MatchesField(f, node_name)) return false;
  }
  return true;
}

bool Matches(const NodeSelector& selector, const Labels& node_labels, std::string_view node_name) {
  for (const auto& term : selector.terms) {
    if (Matches(term, node_labels, node_name)) return true;
  }
  return false;
}

}  // namespace gpufleet::core
