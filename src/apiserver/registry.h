// Registry: the API resources the server serves, as data. Built-in kinds come from a table
// (builtin_resources.cc); a CustomResourceDefinition adds or replaces its resources the moment it
// is stored. Every request is routed through the ResourceInfo it resolves to: there is no per-kind
// handler code. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "core/thread_annotations.h"

namespace gpufleet::apiserver {

// One column of `kubectl get` (metav1.TableColumnDefinition plus the JSONPath that fills it).
struct PrinterColumn {
  std::string name;         // "Ready"
  std::string type;         // "string", "integer", "date", ...
  std::string json_path;    // ".status.conditions[?(@.type=='Ready')].status"; "" for built-ins
  std::string description;
  int priority = 0;         // 0 shown by default, >0 only with -o wide
  std::string format;       // OpenAPI format hint passed to clients: "int32", "byte", ...
};

struct ResourceInfo {
  std::string group;      // "" for the core group
  std::string version;    // "v1"
  std::string resource;   // plural, lowercase: "pods"
  std::string singular;   // "pod"
  std::string kind;       // "Pod"
  bool namespaced = true;
  std::vector<std::string> short_names;   // "po"
  std::vector<std::string> categories;    // "all"
  std::vector<std::string> subresources;  // "status", "log", "binding", "eviction", "scale"
  std::vector<PrinterColumn> columns;     // extra Table columns after NAME
  bool from_crd = false;
  bool served = true;
  bool storage = true;    // the storage version among a CRD's versions

  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string ListKind() const { return kind + "List"; }
  bool HasSubresource(std::string_view s) const;
  // Storage key prefix shared by every version of the resource: "/pods/", "/karpenter.sh/nodepools/".
  std::string KeyPrefix() const;
  // Storage key of one object; `ns` empty for cluster-scoped resources.
  std::string Key(std::string_view ns, std::string_view name) const;
};

class Registry {
 public:
  // A registry holding the built-in kinds (core/v1, apps/v1, coordination, rbac, policy,
  // events.k8s.io, apiextensions).
  static std::unique_ptr<Registry> WithBuiltins();

  void Add(ResourceInfo info);
  // Removes every version of group/resource (a deleted CRD).
  void Remove(std::string_view group, std::string_view resource);

  // By group, version and plural resource name. NotFound names the path.
  Result<ResourceInfo> Find(std::string_view group, std::string_view version,
                            std::string_view resource) const;
  // By group and kind (any served version, storage version first).
  std::optional<ResourceInfo> FindKind(std::string_view group, std::string_view kind) const;
  // Every served resource, sorted by group, version, resource.
  std::vector<ResourceInfo> All() const;

  // Decodes a CRD (apiextensions.k8s.io/v1 JSON) into one ResourceInfo per served version.
  // InvalidArgument naming the field when required fields are missing.
  static Result<std::vector<ResourceInfo>> FromCrd(const nlohmann::json& crd);

 private:
  mutable std::shared_mutex mu_;
  // key: group + "/" + version + "/" + resource
  std::map<std::string, ResourceInfo, std::less<>> by_path_ GF_GUARDED_BY(mu_);
};

// The built-in resource table.
std::vector<ResourceInfo> BuiltinResources();

}  // namespace gpufleet::apiserver
