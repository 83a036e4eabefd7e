#include "cloud/ec2emu/faults.h"

#include "core/time_format.h"
#include "core/yaml.h"

namespace gpufleet::cloud::ec2emu {

namespace {

using nlohmann::json;

Result<std::string> OptionalString(const json& object, const char* key, std::string_view where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgumentError(std::string(where) + "." + key + ": expected a string");
  return it->get<std::string>();
}

Result<int> Count(const json& object, const char* key, std::string_view where) {
  auto it = object.find(key);
  if (it == object.end()) return 0;
  if (!it->is_number_integer() || it->get<long long>() < 0 || it->get<long long>() > 1'000'000) {
    return InvalidArgumentError(std::string(where) + "." + key + ": expected a count from 0 to 1000000");
  }
  return int(it->get<long long>());
}

}  // namespace

bool CapacityPool::Matches(std::string_view type, std::string_view z, std::string_view capacity) const {
  return (instance_type.empty() || instance_type == type) && (zone.empty() || zone == z) &&
         (capacity_type.empty() || capacity_type == capacity);
}

bool FaultConfig::InsufficientCapacity(std::string_view type, std::string_view zone, std::string_view capacity) const {
  for (const auto& pool : insufficient_capacity) {
    if (pool.Matches(type, zone, capacity)) return true;
  }
  return false;
}

Result<FaultConfig> ParseFaultConfig(std::string_view text, std::string_view source) {
  const std::string where(source);
  auto parsed = core::YamlToJsonSingle(text);
  if (!parsed.ok()) return InvalidArgumentError(where + ": " + std::string(parsed.status().message()));
  const json& doc = *parsed;
  FaultConfig config;
  if (doc.is_null()) return config;
  if (!doc.is_object()) return InvalidArgumentError(where + ": expected a mapping");
  static const std::set<std::string, std::less<>> kKnown = {"insufficientCapacity", "throttle", "serverErrors",
                                                            "latency", "actions"};
  for (auto it = doc.begin(); it != doc.end(); ++it) {
    if (!kKnown.contains(it.key())) {
      return InvalidArgumentError(where + ": unknown field \"" + it.key() +
                                  "\" (known: insufficientCapacity, throttle, serverErrors, latency, actions)");
    }
  }
  if (auto ice = doc.find("insufficientCapacity"); ice != doc.end()) {
    if (!ice->is_array()) return InvalidArgumentError(where + ".insufficientCapacity: expected a list");
    for (size_t i = 0; i < ice->size(); ++i) {
      const json& pool = (*ice)[i];
      const std::string at = where + ".insufficientCapacity[" + std::to_string(i) + "]";
      if (!pool.is_object()) return InvalidArgumentError(at + ": expected a mapping");
      CapacityPool p;
      GF_ASSIGN_OR_RETURN(p.instance_type, OptionalString(pool, "instanceType", at));
      GF_ASSIGN_OR_RETURN(p.zone, OptionalString(pool, "zone", at));
      GF_ASSIGN_OR_RETURN(p.capacity_type, OptionalString(pool, "capacityType", at));
      if (!p.capacity_type.empty() && p.capacity_type != "on-demand" && p.capacity_type != "spot" &&
          p.capacity_type != "reserved" && p.capacity_type != "capacity-block") {
        return InvalidArgumentError(at + ".capacityType: \"" + p.capacity_type +
                                    "\" is not on-demand, spot, reserved or capacity-block");
      }
      config.insufficient_capacity.push_back(std::move(p));
    }
  }
  if (auto t = doc.find("throttle"); t != doc.end()) {
    if (!t->is_object()) return InvalidArgumentError(where + ".throttle: expected a mapping with next or every");
    GF_ASSIGN_OR_RETURN(config.throttle_next, Count(*t, "next", where + ".throttle"));
    GF_ASSIGN_OR_RETURN(config.throttle_every, Count(*t, "every", where + ".throttle"));
  }
  if (auto e = doc.find("serverErrors"); e != doc.end()) {
    if (!e->is_object()) return InvalidArgumentError(where + ".serverErrors: expected a mapping with next");
    GF_ASSIGN_OR_RETURN(config.server_errors_next, Count(*e, "next", where + ".serverErrors"));
  }
  if (auto l = doc.find("latency"); l != doc.end()) {
    if (!l->is_string()) return InvalidArgumentError(where + ".latency: expected a duration such as 250ms");
    auto d = core::ParseGoDuration(l->get<std::string>());
    if (!d.ok() || d->count() < 0) return InvalidArgumentError(where + ".latency: \"" + l->get<std::string>() + "\" is not a duration such as 250ms");
    config.latency = std::chrono::duration_cast<std::chrono::milliseconds>(*d);
  }
  if (auto a = doc.find("actions"); a != doc.end()) {
    if (!a->is_array()) return InvalidArgumentError(where + ".actions: expected a list of action names");
    for (const auto& name : *a) {
      if (!name.is_string()) return InvalidArgumentError(where + ".actions: expected action names");
      config.actions.insert(name.get<std::string>());
    }
  }
  return config;
}

}  // namespace gpufleet::cloud::ec2emu
