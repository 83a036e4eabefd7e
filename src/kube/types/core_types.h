// Decode/Encode overloads (kube/types/fields.h) for the core types that are already the wire types:
// taints, tolerations and node selectors. They live in namespace core so that argument-dependent
// lookup finds them from FieldReader/FieldWriter. They let views hold core:: types directly, so the
// scheduler and the provisioner use what the cache holds without converting.
#pragma once

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/node_selector.h"
#include "core/node_selector_requirement.h"
#include "core/status.h"
#include "core/taints.h"

namespace gpufleet::core {

Status Decode(const nlohmann::json& j, const core::JsonPath& path, core::Taint& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, core::Toleration& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, core::NodeSelectorRequirement& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, core::NodeSelectorTerm& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, core::NodeSelector& out);
nlohmann::json Encode(const core::Taint& v);
nlohmann::json Encode(const core::Toleration& v);
nlohmann::json Encode(const core::NodeSelectorRequirement& v);
nlohmann::json Encode(const core::NodeSelectorTerm& v);
nlohmann::json Encode(const core::NodeSelector& v);

}  // namespace gpufleet::core
