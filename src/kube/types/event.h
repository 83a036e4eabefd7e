// core/v1 Event, complete (the event recorder creates and patches them).
#pragma once

#include <optional>
#include <string>

#include "kube/types/meta.h"

namespace gpufleet::kube {

// core/v1 ObjectReference.
struct ObjectReference {
  std::string kind;
  std::string ns;  // namespace
  std::string name;
  std::string uid;
  std::string api_version;
  std::string resource_version;
  std::string field_path;

  friend bool operator==(const ObjectReference&, const ObjectReference&) = default;
};

struct EventSource {
  std::string component;
  std::string host;

  friend bool operator==(const EventSource&, const EventSource&) = default;
};

struct EventSeries {
  int32_t count = 0;
  std::string last_observed_time;  // MicroTime

  friend bool operator==(const EventSeries&, const EventSeries&) = default;
};

struct Event {
  static constexpr std::string_view kApiVersion = "v1";
  static constexpr std::string_view kKind = "Event";
  static constexpr bool kComplete = true;
  static Gvr Resource() { return {"", "v1", "events", true}; }

  ObjectMeta metadata;
  ObjectReference involved_object;
  std::string reason;
  std::string message;
  EventSource source;
  std::optional<std::string> first_timestamp;
  std::optional<std::string> last_timestamp;
  int32_t count = 0;
  std::string type;  // Normal | Warning
  std::optional<std::string> event_time;  // MicroTime
  std::optional<EventSeries> series;
  std::string action;
  std::optional<ObjectReference> related;
  std::string reporting_component;
  std::string reporting_instance;

  friend bool operator==(const Event&, const Event&) = default;
};

Status Decode(const nlohmann::json& j, const core::JsonPath& path, ObjectReference& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, EventSource& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, EventSeries& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, Event& out);
nlohmann::json Encode(const ObjectReference& v);
nlohmann::json Encode(const EventSource& v);
nlohmann::json Encode(const EventSeries& v);
nlohmann::json Encode(const Event& v);

}  // namespace gpufleet::kube
