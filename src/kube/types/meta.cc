#include "kube/types/meta.h"

namespace gpufleet::kube {

using json = nlohmann::json;

const OwnerReference* ObjectMeta::ControllerRef() const {
  for (const auto& ref : owner_references) {
    if (ref.controller.value_or(false)) return &ref;
  }
  return nullptr;
}

Status Decode(const json& j, const core::JsonPath& path, OwnerReference& out) {
  return FieldReader(j, path)
      .Str("apiVersion", out.api_version)
      .Str("kind", out.kind)
      .Str("name", out.name)
      .Str("uid", out.uid)
      .Bool("controller", out.controller)
      .Bool("blockOwnerDeletion", out.block_owner_deletion)
      .status();
}

json Encode(const OwnerReference& v) {
  return FieldWriter()
      .Always("apiVersion", v.api_version)
      .Always("kind", v.kind)
      .Always("name", v.name)
      .Always("uid", v.uid)
      .Bool("controller", v.controller)
      .Bool("blockOwnerDeletion", v.block_owner_deletion)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, ObjectMeta& out) {
  return FieldReader(j, path)
      .Str("name", out.name)
      .Str("generateName", out.generate_name)
      .Str("namespace", out.ns)
      .Str("uid", out.uid)
      .Str("resourceVersion", out.resource_version)
      .Int("generation", out.generation)
      .Str("creationTimestamp", out.creation_timestamp)
      .Str("deletionTimestamp", out.deletion_timestamp)
      .Int("deletionGracePeriodSeconds", out.deletion_grace_period_seconds)
      .StrMap("labels", out.labels)
      .StrMap("annotations", out.annotations)
      .List("ownerReferences", out.owner_references)
      .StrList("finalizers", out.finalizers)
      .status();
}

json Encode(const ObjectMeta& v) {
  return FieldWriter()
      .Str("name", v.name)
      .Str("generateName", v.generate_name)
      .Str("namespace", v.ns)
      .Str("uid", v.uid)
      .Str("resourceVersion", v.resource_version)
      .Int("generation", v.generation)
      .Str("creationTimestamp", v.creation_timestamp)
      .Str("deletionTimestamp", v.deletion_timestamp)
      .Int("deletionGracePeriodSeconds", v.deletion_grace_period_seconds)
      .StrMap("labels", v.labels)
      .StrMap("annotations", v.annotations)
      .List("ownerReferences", v.owner_references)
      .StrList("finalizers", v.finalizers)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, Condition& out) {
  return FieldReader(j, path)
      .Str("type", out.type)
      .Str("status", out.status)
      .Int("observedGeneration", out.observed_generation)
      .Str("lastTransitionTime", out.last_transition_time)
      .Str("reason", out.reason)
      .Str("message", out.message)
      .status();
}

json Encode(const Condition& v) {
  return FieldWriter()
      .Always("type", v.type)
      .Always("status", v.status)
      .Int("observedGeneration", v.observed_generation)
      .Always("lastTransitionTime", v.last_transition_time)  // metav1.Condition: no omitempty
      .Always("reason", v.reason)
      .Always("message", v.message)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, LabelSelectorRequirementSpec& out) {
  return FieldReader(j, path)
      .Str("key", out.key)
      .Str("operator", out.op)
      .StrList("values", out.values)
      .status();
}

json Encode(const LabelSelectorRequirementSpec& v) {
  return FieldWriter().Always("key", v.key).Always("operator", v.op).StrList("values", v.values).Take();
}

Status Decode(const json& j, const core::JsonPath& path, LabelSelectorSpec& out) {
  return FieldReader(j, path)
      .StrMap("matchLabels", out.match_labels)
      .List("matchExpressions", out.match_expressions)
      .status();
}

json Encode(const LabelSelectorSpec& v) {
  return FieldWriter()
      .StrMap("matchLabels", v.match_labels)
      .List("matchExpressions", v.match_expressions)
      .Take();
}

Result<core::LabelSelector> LabelSelectorSpec::Compile() const {
  return core::LabelSelector::FromJson(Encode(*this), "selector");
}

const Condition* FindCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool IsConditionTrue(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = FindCondition(conditions, type);
  return c != nullptr && c->status == "True";
}

}  // namespace gpufleet::kube
