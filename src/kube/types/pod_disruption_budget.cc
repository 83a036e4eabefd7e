#include "kube/types/pod_disruption_budget.h"

namespace gpufleet::kube {

using json = nlohmann::json;

Status Decode(const json& j, const core::JsonPath& path, PodDisruptionBudgetSpec& out) {
  return FieldReader(j, path)
      .IntOrStr("minAvailable", out.min_available)
      .Obj("selector", out.selector)
      .IntOrStr("maxUnavailable", out.max_unavailable)
      .Str("unhealthyPodEvictionPolicy", out.unhealthy_pod_eviction_policy)
      .status();
}

json Encode(const PodDisruptionBudgetSpec& v) {
  return FieldWriter()
      .IntOrStr("minAvailable", v.min_available)
      .Obj("selector", v.selector)
      .IntOrStr("maxUnavailable", v.max_unavailable)
      .Str("unhealthyPodEvictionPolicy", v.unhealthy_pod_eviction_policy)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, PodDisruptionBudgetStatus& out) {
  return FieldReader(j, path)
      .Int("observedGeneration", out.observed_generation)
      .StrMap("disruptedPods", out.disrupted_pods)
      .Int32("disruptionsAllowed", out.disruptions_allowed)
      .Int32("currentHealthy", out.current_healthy)
      .Int32("desiredHealthy", out.desired_healthy)
      .Int32("expectedPods", out.expected_pods)
      .List("conditions", out.conditions)
      .status();
}

json Encode(const PodDisruptionBudgetStatus& v) {
  return FieldWriter()
      .Int("observedGeneration", v.observed_generation)
      .StrMap("disruptedPods", v.disrupted_pods)
      .Always("disruptionsAllowed", v.disruptions_allowed)
      .Always("currentHealthy", v.current_healthy)
      .Always("desiredHealthy", v.desired_healthy)
      .Always("expectedPods", v.expected_pods)
      .List("conditions", v.conditions)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, PodDisruptionBudget& out) {
  return FieldReader(j, path)
      .Obj("metadata", out.metadata)
      .Obj("spec", out.spec)
      .Obj("status", out.status)
      .status();
}

json Encode(const PodDisruptionBudget& v) {
  return FieldWriter()
      .Always("metadata", Encode(v.metadata))
      .Always("spec", Encode(v.spec))
      .Obj("status", v.status)
      .Take();
}

}  // namespace gpufleet::kube
