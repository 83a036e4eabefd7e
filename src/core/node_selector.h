// NodeSelector: corev1 required node affinity (nodeSelectorTerms ORed; inside a term
// matchExpressions and matchFields ANDed), decoding, validation and matching.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/labels.h"
#include "core/node_selector_requirement.h"
#include "core/status.h"

namespace gpufleet::core {

struct NodeSelectorTerm {
  std::vector<NodeSelectorRequirement> match_expressions;
  // Only key "metadata.name" is supported, with In/NotIn and exactly one value.
  std::vector<NodeSelectorRequirement> match_fields;

  friend bool operator==(const NodeSelectorTerm&, const NodeSelectorTerm&) = default;
};

struct NodeSelector {
  std::vector<NodeSelectorTerm> terms;

  friend bool operator==(const NodeSelector&, const NodeSelector&) = default;
};

// Decodes {"matchExpressions":[...],"matchFields":[...]} / {"nodeSelectorTerms":[...]}; errors
// name the field path. Validation is separate.
Result<NodeSelectorTerm> ParseNodeSelectorTerm(const nlohmann::json& j, std::string_view path);
Result<NodeSelector> ParseNodeSelector(const nlohmann::json& j, std::string_view path);
nlohmann::json ToJson(const NodeSelectorTerm& term);
nlohmann::json ToJson(const NodeSelector& selector);

// Kubernetes validation: at least one term; each expression valid for the Kubernetes dialect;
// matchFields only metadata.name with In/NotIn and one value.
Status ValidateNodeSelector(const NodeSelector& selector, std::string_view path);

// An empty term matches nothing; otherwise every expression and field must match.
bool Matches(const NodeSelectorTerm& term, const Labels& node_labels, std::string_view node_name);
// True if any term matches. A selector with no terms matches nothing.
bool Matches(const NodeSelector& selector, const Labels& node_labels, std::string_view node_name);

}  // namespace gpufleet::core
