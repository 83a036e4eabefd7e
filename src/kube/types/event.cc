#include "kube/types/event.h"

namespace gpufleet::kube {

using json = nlohmann::json;

Status Decode(const json& j, const core::JsonPath& path, ObjectReference& out) {
  return FieldReader(j, path)
      .Str("kind", out.kind)
      .Str("namespace", out.ns)
      .Str("name", out.name)
      .Str("uid", out.uid)
      .Str("apiVersion", out.api_version)
      .Str("resourceVersion", out.resource_version)
      .Str("fieldPath", out.field_path)
      .status();
}

json Encode(const ObjectReference& v) {
  return FieldWriter()
      .Str("kind", v.kind)
      .Str("namespace", v.ns)
      .Str("name", v.name)
      .Str("uid", v.uid)
      .Str("apiVersion", v.api_version)
      .Str("resourceVersion", v.resource_version)
      .Str("fieldPath", v.field_path)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, EventSource& out) {
  return FieldReader(j, path).Str("component", out.component).Str("host", out.host).status();
}

json Encode(const EventSource& v) {
  return FieldWriter().Str("component", v.component).Str("host", v.host).Take();
}

Status Decode(const json& j, const core::JsonPath& path, EventSeries& out) {
  return FieldReader(j, path)
      .Int32("count", out.count)
      .Str("lastObservedTime", out.last_observed_time)
      .status();
}

json Encode(const EventSeries& v) {
  return FieldWriter().Int("count", v.count).Str("lastObservedTime", v.last_observed_time).Take();
}

Status Decode(const json& j, const core::JsonPath& path, Event& out) {
  return FieldReader(j, path)
      .Obj("metadata", out.metadata)
      .Obj("involvedObject", out.involved_object)
      .Str("reason", out.reason)
      .Str("message", out.message)
      .Obj("source", out.source)
      .Str("firstTimestamp", out.first_timestamp)
      .Str("lastTimestamp", out.last_timestamp)
      .Int32("count", out.count)
      .Str("type", out.type)
      .Str("eventTime", out.event_time)
      .Obj("series", out.series)
      .Str("action", out.action)
      .Obj("related", out.related)
      .Str("reportingComponent", out.reporting_component)
      .Str("reportingInstance", out.reporting_instance)
      .status();
}

json Encode(const Event& v) {
  return FieldWriter()
      .Always("metadata", Encode(v.metadata))
      .Always("involvedObject", Encode(v.involved_object))
      .Str("reason", v.reason)
      .Str("message", v.message)
      .Obj("source", v.source)
      .Str("firstTimestamp", v.first_timestamp)
      .Str("lastTimestamp", v.last_timestamp)
      .Int("count", v.count)
      .Str("type", v.type)
      .Str("eventTime", v.event_time)
      .Obj("series", v.series)
      .Str("action", v.action)
      .Obj("related", v.related)
      .Str("reportingComponent", v.reporting_component)
      .Str("reportingInstance", v.reporting_instance)
      .Take();
}

}  // namespace gpufleet::kube
