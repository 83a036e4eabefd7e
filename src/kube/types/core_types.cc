#include "kube/types/core_types.h"

namespace gpufleet::core {
namespace {

template <typename T>
Status Assign(Result<T> decoded, T& out) {
  if (!decoded.ok()) return decoded.status();
  out = std::move(decoded).value();
  return OkStatus();
}

}  // namespace

Status Decode(const nlohmann::json& j, const core::JsonPath& path, core::Taint& out) {
  return Assign(core::TaintFromJson(j, path.str()), out);
}
Status Decode(const nlohmann::json& j, const core::JsonPath& path, core::Toleration& out) {
  return Assign(core::TolerationFromJson(j, path.str()), out);
}
Status Decode(const nlohmann::json& j, const core::JsonPath& path, core::NodeSelectorRequirement& out) {
  return Assign(core::ParseNodeSelectorRequirement(j, path.str()), out);
}
Status Decode(const nlohmann::json& j, const core::JsonPath& path, core::NodeSelectorTerm& out) {
  return Assign(core::ParseNodeSelectorTerm(j, path.str()), out);
}
Status Decode(const nlohmann::json& j, const core::JsonPath& path, core::NodeSelector& out) {
  return Assign(core::ParseNodeSelector(j, path.str()), out);
}

nlohmann::json Encode(const core::Taint& v) { return core::ToJson(v); }
nlohmann::json Encode(const core::Toleration& v) { return core::ToJson(v); }
nlohmann::json Encode(const core::NodeSelectorRequirement& v) { return core::ToJson(v); }
nlohmann::json Encode(const core::NodeSelectorTerm& v) { return core::ToJson(v); }
nlohmann::json Encode(const core::NodeSelector& v) { return core::ToJson(v); }

}  // namespace gpufleet::core
