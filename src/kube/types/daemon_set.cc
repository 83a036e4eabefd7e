#include "kube/types/daemon_set.h"

namespace gpufleet::kube {

using json = nlohmann::json;

Status Decode(const json& j, const core::JsonPath& path, RollingUpdateDaemonSet& out) {
  return FieldReader(j, path)
      .IntOrStr("maxUnavailable", out.max_unavailable)
      .IntOrStr("maxSurge", out.max_surge)
      .status();
}

json Encode(const RollingUpdateDaemonSet& v) {
  return FieldWriter()
      .IntOrStr("maxUnavailable", v.max_unavailable)
      .IntOrStr("maxSurge", v.max_surge)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, DaemonSetUpdateStrategy& out) {
  return FieldReader(j, path).Str("type", out.type).Obj("rollingUpdate", out.rolling_update).status();
}

json Encode(const DaemonSetUpdateStrategy& v) {
  return FieldWriter().Str("type", v.type).Obj("rollingUpdate", v.rolling_update).Take();
}

Status Decode(const json& j, const core::JsonPath& path, DaemonSetSpec& out) {
  return FieldReader(j, path)
      .Obj("selector", out.selector)
      .Obj("template", out.template_)
      .Obj("updateStrategy", out.update_strategy)
      .Int32("minReadySeconds", out.min_ready_seconds)
      .Int32("revisionHistoryLimit", out.revision_history_limit)
      .status();
}

json Encode(const DaemonSetSpec& v) {
  return FieldWriter()
      .Obj("selector", v.selector)
      .Always("template", Encode(v.template_))
      .Obj("updateStrategy", v.update_strategy)
      .Int("minReadySeconds", v.min_ready_seconds)
      .Int("revisionHistoryLimit", v.revision_history_limit)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, DaemonSetStatus& out) {
  return FieldReader(j, path)
      .Int32("currentNumberScheduled", out.current_number_scheduled)
      .Int32("numberMisscheduled", out.number_misscheduled)
      .Int32("desiredNumberScheduled", out.desired_number_scheduled)
      .Int32("numberReady", out.number_ready)
      .Int("observedGeneration", out.observed_generation)
      .Int32("updatedNumberScheduled", out.updated_number_scheduled)
      .Int32("numberAvailable", out.number_available)
      .Int32("numberUnavailable", out.number_unavailable)
      .status();
}

json Encode(const DaemonSetStatus& v) {
  return FieldWriter()
      .Always("currentNumberScheduled", v.current_number_scheduled)
      .Always("numberMisscheduled", v.number_misscheduled)
      .Always("desiredNumberScheduled", v.desired_number_scheduled)
      .Always("numberReady", v.number_ready)
      .Int("observedGeneration", v.observed_generation)
      .Int("updatedNumberScheduled", v.updated_number_scheduled)
      .Int("numberAvailable", v.number_available)
      .Int("numberUnavailable", v.number_unavailable)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, DaemonSet& out) {
  return FieldReader(j, path)
      .Obj("metadata", out.metadata)
      .Obj("spec", out.spec)
      .Obj("status", out.status)
      .status();
}

json Encode(const DaemonSet& v) {
  return FieldWriter()
      .Always("metadata", Encode(v.metadata))
      .Always("spec", Encode(v.spec))
      .Obj("status", v.status)
      .Take();
}

}  // namespace gpufleet::kube
