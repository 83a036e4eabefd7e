// policy/v1 PodDisruptionBudget, complete: drain and disruption decide with it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "kube/types/meta.h"

namespace gpufleet::kube {

struct PodDisruptionBudgetSpec {
  std::optional<IntOrString> min_available;
  std::optional<LabelSelectorSpec> selector;  // absent selects no pods
  std::optional<IntOrString> max_unavailable;
  std::optional<std::string> unhealthy_pod_eviction_policy;  // IfHealthyBudget | AlwaysAllow

  friend bool operator==(const PodDisruptionBudgetSpec&, const PodDisruptionBudgetSpec&) = default;
};

struct PodDisruptionBudgetStatus {
  int64_t observed_generation = 0;
  core::Labels disrupted_pods;  // pod name -> time the eviction was admitted
  int32_t disruptions_allowed = 0;
  int32_t current_healthy = 0;
  int32_t desired_healthy = 0;
  int32_t expected_pods = 0;
  std::vector<Condition> conditions;

  friend bool operator==(const PodDisruptionBudgetStatus&, const PodDisruptionBudgetStatus&) = default;
};

struct PodDisruptionBudget {
  static constexpr std::string_view kApiVersion = "policy/v1";
  static constexpr std::string_view kKind = "PodDisruptionBudget";
  static constexpr bool kComplete = true;
  static Gvr Resource() { return {"policy", "v1", "poddisruptionbudgets", true}; }

  ObjectMeta metadata;
  PodDisruptionBudgetSpec spec;
  std::optional<PodDisruptionBudgetStatus> status;

  friend bool operator==(const PodDisruptionBudget&, const PodDisruptionBudget&) = default;
};

Status Decode(const nlohmann::json& j, const core::JsonPath& path, PodDisruptionBudgetSpec& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, PodDisruptionBudgetStatus& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, PodDisruptionBudget& out);
nlohmann::json Encode(const PodDisruptionBudgetSpec& v);
nlohmann::json Encode(const PodDisruptionBudgetStatus& v);
nlohmann::json Encode(const PodDisruptionBudget& v);

}  // namespace gpufleet::kube
