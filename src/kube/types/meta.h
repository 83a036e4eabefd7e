// Typed views: the shared parts (metav1 ObjectMeta, OwnerReference, Condition, LabelSelector)
// and the contract every top-level view satisfies.
//
// A top-level view T (Pod, Node, Lease, ...) is a struct with
//   ObjectMeta metadata;
//   static constexpr std::string_view kApiVersion, kKind;
//   static Gvr Resource();                 // group/version/resource it is served under
//   static constexpr bool kComplete;       // models every field of the kind (see below)
// and Decode/Encode overloads (fields.h). FromJson<T> / ToJson add the apiVersion/kind checks.
//
// Why views: a controller's cache of 100k pods held as nlohmann::json costs ~10 KiB per pod;
// the same pods as views cost a fraction of their JSON size (docs/kube.md, bench/run informer).
// A view that leaves fields out (kComplete = false: Pod, Node, DaemonSet model what schedulers
// and controllers read) must never be written back whole: a PUT would erase what it dropped,
// so TypedClient refuses Update/UpdateStatus for them at compile time; use Patch instead.
// Timestamps stay in their RFC 3339 wire text (core/time_format.h parses them when needed).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/label_selector.h"
#include "core/labels.h"
#include "core/status.h"
#include "kube/client.h"
#include "kube/types/fields.h"

namespace gpufleet::kube {

// Fields shared by many objects (namespaces, owners, finalizers, selectors) are interned.
struct OwnerReference {
  core::InternedString api_version;
  core::InternedString kind;
  core::InternedString name;
  core::InternedString uid;  // the owner's: shared by all its replicas
  std::optional<bool> controller;
  std::optional<bool> block_owner_deletion;

  friend bool operator==(const OwnerReference&, const OwnerReference&) = default;
};

struct ObjectMeta {
  std::string name;
  core::InternedString generate_name;
  core::InternedString ns;  // metadata.namespace
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::string creation_timestamp;
  std::optional<std::string> deletion_timestamp;
  std::optional<int64_t> deletion_grace_period_seconds;
  core::Labels labels;
  core::Labels annotations;
  std::vector<OwnerReference> owner_references;
  std::vector<core::InternedString> finalizers;
  // managedFields is deliberately not modelled: caches never need it, and a PUT without it
  // leaves the server's copy unchanged.

  // "namespace/name", or "name" for cluster-scoped objects: the informer cache key.
  std::string Key() const { return ns.empty() ? name : ns.str() + "/" + name; }
  // The owner reference with controller=true, if any.
  const OwnerReference* ControllerRef() const;

  friend bool operator==(const ObjectMeta&, const ObjectMeta&) = default;
};

// metav1.Condition (Karpenter's CRDs, PDB status).
struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  int64_t observed_generation = 0;
  std::string last_transition_time;
  std::string reason;
  std::string message;

  friend bool operator==(const Condition&, const Condition&) = default;
};

// metav1.LabelSelector as written on the wire; Compile() gives the matcher.
struct LabelSelectorRequirementSpec {
  core::InternedString key;
  core::InternedString op;  // In, NotIn, Exists, DoesNotExist
  std::vector<core::InternedString> values;

  friend bool operator==(const LabelSelectorRequirementSpec&, const LabelSelectorRequirementSpec&) = default;
};

struct LabelSelectorSpec {
  core::Labels match_labels;
  std::vector<LabelSelectorRequirementSpec> match_expressions;

  // Everything for an empty selector; InvalidArgument for an unknown operator or bad values.
  Result<core::LabelSelector> Compile() const;
  friend bool operator==(const LabelSelectorSpec&, const LabelSelectorSpec&) = default;
};

Status Decode(const nlohmann::json& j, const core::JsonPath& path, OwnerReference& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, ObjectMeta& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, Condition& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, LabelSelectorRequirementSpec& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, LabelSelectorSpec& out);
nlohmann::json Encode(const OwnerReference& v);
nlohmann::json Encode(const ObjectMeta& v);
nlohmann::json Encode(const Condition& v);
nlohmann::json Encode(const LabelSelectorRequirementSpec& v);
nlohmann::json Encode(const LabelSelectorSpec& v);

// The condition of `type`, or nullptr.
const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type);
// The condition of `type` is present with status "True".
bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type);

// Decodes a whole object of kind T. InvalidArgument when apiVersion/kind are present and name
// another kind, or a field has the wrong type (the message names the field path).
template <typename T>
Result<T> FromJson(const nlohmann::json& j) {
  if (!j.is_object()) return InvalidArgumentError(std::string(T::kKind) + ": expected an object");
  auto kind = j.find("kind");
  if (kind != j.end() && kind->is_string() && !kind->get_ref<const std::string&>().empty() &&
      *kind != T::kKind) {
    return InvalidArgumentError("expected kind " + std::string(T::kKind) + ", got " +
                                kind->get<std::string>());
  }
  T out;
  Status s = Decode(j, core::JsonPath(), out);
  if (!s.ok()) {
    return Status(s.code(), std::string(T::kKind) + " " + out.metadata.Key() + ": " + std::string(s.message()));
  }
  return out;
}

// Encodes a whole object with its apiVersion and kind.
template <typename T>
nlohmann::json ToJson(const T& v) {
  nlohmann::json j = Encode(v);
  j["apiVersion"] = T::kApiVersion;
  j["kind"] = T::kKind;
  return j;
}

}  // namespace gpufleet::kube
