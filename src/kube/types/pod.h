// core/v1 Pod as controllers and the scheduler read it: everything scheduling decides on
// (requests and limits of every container kind, overhead, node selector and affinity,
// tolerations, topology spread, host ports, volumes' claims, priority) plus phase and
// conditions. Not complete (kComplete = false): write pods with Patch, Evict or Bind.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/resource_list.h"
#include "core/taints.h"
#include "core/node_selector.h"
#include "kube/types/meta.h"

namespace gpufleet::kube {

struct ContainerPort {
  core::InternedString name;
  int32_t container_port = 0;
  int32_t host_port = 0;
  core::InternedString protocol;  // "" means TCP
  core::InternedString host_ip;

  friend bool operator==(const ContainerPort&, const ContainerPort&) = default;
};

struct ResourceRequirements {
  core::ResourceList requests;
  core::ResourceList limits;

  friend bool operator==(const ResourceRequirements&, const ResourceRequirements&) = default;
};

struct Container {
  core::InternedString name;
  core::InternedString image;
  ResourceRequirements resources;
  std::vector<ContainerPort> ports;
  // "Always" on an init container makes it a sidecar (runs for the pod's life).
  std::optional<core::InternedString> restart_policy;

  friend bool operator==(const Container&, const Container&) = default;
};

struct PreferredSchedulingTerm {
  int32_t weight = 0;
  core::NodeSelectorTerm preference;

  friend bool operator==(const PreferredSchedulingTerm&, const PreferredSchedulingTerm&) = default;
};

struct NodeAffinity {
  std::optional<core::NodeSelector> required;  // requiredDuringSchedulingIgnoredDuringExecution
  std::vector<PreferredSchedulingTerm> preferred;

  friend bool operator==(const NodeAffinity&, const NodeAffinity&) = default;
};

struct PodAffinityTerm {
  std::optional<LabelSelectorSpec> label_selector;
  std::vector<core::InternedString> namespaces;
  core::InternedString topology_key;
  std::optional<LabelSelectorSpec> namespace_selector;
  std::vector<core::InternedString> match_label_keys;
  std::vector<core::InternedString> mismatch_label_keys;

  friend bool operator==(const PodAffinityTerm&, const PodAffinityTerm&) = default;
};

struct WeightedPodAffinityTerm {
  int32_t weight = 0;
  PodAffinityTerm term;  // podAffinityTerm

  friend bool operator==(const WeightedPodAffinityTerm&, const WeightedPodAffinityTerm&) = default;
};

// Used for both podAffinity and podAntiAffinity.
struct PodAffinity {
  std::vector<PodAffinityTerm> required;
  std::vector<WeightedPodAffinityTerm> preferred;

  friend bool operator==(const PodAffinity&, const PodAffinity&) = default;
};

struct Affinity {
  std::optional<NodeAffinity> node_affinity;
  std::optional<PodAffinity> pod_affinity;
  std::optional<PodAffinity> pod_anti_affinity;

  friend bool operator==(const Affinity&, const Affinity&) = default;
};

struct TopologySpreadConstraint {
  int32_t max_skew = 0;
  core::InternedString topology_key;
  core::InternedString when_unsatisfiable;  // DoNotSchedule | ScheduleAnyway
  std::optional<LabelSelectorSpec> label_selector;
  std::optional<int32_t> min_domains;
  std::optional<core::InternedString> node_affinity_policy;  // Honor | Ignore
  std::optional<core::InternedString> node_taints_policy;
  std::vector<core::InternedString> match_label_keys;

  friend bool operator==(const TopologySpreadConstraint&, const TopologySpreadConstraint&) = default;
};

// A volume, reduced to what placement depends on.
struct Volume {
  core::InternedString name;
  std::optional<core::InternedString> claim_name;  // persistentVolumeClaim.claimName
  bool ephemeral = false;                 // a generic ephemeral volume (a PVC made per pod)

