// CreateFleet (type instant): every (launch template, override) pair is a candidate pool, ordered
// by the allocation strategy; capacity failures fall through to the next pool and are reported in
// errorSet, as EC2 does.
#include <algorithm>
#include <functional>

#include "cloud/ec2emu/service.h"

namespace gpufleet::cloud::ec2emu {

using nlohmann::json;

json Ec2Service::CreateFleet(const json& p) {
  const std::string fleet_type = p.contains("Type") ? StringParam(p, "Type") : "maintain";
  if (fleet_type != "instant") {
    throw ApiError{400, "Unsupported", "The emulator supports CreateFleet of Type instant only (got " + fleet_type + ")."};
  }
  auto configs = p.find("LaunchTemplateConfigs");
  if (configs == p.end()) throw MissingParameter("LaunchTemplateConfigs");
  if (!configs->is_array()) throw InvalidParameterValue("LaunchTemplateConfigs must be a list");
  auto target = p.find("TargetCapacitySpecification");
  if (target == p.end() || !target->contains("TotalTargetCapacity")) {
    throw MissingParameter("TargetCapacitySpecification.TotalTargetCapacity");
  }
  const long long total = IntParam(*target, "TotalTargetCapacity", 0);
  if (total < 1 || total > 1000) throw InvalidParameterValue("TotalTargetCapacity must be between 1 and 1000");
  const std::string capacity_type =
      target->contains("DefaultTargetCapacityType") ? StringParam(*target, "DefaultTargetCapacityType") : "on-demand";
  if (capacity_type != "on-demand" && capacity_type != "spot" && capacity_type != "capacity-block") {
    throw InvalidParameterValue("Value (" + capacity_type +
                                ") for parameter DefaultTargetCapacityType is invalid. Expected on-demand, spot or capacity-block.");
  }
  const std::string token = StringParam(p, "ClientToken");
  if (!token.empty()) {
    if (const json* record = store_->Get("idempotency", "fleet/" + token)) {
      if (record->value("hash", "") != ParamsHash(p)) {
        throw ApiError{400, "IdempotentParameterMismatch",
                       "Arguments on this idempotent request are inconsistent with arguments used in previous request(s)."};
      }
      return record->at("response");
    }
  }
  const json options = p.value(capacity_type == "spot" ? "SpotOptions" : "OnDemandOptions", json::object());
  const std::string strategy = options.contains("AllocationStrategy") ? StringParam(options, "AllocationStrategy")
                                                                      : "lowest-price";
  static const std::set<std::string, std::less<>> kStrategies = {
      "lowest-price", "prioritized", "price-capacity-optimized", "capacity-optimized", "capacity-optimized-prioritized",
      "diversified"};
  if (!kStrategies.contains(strategy)) {
    throw InvalidParameterValue("Value (" + strategy + ") for parameter AllocationStrategy is invalid.");
  }
  bool reservations_first = false;
  if (auto cro = options.find("CapacityReservationOptions"); cro != options.end() && cro->is_object()) {
    reservations_first = StringParam(*cro, "UsageStrategy") == "use-capacity-reservations-first";
  }

  // Every (template, override) pair is a candidate pool.
  struct Candidate {
    LaunchSpec spec;
    json lt_and_overrides;
    double price = 0;
    double priority = 1e18;
    size_t order = 0;
    bool reserved_first = false;
  };
  std::vector<Candidate> candidates;
  for (const auto& config : *configs) {
    if (!config.is_object() || !config.contains("LaunchTemplateSpecification")) {
      throw MissingParameter("LaunchTemplateConfigs.N.LaunchTemplateSpecification");
    }
    LaunchSpec base;
    std::string lt_id;
    ApplyLaunchTemplate(config["LaunchTemplateSpecification"], base, &lt_id);
    if (capacity_type != "on-demand") base.capacity_type = capacity_type;
    const std::string version = config["LaunchTemplateSpecification"].contains("Version")
                                    ? StringParam(config["LaunchTemplateSpecification"], "Version") : "1";
    json overrides = config.value("Overrides", json::array({json::object()}));
    if (!overrides.is_array()) throw InvalidParameterValue("LaunchTemplateConfigs.N.Overrides must be a list");
    for (const auto& o : overrides) {
      Candidate c{.spec = base};
      if (auto v = StringParam(o, "InstanceType"); !v.empty()) c.spec.instance_type = v;
      if (auto v = StringParam(o, "SubnetId"); !v.empty()) c.spec.subnet_id = v;
      if (auto v = StringParam(o, "AvailabilityZone"); !v.empty()) c.spec.zone = v;
      if (auto v = StringParam(o, "ImageId"); !v.empty()) c.spec.image_id = v;
      if (o.contains("Priority")) {
        try {
          c.priority = std::stod(StringParam(o, "Priority"));
        } catch (...) {
          throw InvalidParameterValue("Priority must be a number");
        }
      }
      if (c.spec.subnet_id.empty() == false) {
        if (const json* s = store_->Get("subnet", c.spec.subnet_id)) c.spec.zone = s->value("availabilityZone", c.spec.zone);
      }
      const CatalogType* type = catalog_.Find(c.spec.instance_type);
      c.price = type == nullptr ? 1e18
                : capacity_type == "spot" ? catalog_.SpotPrice(*type, c.spec.zone.empty() ? catalog_.zones().front() : c.spec.zone)
                                          : type->on_demand_price;
      json ov = json::object();
      for (const char* key : {"InstanceType", "SubnetId", "AvailabilityZone", "ImageId", "Priority"}) {
        if (o.contains(key)) ov[std::string(1, char(std::tolower(key[0]))) + (key + 1)] = o[key];
      }
      if (!ov.contains("availabilityZone") && !c.spec.zone.empty()) ov["availabilityZone"] = c.spec.zone;
      c.lt_and_overrides = {{"launchTemplateSpecification", {{"launchTemplateId", lt_id}, {"version", version}}},
                            {"overrides", ov}};
      c.order = candidates.size();
      std::map<std::string, json> none;
      c.reserved_first = reservations_first && c.spec.reservation_id.empty() &&
                         !OpenReservationFor(c.spec.instance_type, c.spec.zone, none).empty();
      candidates.push_back(std::move(c));
    }
  }
  const bool prioritized = strategy == "prioritized" || strategy == "capacity-optimized-prioritized";
  std::stable_sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
    if (a.reserved_first != b.reserved_first) return a.reserved_first;
    if (prioritized && a.priority != b.priority) return a.priority < b.priority;
    if (a.price != b.price) return a.price < b.price;
    return a.order < b.order;
  });

  const std::string fleet_id = "fleet-" + NewRequestId();
  json fleet_tags = TagsFor(p, "fleet");
  std::vector<Change> changes;
  std::map<std::string, json> touched;
  std::map<size_t, json> launched;  // candidate index -> fleetInstanceSet entry
  json errors = json::array();
  std::set<size_t> failed;
  for (long long unit = 0; unit < total; ++unit) {
    bool placed = false;
    for (size_t i = 0; i < candidates.size() && !placed; ++i) {
      if (failed.contains(i)) continue;
      LaunchSpec spec = candidates[i].spec;
      spec.client_token = token.empty() ? "" : token + "-" + std::to_string(unit);
      if (candidates[i].reserved_first) spec.reservation_preference = "open";
      if (capacity_type == "on-demand" && !candidates[i].reserved_first && spec.reservation_id.empty() &&
          spec.reservation_preference == "open") {
        spec.reservation_preference = "none";  // fleets use reservations only when told to
      }
      for (const auto& tag : TagsFor(p, "instance")) spec.tags.push_back(tag);
      spec.tags.push_back({{"key", "aws:ec2:fleet-id"}, {"value", fleet_id}});
      spec.reservation_group = NewId("r");
      try {
        json instance = LaunchOne(std::move(spec), *faults_, changes, touched);
        json& entry = launched[i];
        if (entry.is_null()) {
          entry = {{"launchTemplateAndOverrides", candidates[i].lt_and_overrides},
                   {"lifecycle", capacity_type == "spot" ? "spot" : "on-demand"},
                   {"instanceIds", json::array()},
                   {"instanceType", candidates[i].spec.instance_type},
                   {"platform", "Linux/UNIX"}};
        }
        entry["instanceIds"].push_back(instance["instanceId"]);
        placed = true;
      } catch (const ApiError& e) {
        failed.insert(i);
        errors.push_back({{"launchTemplateAndOverrides", candidates[i].lt_and_overrides},
                          {"lifecycle", capacity_type == "spot" ? "spot" : "on-demand"},
                          {"errorCode", e.code},
                          {"errorMessage", e.message}});
      }
    }
    if (!placed) break;
  }
  json instances = json::array();
  for (auto& [i, entry] : launched) instances.push_back(std::move(entry));
  for (auto& [key, value] : touched) {
    const size_t slash = key.find('/');
    changes.push_back({key.substr(0, slash), key.substr(slash + 1), value});
  }
  json response = {{"fleetId", fleet_id}, {"errorSet", errors}, {"fleetInstanceSet", instances}};
  changes.push_back({"fleet", fleet_id, json{{"fleetId", fleet_id}, {"type", "instant"}, {"tagSet", fleet_tags},
                                             {"createTime", Ec2Time(clock_.Now())}}});
  if (!token.empty()) changes.push_back({"idempotency", "fleet/" + token, json{{"hash", ParamsHash(p)}, {"response", response}}});
  CommitOrThrow(changes);
  return response;
}

}  // namespace gpufleet::cloud::ec2emu
