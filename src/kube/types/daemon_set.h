// apps/v1 DaemonSet as the provisioner reads it: its pod template is the per-node overhead
// Karpenter adds to every new node. Not complete (kComplete = false): write with Patch.
#pragma once

#include <optional>
#include <string>

#include "kube/types/meta.h"
#include "kube/types/pod.h"

namespace gpufleet::kube {

struct RollingUpdateDaemonSet {
  std::optional<IntOrString> max_unavailable;
  std::optional<IntOrString> max_surge;

  friend bool operator==(const RollingUpdateDaemonSet&, const RollingUpdateDaemonSet&) = default;
};

struct DaemonSetUpdateStrategy {
  std::string type;  // RollingUpdate | OnDelete
  std::optional<RollingUpdateDaemonSet> rolling_update;

  friend bool operator==(const DaemonSetUpdateStrategy&, const DaemonSetUpdateStrategy&) = default;
};

struct DaemonSetSpec {
  std::optional<LabelSelectorSpec> selector;
  PodTemplateSpec template_;  // "template"
  DaemonSetUpdateStrategy update_strategy;
  int32_t min_ready_seconds = 0;
  std::optional<int32_t> revision_history_limit;

  friend bool operator==(const DaemonSetSpec&, const DaemonSetSpec&) = default;
};

struct DaemonSetStatus {
  int32_t current_number_scheduled = 0;
  int32_t number_misscheduled = 0;
  int32_t desired_number_scheduled = 0;
  int32_t number_ready = 0;
  int64_t observed_generation = 0;
  int32_t updated_number_scheduled = 0;
  int32_t number_available = 0;
  int32_t number_unavailable = 0;

  friend bool operator==(const DaemonSetStatus&, const DaemonSetStatus&) = default;
};

struct DaemonSet {
  static constexpr std::string_view kApiVersion = "apps/v1";
  static constexpr std::string_view kKind = "DaemonSet";
  static constexpr bool kComplete = false;
  static Gvr Resource() { return {"apps", "v1", "daemonsets", true}; }

  ObjectMeta metadata;
  DaemonSetSpec spec;
  DaemonSetStatus status;

  friend bool operator==(const DaemonSet&, const DaemonSet&) = default;
};

Status Decode(const nlohmann::json& j, const core::JsonPath& path, RollingUpdateDaemonSet& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, DaemonSetUpdateStrategy& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, DaemonSetSpec& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, DaemonSetStatus& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, DaemonSet& out);
nlohmann::json Encode(const RollingUpdateDaemonSet& v);
nlohmann::json Encode(const DaemonSetUpdateStrategy& v);
nlohmann::json Encode(const DaemonSetSpec& v);
nlohmann::json Encode(const DaemonSetStatus& v);
nlohmann::json Encode(const DaemonSet& v);

}  // namespace gpufleet::kube