  friend bool operator==(const Volume&, const Volume&) = default;
};

// Strings that recur across pods (node names, images, scheduler, policies) are interned; the
// pod's own name, uid and timestamps are not.
struct PodSpec {
  core::InternedString node_name;
  core::InternedString scheduler_name;
  core::InternedString service_account_name;
  core::InternedString priority_class_name;
  std::optional<int32_t> priority;
  std::optional<core::InternedString> preemption_policy;
  std::optional<core::InternedString> runtime_class_name;
  core::InternedString restart_policy;
  std::optional<int64_t> termination_grace_period_seconds;
  bool host_network = false;
  core::Labels node_selector;
  std::optional<Affinity> affinity;
  std::vector<core::Toleration> tolerations;
  std::vector<TopologySpreadConstraint> topology_spread_constraints;
  std::vector<Container> init_containers;
  std::vector<Container> containers;
  core::ResourceList overhead;
  std::vector<Volume> volumes;

  friend bool operator==(const PodSpec&, const PodSpec&) = default;
};

struct PodCondition {
  core::InternedString type;    // PodScheduled, Ready, ...
  core::InternedString status;  // True | False | Unknown
  core::InternedString reason;  // e.g. Unschedulable
  core::InternedString message;
  std::string last_transition_time;

  friend bool operator==(const PodCondition&, const PodCondition&) = default;
};

struct PodStatus {
  core::InternedString phase;  // Pending | Running | Succeeded | Failed | Unknown
  std::vector<PodCondition> conditions;
  core::InternedString nominated_node_name;
  core::InternedString host_ip;
  std::string pod_ip;
  std::string start_time;
  core::InternedString reason;

  friend bool operator==(const PodStatus&, const PodStatus&) = default;
};

struct PodTemplateSpec {
  ObjectMeta metadata;
  PodSpec spec;

  friend bool operator==(const PodTemplateSpec&, const PodTemplateSpec&) = default;
};

struct Pod {
  static constexpr std::string_view kApiVersion = "v1";
  static constexpr std::string_view kKind = "Pod";
  static constexpr bool kComplete = false;
  static Gvr Resource() { return {"", "v1", "pods", true}; }

  ObjectMeta metadata;
  PodSpec spec;
  PodStatus status;

  // The condition of `type`, or nullptr.
  const PodCondition* FindCondition(std::string_view type) const;
  // Succeeded or Failed: holds no resources any more.
  bool IsTerminal() const { return status.phase == "Succeeded" || status.phase == "Failed"; }

  friend bool operator==(const Pod&, const Pod&) = default;
};

Status Decode(const nlohmann::json& j, const core::JsonPath& path, ContainerPort& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, ResourceRequirements& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, Container& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, PreferredSchedulingTerm& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeAffinity& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, PodAffinityTerm& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, WeightedPodAffinityTerm& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, PodAffinity& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, Affinity& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, TopologySpreadConstraint& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, Volume& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, PodSpec& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, PodCondition& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, PodStatus& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, PodTemplateSpec& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, Pod& out);
nlohmann::json Encode(const ContainerPort& v);
nlohmann::json Encode(const ResourceRequirements& v);
nlohmann::json Encode(const Container& v);
nlohmann::json Encode(const PreferredSchedulingTerm& v);
nlohmann::json Encode(const NodeAffinity& v);
nlohmann::json Encode(const PodAffinityTerm& v);
nlohmann::json Encode(const WeightedPodAffinityTerm& v);
nlohmann::json Encode(const PodAffinity& v);
nlohmann::json Encode(const Affinity& v);
nlohmann::json Encode(const TopologySpreadConstraint& v);
nlohmann::json Encode(const Volume& v);
nlohmann::json Encode(const PodSpec& v);
nlohmann::json Encode(const PodCondition& v);
nlohmann::json Encode(const PodStatus& v);
nlohmann::json Encode(const PodTemplateSpec& v);
nlohmann::json Encode(const Pod& v);

}  // namespace gpufleet::kube
