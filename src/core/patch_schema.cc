// PatchSchema and the built-in kinds' patch metadata, transcribed from the struct tags of
// k8s.io/api (core/v1, apps/v1, batch/v1, policy/v1, autoscaling/v2 types.go):
// patchStrategy/patchMergeKey for strategic merge patch, listType/listMapKey for server-side apply.
#include <array>
#include <string>
#include <string_view>
#include <utility>

#include "core/patch.h"

namespace gpufleet::core {

FieldRule FieldRule::MergeByKey(std::string key) {
  FieldRule rule;
  rule.merge = true;
  rule.list_type = ListType::kMap;
  rule.list_map_keys = {key};
  rule.merge_key = std::move(key);
  return rule;
}

FieldRule FieldRule::MergePrimitives() {
  FieldRule rule;
  rule.merge = true;
  rule.list_type = ListType::kSet;
  return rule;
}

FieldRule FieldRule::RetainKeys() {
  FieldRule rule;
  rule.retain_keys = true;
  return rule;
}

PatchSchema& PatchSchema::Add(std::string path, FieldRule rule) {
  rules_[std::move(path)] = std::move(rule);
  return *this;
}

PatchSchema& PatchSchema::AddAnyDepth(std::string field_name, FieldRule rule) {
  any_depth_rules_[std::move(field_name)] = std::move(rule);
  return *this;
}

PatchSchema& PatchSchema::SetStrategicMergeSupported(bool supported) {
  strategic_merge_supported_ = supported;
  return *this;
}

const FieldRule* PatchSchema::Find(std::string_view path) const {
  if (auto it = rules_.find(path); it != rules_.end()) return &it->second;
  if (any_depth_rules_.empty()) return nullptr;
  std::size_t dot = path.rfind('.');
  std::string_view name = dot == std::string_view::npos ? path : path.substr(dot + 1);
  if (auto it = any_depth_rules_.find(name); it != any_depth_rules_.end()) return &it->second;
  return nullptr;
}

namespace {

std::string Join(std::string_view prefix, std::string_view field) {
  return prefix.empty() ? std::string(field) : std::string(prefix) + "." + std::string(field);
}

// Ports of containers and services: SMP merges on one key, SSA keys on (port, protocol), with the
// protocol the server defaults to TCP.
FieldRule PortRule(std::string key) {
  FieldRule rule = FieldRule::MergeByKey(key);
  rule.list_map_keys = {std::move(key), "protocol"};
  rule.key_defaults["protocol"] = "TCP";
  return rule;
}

// ObjectMeta: finalizers (merge, +listType=set), ownerReferences (merge by uid, map by uid).
void AddObjectMeta(PatchSchema& schema, std::string_view metadata) {
  schema.Add(Join(metadata, "finalizers"), FieldRule::MergePrimitives());
  schema.Add(Join(metadata, "ownerReferences"), FieldRule::MergeByKey("uid"));
}

// Conditions merge by type (Pod, Node, Deployment, ... status.conditions).
void AddConditions(PatchSchema& schema, std::string_view status, bool apply_atomic = false) {
  FieldRule rule = FieldRule::MergeByKey("type");
  if (apply_atomic) rule.list_type = ListType::kAtomic;  // e.g. JobStatus: +listType=atomic.
  schema.Add(Join(status, "conditions"), std::move(rule));
}

// PodSpec at `spec` (no trailing dot). Tolerations and readinessGates have no patch strategy
// upstream and stay atomic.
void AddPodSpec(PatchSchema& schema, std::string_view spec) {
  for (std::string_view containers : {"containers", "initContainers", "ephemeralContainers"}) {
    std::string list = Join(spec, containers);
    schema.Add(list, FieldRule::MergeByKey("name"));
    std::string item = list + "[]";
    schema.Add(Join(item, "ports"), PortRule("containerPort"));
    schema.Add(Join(item, "env"), FieldRule::MergeByKey("name"));
    schema.Add(Join(item, "volumeMounts"), FieldRule::MergeByKey("mountPath"));
    schema.Add(Join(item, "volumeDevices"), FieldRule::MergeByKey("devicePath"));
  }
  FieldRule volumes = FieldRule::MergeByKey("name");
  volumes.retain_keys = true;  // patchStrategy:"merge,retainKeys"
  schema.Add(Join(spec, "volumes"), volumes);
  schema.Add(Join(spec, "resourceClaims"), volumes);
  schema.Add(Join(spec, "imagePullSecrets"), FieldRule::MergeByKey("name"));
  schema.Add(Join(spec, "hostAliases"), FieldRule::MergeByKey("ip"));
  schema.Add(Join(spec, "schedulingGates"), FieldRule::MergeByKey("name"));
  FieldRule spread = FieldRule::MergeByKey("topologyKey");
  spread.list_map_keys = {"topologyKey", "whenUnsatisfiable"};
  schema.Add(Join(spec, "topologySpreadConstraints"), spread);
}

// A pod template at `template` (metadata + spec).
void AddPodTemplate(PatchSchema& schema, std::string_view pod_template) {
  AddObjectMeta(schema, Join(pod_template, "metadata"));
  AddPodSpec(schema, Join(pod_template, "spec"));
}

struct Builtin {
  std::string_view group;
  std::string_view kind;
};

// Built-in kinds: strategic merge patch is allowed on these and only these.
constexpr std::array kBuiltins = {
    Builtin{"", "Binding"},
    Builtin{"", "ConfigMap"},
    Builtin{"", "Endpoints"},
    Builtin{"", "Event"},
    Builtin{"", "LimitRange"},
    Builtin{"", "Namespace"},
    Builtin{"", "Node"},
    Builtin{"", "PersistentVolume"},
    Builtin{"", "PersistentVolumeClaim"},
    Builtin{"", "Pod"},
    Builtin{"", "PodTemplate"},
    Builtin{"", "ReplicationController"},
    Builtin{"", "ResourceQuota"},
    Builtin{"", "Secret"},
    Builtin{"", "Service"},
    Builtin{"", "ServiceAccount"},
    Builtin{"apps", "ControllerRevision"},
    Builtin{"apps", "DaemonSet"},
    Builtin{"apps", "Deployment"},
    Builtin{"apps", "ReplicaSet"},
    Builtin{"apps", "StatefulSet"},
    Builtin{"batch", "CronJob"},
    Builtin{"batch", "Job"},
    Builtin{"autoscaling", "HorizontalPodAutoscaler"},
    Builtin{"coordination.k8s.io", "Lease"},
    Builtin{"discovery.k8s.io", "EndpointSlice"},
    Builtin{"events.k8s.io", "Event"},
    Builtin{"networking.k8s.io", "Ingress"},
    Builtin{"networking.k8s.io", "IngressClass"},
    Builtin{"networking.k8s.io", "NetworkPolicy"},
    Builtin{"node.k8s.io", "RuntimeClass"},
    Builtin{"policy", "PodDisruptionBudget"},
    Builtin{"rbac.authorization.k8s.io", "ClusterRole"},
    Builtin{"rbac.authorization.k8s.io", "ClusterRoleBinding"},
    Builtin{"rbac.authorization.k8s.io", "Role"},
    Builtin{"rbac.authorization.k8s.io", "RoleBinding"},
    Builtin{"scheduling.k8s.io", "PriorityClass"},
    Builtin{"storage.k8s.io", "CSIDriver"},
    Builtin{"storage.k8s.io", "CSINode"},
    Builtin{"storage.k8s.io", "StorageClass"},
    Builtin{"storage.k8s.io", "VolumeAttachment"},
    Builtin{"apiextensions.k8s.io", "CustomResourceDefinition"},
    Builtin{"admissionregistration.k8s.io", "MutatingWebhookConfiguration"},
    Builtin{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"},
    Builtin{"certificates.k8s.io", "CertificateSigningRequest"},
};

bool IsBuiltin(std::string_view group, std::string_view kind) {
  for (const Builtin& b : kBuiltins) {
    if (b.group == group && b.kind == kind) return true;
  }
  return false;
}

}  // namespace

PatchSchema ForKind(std::string_view group, std::string_view kind) {
  PatchSchema schema;
  AddObjectMeta(schema, "metadata");
  if (!IsBuiltin(group, kind)) {
    schema.SetStrategicMergeSupported(false);
    return schema;
  }
  const bool core = group.empty();
  const bool apps = group == "apps";
  if (core && kind == "Pod") {
    AddPodSpec(schema, "spec");
    AddConditions(schema, "status");
    schema.Add("status.podIPs", FieldRule::MergeByKey("ip"));
    schema.Add("status.hostIPs", FieldRule::MergeByKey("ip"));
  } else if (core && kind == "PodTemplate") {
    AddPodTemplate(schema, "template");
  } else if (core && kind == "Node") {
    schema.Add("spec.podCIDRs", FieldRule::MergePrimitives());  // taints: atomic upstream.
    AddConditions(schema, "status");
    schema.Add("status.addresses", FieldRule::MergeByKey("type"));
  } else if (core && kind == "Service") {
    schema.Add("spec.ports", PortRule("port"));
    AddConditions(schema, "status");
  } else if (core && kind == "ServiceAccount") {
    schema.Add("secrets", FieldRule::MergeByKey("name"));
  } else if (core && (kind == "ReplicationController" || kind == "PersistentVolumeClaim")) {
    if (kind == "ReplicationController") AddPodTemplate(schema, "spec.template");
    AddConditions(schema, "status");
  } else if (apps && (kind == "Deployment" || kind == "ReplicaSet" || kind == "DaemonSet" ||
                      kind == "StatefulSet")) {
    AddPodTemplate(schema, "spec.template");
    AddConditions(schema, "status");
    if (kind == "Deployment") schema.Add("spec.strategy", FieldRule::RetainKeys());
  } else if (group == "batch" && kind == "Job") {
    AddPodTemplate(schema, "spec.template");
    AddConditions(schema, "status", /*apply_atomic=*/true);
  } else if (group == "batch" && kind == "CronJob") {
    AddObjectMeta(schema, "spec.jobTemplate.metadata");
    AddPodTemplate(schema, "spec.jobTemplate.spec.template");
  } else if (kind == "PodDisruptionBudget" || kind == "HorizontalPodAutoscaler") {
    AddConditions(schema, "status");
  }
  return schema;
}

}  // namespace gpufleet::core
