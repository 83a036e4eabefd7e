#include "apiserver/registry.h"

#include <algorithm>

namespace gpufleet::apiserver {
namespace {

std::string PathKey(std::string_view group, std::string_view version, std::string_view resource) {
  return std::string(group) + "/" + std::string(version) + "/" + std::string(resource);
}

std::vector<std::string> StringList(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

bool ResourceInfo::HasSubresource(std::string_view s) const {
  return std::find(subresources.begin(), subresources.end(), s) != subresources.end();
}

std::string ResourceInfo::KeyPrefix() const {
  return "/" + (group.empty() ? std::string() : group + "/") + resource + "/";
}

std::string ResourceInfo::Key(std::string_view ns, std::string_view name) const {
  return KeyPrefix() + std::string(ns) + "/" + std::string(name);
}

std::unique_ptr<Registry> Registry::WithBuiltins() {
  auto r = std::make_unique<Registry>();
  for (auto& info : BuiltinResources()) r->Add(std::move(info));
  return r;
}

void Registry::Add(ResourceInfo info) {
  std::unique_lock lock(mu_);
  std::string key = PathKey(info.group, info.version, info.resource);
  by_path_.insert_or_assign(std::move(key), std::move(info));
}

void Registry::Remove(std::string_view group, std::string_view resource) {
  std::unique_lock lock(mu_);
  std::erase_if(by_path_, [&](const auto& kv) {
    return kv.second.group == group && kv.second.resource == resource;
  });
}

Result<ResourceInfo> Registry::Find(std::string_view group, std::string_view version,
                                    std::string_view resource) const {
  std::shared_lock lock(mu_);
  auto it = by_path_.find(PathKey(group, version, resource));
  if (it == by_path_.end() || !it->second.served) {
    std::string gv = group.empty() ? std::string(version)
                                   : std::string(group) + "/" + std::string(version);
    return NotFoundError("the server could not find the requested resource (" + gv + ", " +
                         std::string(resource) + ")");
  }
  return it->second;
}

std::optional<ResourceInfo> Registry::FindKind(std::string_view group,
                                               std::string_view kind) const {
  std::shared_lock lock(mu_);
  std::optional<ResourceInfo> found;
  for (const auto& [key, info] : by_path_) {
    if (info.group != group || info.kind != kind || !info.served) continue;
    if (!found || (info.storage && !found->storage)) found = info;
  }
  return found;
}

std::vector<ResourceInfo> Registry::All() const {
  std::shared_lock lock(mu_);
  std::vector<ResourceInfo> out;
  for (const auto& [key, info] : by_path_) {
    if (info.served) out.push_back(info);
  }
  return out;
}

Result<std::vector<ResourceInfo>> Registry::FromCrd(const nlohmann::json& crd) {
  const auto& spec = crd.contains("spec") ? crd["spec"] : nlohmann::json();
  if (!spec.is_object()) return InvalidArgumentError("spec: Required value");
  auto str = [&](const nlohmann::json& obj, const char* field) -> std::string {
    return obj.contains(field) && obj[field].is_string() ? obj[field].get<std::string>() : "";
  };
  const auto& names = spec.contains("names") ? spec["names"] : nlohmann::json();
  ResourceInfo base;
  base.group = str(spec, "group");
  base.resource = str(names, "plural");
  base.kind = str(names, "kind");
  base.singular = str(names, "singular");
  if (base.singular.empty()) {
    base.singular = base.kind;
    std::transform(base.singular.begin(), base.singular.end(), base.singular.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
  }
  base.short_names = StringList(names.contains("shortNames") ? names["shortNames"] : nullptr);
  base.categories = StringList(names.contains("categories") ? names["categories"] : nullptr);
  base.namespaced = str(spec, "scope") != "Cluster";
  base.from_crd = true;
  if (base.group.empty()) return InvalidArgumentError("spec.group: Required value");
  if (base.resource.empty()) return InvalidArgumentError("spec.names.plural: Required value");
  if (base.kind.empty()) return InvalidArgumentError("spec.names.kind: Required value");
  if (!spec.contains("versions") || !spec["versions"].is_array() || spec["versions"].empty()) {
    return InvalidArgumentError("spec.versions: Required value: must have at least one version");
  }
  std::vector<ResourceInfo> out;
  for (size_t i = 0; i < spec["versions"].size(); ++i) {
    const auto& v = spec["versions"][i];
    ResourceInfo info = base;
    info.version = str(v, "name");
    if (info.version.empty()) {
      return InvalidArgumentError("spec.versions[" + std::to_string(i) + "].name: Required value");
    }
    info.served = v.value("served", true);
    info.storage = v.value("storage", false);
    if (v.contains("subresources") && v["subresources"].is_object()) {
      if (v["subresources"].contains("status")) info.subresources.push_back("status");
      if (v["subresources"].contains("scale")) info.subresources.push_back("scale");
    }
    if (v.contains("additionalPrinterColumns") && v["additionalPrinterColumns"].is_array()) {
      for (const auto& c : v["additionalPrinterColumns"]) {
        PrinterColumn col;
        col.name = str(c, "name");
        col.type = str(c, "type");
        col.format = str(c, "format");
        col.json_path = str(c, "jsonPath");
        col.description = str(c, "description");
        col.priority = c.value("priority", 0);
        if (!col.name.empty() && !col.json_path.empty()) info.columns.push_back(std::move(col));
      }
    } else {
      info.columns.push_back({"Age", "date", ".metadata.creationTimestamp", "", 0});
    }
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace gpufleet::apiserver
