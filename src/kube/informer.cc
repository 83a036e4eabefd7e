#include "kube/informer.h"

#include "kube/informer_impl.h"

namespace gpufleet::kube {

using json = nlohmann::json;

const core::log::Logger& InformerLog() {
  static const core::log::Logger log("kube.informer");
  return log;
}

InformerOptions StrippedInformerOptions(Gvr gvr) {
  InformerOptions o;
  o.gvr = std::move(gvr);
  o.transform = StripManagedFields;
  return o;
}

void StripManagedFields(json& obj) {
  if (obj.contains("metadata") && obj["metadata"].is_object()) obj["metadata"].erase("managedFields");
}

Result<json> InformerTraits<json>::Decode(json& obj) {
  if (!obj.is_object()) return InvalidArgumentError("expected an object, got " + std::string(obj.type_name()));
  return std::move(obj);
}

std::string InformerTraits<json>::Key(const json& obj) {
  std::string ns = MetadataString(obj, "namespace");
  std::string name = MetadataString(obj, "name");
  return ns.empty() ? name : ns + "/" + name;
}

std::string InformerTraits<json>::Namespace(const json& obj) { return MetadataString(obj, "namespace"); }

std::string InformerTraits<json>::ResourceVersion(const json& obj) {
  return MetadataString(obj, "resourceVersion");
}

template class BasicInformer<json>;

}  // namespace gpufleet::kube
