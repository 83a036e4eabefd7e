#include "kube/informer.h"

#include "kube/informer_impl.h"

namespace gpufleet::kube {

using json = nlohmann::json;

namespace {

// metadata.<field> when it is a string; "" otherwise (malformed answers must not throw).
std::string MetaString(const json& obj, const char* field) {
  if (!obj.is_object()) return "";
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return "";
  auto v = meta->find(field);
  return v != meta->end() && v->is_string() ? v->get<std::string>() : "";
}

}  // namespace

const core::log::Logger& InformerLog() {
  static const core::log::Logger log("kube.informer");
  return log;
}

void StripManagedFields(json& obj) {
  if (obj.contains("metadata") && obj["metadata"].is_object()) obj["metadata"].erase("managedFields");
}

Result<json> InformerTraits<json>::Decode(json& obj) {
  if (!obj.is_object()) return InvalidArgumentError("expected an object, got " + std::string(obj.type_name()));
  return std::move(obj);
}

std::string InformerTraits<json>::Key(const json& obj) {
  std::string ns = MetaString(obj, "namespace");
  std::string name = MetaString(obj, "name");
  return ns.empty() ? name : ns + "/" + name;
}

std::string InformerTraits<json>::Namespace(const json& obj) { return MetaString(obj, "namespace"); }

std::string InformerTraits<json>::ResourceVersion(const json& obj) {
  return MetaString(obj, "resourceVersion");
}

std::string ListMetaString(const json& list, const char* field) { return MetaString(list, field); }

template class BasicInformer<json>;

}  // namespace gpufleet::kube
