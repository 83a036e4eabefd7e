#include "kube/types/pod.h"

#include "kube/types/core_types.h"

namespace gpufleet::kube {

using json = nlohmann::json;

Status Decode(const json& j, const core::JsonPath& path, ContainerPort& out) {
  return FieldReader(j, path)
      .Str("name", out.name)
      .Int32("containerPort", out.container_port)
      .Int32("hostPort", out.host_port)
      .Str("protocol", out.protocol)
      .Str("hostIP", out.host_ip)
      .status();
}

json Encode(const ContainerPort& v) {
  return FieldWriter()
      .Str("name", v.name)
      .Always("containerPort", v.container_port)
      .Int("hostPort", v.host_port)
      .Str("protocol", v.protocol)
      .Str("hostIP", v.host_ip)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, ResourceRequirements& out) {
  return FieldReader(j, path).Resources("requests", out.requests).Resources("limits", out.limits).status();
}

json Encode(const ResourceRequirements& v) {
  return FieldWriter().Resources("limits", v.limits).Resources("requests", v.requests).Take();
}

Status Decode(const json& j, const core::JsonPath& path, Container& out) {
  return FieldReader(j, path)
      .Str("name", out.name)
      .Str("image", out.image)
      .Obj("resources", out.resources)
      .List("ports", out.ports)
      .Str("restartPolicy", out.restart_policy)
      .status();
}

json Encode(const Container& v) {
  return FieldWriter()
      .Always("name", v.name)
      .Str("image", v.image)
      .Obj("resources", v.resources)
      .List("ports", v.ports)
      .Str("restartPolicy", v.restart_policy)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, PreferredSchedulingTerm& out) {
  return FieldReader(j, path).Int32("weight", out.weight).Obj("preference", out.preference).status();
}

json Encode(const PreferredSchedulingTerm& v) {
  return FieldWriter().Always("weight", v.weight).Always("preference", Encode(v.preference)).Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodeAffinity& out) {
  return FieldReader(j, path)
      .Obj("requiredDuringSchedulingIgnoredDuringExecution", out.required)
      .List("preferredDuringSchedulingIgnoredDuringExecution", out.preferred)
      .status();
}

json Encode(const NodeAffinity& v) {
  return FieldWriter()
      .Obj("requiredDuringSchedulingIgnoredDuringExecution", v.required)
      .List("preferredDuringSchedulingIgnoredDuringExecution", v.preferred)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, PodAffinityTerm& out) {
  return FieldReader(j, path)
      .Obj("labelSelector", out.label_selector)
      .StrList("namespaces", out.namespaces)
      .Str("topologyKey", out.topology_key)
      .Obj("namespaceSelector", out.namespace_selector)
      .StrList("matchLabelKeys", out.match_label_keys)
      .StrList("mismatchLabelKeys", out.mismatch_label_keys)
      .status();
}

json Encode(const PodAffinityTerm& v) {
  return FieldWriter()
      .Obj("labelSelector", v.label_selector)
      .StrList("namespaces", v.namespaces)
      .Always("topologyKey", v.topology_key)
      .Obj("namespaceSelector", v.namespace_selector)
      .StrList("matchLabelKeys", v.match_label_keys)
      .StrList("mismatchLabelKeys", v.mismatch_label_keys)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, WeightedPodAffinityTerm& out) {
  return FieldReader(j, path).Int32("weight", out.weight).Obj("podAffinityTerm", out.term).status();
}

json Encode(const WeightedPodAffinityTerm& v) {
  return FieldWriter().Always("weight", v.weight).Always("podAffinityTerm", Encode(v.term)).Take();
}

Status Decode(const json& j, const core::JsonPath& path, PodAffinity& out) {
  return FieldReader(j, path)
      .List("requiredDuringSchedulingIgnoredDuringExecution", out.required)
      .List("preferredDuringSchedulingIgnoredDuringExecution", out.preferred)
      .status();
}

json Encode(const PodAffinity& v) {
  return FieldWriter()
      .List("requiredDuringSchedulingIgnoredDuringExecution", v.required)
      .List("preferredDuringSchedulingIgnoredDuringExecution", v.preferred)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, Affinity& out) {
  return FieldReader(j, path)
      .Obj("nodeAffinity", out.node_affinity)
      .Obj("podAffinity", out.pod_affinity)
      .Obj("podAntiAffinity", out.pod_anti_affinity)
      .status();
}

json Encode(const Affinity& v) {
  return FieldWriter()
      .Obj("nodeAffinity", v.node_affinity)
      .Obj("podAffinity", v.pod_affinity)
      .Obj("podAntiAffinity", v.pod_anti_affinity)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, TopologySpreadConstraint& out) {
  return FieldReader(j, path)
      .Int32("maxSkew", out.max_skew)
      .Str("topologyKey", out.topology_key)
      .Str("whenUnsatisfiable", out.when_unsatisfiable)
      .Obj("labelSelector", out.label_selector)
      .Int32("minDomains", out.min_domains)
      .Str("nodeAffinityPolicy", out.node_affinity_policy)
      .Str("nodeTaintsPolicy", out.node_taints_policy)
      .StrList("matchLabelKeys", out.match_label_keys)
      .status();
}

json Encode(const TopologySpreadConstraint& v) {
  return FieldWriter()
      .Always("maxSkew", v.max_skew)
      .Always("topologyKey", v.topology_key)
      .Always("whenUnsatisfiable", v.when_unsatisfiable)
      .Obj("labelSelector", v.label_selector)
      .Int("minDomains", v.min_domains)
      .Str("nodeAffinityPolicy", v.node_affinity_policy)
      .Str("nodeTaintsPolicy", v.node_taints_policy)
      .StrList("matchLabelKeys", v.match_label_keys)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, Volume& out) {
  FieldReader r(j, path);
  r.Str("name", out.name);
  if (const json* pvc = r.Field("persistentVolumeClaim", json::value_t::object)) {
    std::string claim;
    r.Fail(FieldReader(*pvc, path.Field("persistentVolumeClaim")).Str("claimName", claim).status());
    out.claim_name = claim;
  }
  out.ephemeral = r.Field("ephemeral", json::value_t::object) != nullptr;
  return r.status();
}

json Encode(const Volume& v) {
  FieldWriter w;
  w.Always("name", v.name);
  if (v.claim_name) w.Always("persistentVolumeClaim", {{"claimName", *v.claim_name}});
  if (v.ephemeral) w.Always("ephemeral", json::object());
  return w.Take();
}

Status Decode(const json& j, const core::JsonPath& path, PodSpec& out) {
  return FieldReader(j, path)
      .Str("nodeName", out.node_name)
      .Str("schedulerName", out.scheduler_name)
      .Str("serviceAccountName", out.service_account_name)
      .Str("priorityClassName", out.priority_class_name)
      .Int32("priority", out.priority)
      .Str("preemptionPolicy", out.preemption_policy)
      .Str("runtimeClassName", out.runtime_class_name)
      .Str("restartPolicy", out.restart_policy)
      .Int("terminationGracePeriodSeconds", out.termination_grace_period_seconds)
      .Bool("hostNetwork", out.host_network)
      .StrMap("nodeSelector", out.node_selector)
      .Obj("affinity", out.affinity)
      .List("tolerations", out.tolerations)
      .List("topologySpreadConstraints", out.topology_spread_constraints)
      .List("initContainers", out.init_containers)
      .List("containers", out.containers)
      .Resources("overhead", out.overhead)
      .List("volumes", out.volumes)
      .status();
}

json Encode(const PodSpec& v) {
  return FieldWriter()
      .Str("nodeName", v.node_name)
      .Str("schedulerName", v.scheduler_name)
      .Str("serviceAccountName", v.service_account_name)
      .Str("priorityClassName", v.priority_class_name)
      .Int("priority", v.priority)
      .Str("preemptionPolicy", v.preemption_policy)
      .Str("runtimeClassName", v.runtime_class_name)
      .Str("restartPolicy", v.restart_policy)
      .Int("terminationGracePeriodSeconds", v.termination_grace_period_seconds)
      .Bool("hostNetwork", v.host_network)
      .StrMap("nodeSelector", v.node_selector)
      .Obj("affinity", v.affinity)
      .List("tolerations", v.tolerations)
      .List("topologySpreadConstraints", v.topology_spread_constraints)
      .List("initContainers", v.init_containers)
      .RequiredList("containers", v.containers)
      .Resources("overhead", v.overhead)
      .List("volumes", v.volumes)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, PodCondition& out) {
  return FieldReader(j, path)
      .Str("type", out.type)
      .Str("status", out.status)
      .Str("reason", out.reason)
      .Str("message", out.message)
      .Str("lastTransitionTime", out.last_transition_time)
      .status();
}

json Encode(const PodCondition& v) {
  return FieldWriter()
      .Always("type", v.type)
      .Always("status", v.status)
      .Str("reason", v.reason)
      .Str("message", v.message)
      .Str("lastTransitionTime", v.last_transition_time)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, PodStatus& out) {
  return FieldReader(j, path)
      .Str("phase", out.phase)
      .List("conditions", out.conditions)
      .Str("nominatedNodeName", out.nominated_node_name)
      .Str("hostIP", out.host_ip)
      .Str("podIP", out.pod_ip)
      .Str("startTime", out.start_time)
      .Str("reason", out.reason)
      .status();
}

json Encode(const PodStatus& v) {
  return FieldWriter()
      .Str("phase", v.phase)
      .List("conditions", v.conditions)
      .Str("nominatedNodeName", v.nominated_node_name)
      .Str("hostIP", v.host_ip)
      .Str("podIP", v.pod_ip)
      .Str("startTime", v.start_time)
      .Str("reason", v.reason)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, PodTemplateSpec& out) {
  return FieldReader(j, path).Obj("metadata", out.metadata).Obj("spec", out.spec).status();
}

json Encode(const PodTemplateSpec& v) {
  return FieldWriter().Obj("metadata", v.metadata).Obj("spec", v.spec).Take();
}

Status Decode(const json& j, const core::JsonPath& path, Pod& out) {
  return FieldReader(j, path)
      .Obj("metadata", out.metadata)
      .Obj("spec", out.spec)
      .Obj("status", out.status)
      .status();
}

json Encode(const Pod& v) {
  return FieldWriter()
      .Always("metadata", Encode(v.metadata))
      .Obj("spec", v.spec)
      .Obj("status", v.status)
      .Take();
}

const PodCondition* Pod::FindCondition(std::string_view type) const {
  for (const auto& c : status.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

}  // namespace gpufleet::kube
