// RunInstances, CreateFleet (instant), DescribeInstances, TerminateInstances: launching against
// capacity (fault-injected insufficient capacity, reservations, subnet addresses) and the
// instance lifecycle the boot hook follows.
#include <algorithm>
#include <functional>

#include "cloud/ec2emu/filters.h"
#include "cloud/ec2emu/service.h"

namespace gpufleet::cloud::ec2emu {

using nlohmann::json;

namespace {

int64_t EpochMs(core::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}


const FilterFields& InstanceFields() {
  static const FilterFields kFields = {
      {"instance-id", Field("instanceId")},
      {"instance-state-name", Field("instanceState.name")},
      {"instance-state-code", Field("instanceState.code")},
      {"instance-type", Field("instanceType")},
      {"availability-zone", Field("placement.availabilityZone")},
      {"subnet-id", Field("subnetId")},
      {"vpc-id", Field("vpcId")},
      {"image-id", Field("imageId")},
      {"client-token", Field("clientToken")},
      {"instance-lifecycle", Field("instanceLifecycle")},
      {"capacity-reservation-id", Field("capacityReservationId")},
      {"private-ip-address", Field("privateIpAddress")},
      {"private-dns-name", Field("privateDnsName")},
      {"reservation-id", Field("_reservationId")},
      {"architecture", Field("architecture")},
  };
  return kFields;
}

void CheckInstanceId(const std::string& id) {
  if (id.rfind("i-", 0) != 0 || (id.size() != 10 && id.size() != 19) ||
      id.find_first_not_of("0123456789abcdef", 2) != std::string::npos) {
    throw ApiError{400, "InvalidInstanceID.Malformed", "Invalid id: \"" + id + "\""};
  }
}

}  // namespace

const json& Ec2Service::Subnet(std::string_view id) const {
  const json* subnet = store_->Get("subnet", id);
  if (subnet == nullptr) throw ApiError{400, "InvalidSubnetID.NotFound", "The subnet ID '" + std::string(id) + "' does not exist"};
  return *subnet;
}

std::string Ec2Service::DefaultSubnet(std::string_view zone) const {
  // The first zone's subnet when no zone is asked for, as a default VPC launch lands in one AZ.
  const std::string_view want = zone.empty() ? std::string_view(catalog_.zones().front()) : zone;
  for (const auto& [id, subnet] : store_->All("subnet")) {
    if (subnet.value("availabilityZone", "") == want) return id;
  }
  throw ApiError{400, "MissingInput", "No subnets found for the default VPC" +
                                          (zone.empty() ? std::string() : " in " + std::string(zone)) +
                                          ". Please specify a subnet."};
}

std::string Ec2Service::OpenReservationFor(std::string_view type, std::string_view zone,
                                           const std::map<std::string, json>& touched) const {
  for (const auto& [id, stored] : store_->All("capacity-reservation")) {
    auto t = touched.find("capacity-reservation/" + id);
    const json& cr = t == touched.end() ? stored : t->second;
    if (cr.value("state", "") == "active" && cr.value("instanceMatchCriteria", "") == "open" &&
        cr.value("instanceType", "") == type && cr.value("availabilityZone", "") == zone &&
        cr.value("availableInstanceCount", 0) > 0 && cr.value("reservationType", "default") == "default") {
      return id;
    }
  }
  return "";
}

json Ec2Service::LaunchOne(LaunchSpec spec, const FaultConfig& faults, std::vector<Change>& changes,
                           std::map<std::string, json>& touched) {
  const CatalogType* type = catalog_.Find(spec.instance_type);
  if (spec.instance_type.empty()) throw MissingParameter("InstanceType");
  if (type == nullptr) {
    throw InvalidParameterValue("Invalid value '" + spec.instance_type + "' for InstanceType.");
  }
  if (spec.image_id.empty()) throw MissingParameter("ImageId");
  const json* image = store_->Get("image", spec.image_id);
  if (image == nullptr) throw ApiError{400, "InvalidAMIID.NotFound", "The image id '[" + spec.image_id + "]' does not exist"};
  if (image->value("architecture", "") != type->arch) {
    throw InvalidParameterValue("The architecture '" + type->arch + "' of the specified instance type does not match the architecture '" +
                                image->value("architecture", "") + "' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.");
  }
  if (spec.subnet_id.empty()) spec.subnet_id = DefaultSubnet(spec.zone);
  auto subnet_key = "subnet/" + spec.subnet_id;
  if (!touched.contains(subnet_key)) touched[subnet_key] = Subnet(spec.subnet_id);
  json& subnet = touched[subnet_key];
  const std::string subnet_zone = subnet.value("availabilityZone", "");
  if (!spec.zone.empty() && spec.zone != subnet_zone) {
    throw InvalidParameterValue("The subnet '" + spec.subnet_id + "' is in " + subnet_zone + ", not in " + spec.zone + ".");
  }
  spec.zone = subnet_zone;
  for (const auto& sg : spec.security_group_ids) {
    if (store_->Get("security-group", sg) == nullptr) {
      throw ApiError{400, "InvalidGroup.NotFound", "The security group '" + sg + "' does not exist"};
    }
  }

  // Capacity: a named reservation, an open one the launch may use, or the pool itself.
  std::string reservation = spec.reservation_id;
  if (reservation.empty() && spec.capacity_type == "on-demand" && spec.reservation_preference == "open") {
    reservation = OpenReservationFor(spec.instance_type, spec.zone, touched);
  }
  if (reservation.empty() && spec.reservation_preference == "capacity-reservations-only") {
    reservation = OpenReservationFor(spec.instance_type, spec.zone, touched);
    if (reservation.empty()) {
      throw ApiError{400, "ReservationCapacityExceeded",
                     "There is no open capacity reservation with free capacity for " + spec.instance_type + " in " + spec.zone + "."};
    }
  }
  std::string pool_capacity = spec.capacity_type;
  json* cr = nullptr;
  if (!reservation.empty()) {
    auto cr_key = "capacity-reservation/" + reservation;
    if (!touched.contains(cr_key)) {
      const json* stored = store_->Get("capacity-reservation", reservation);
      if (stored == nullptr) {
        throw ApiError{400, "InvalidCapacityReservationId.NotFound",
                       "The capacity reservation ID '" + reservation + "' does not exist"};
      }
      touched[cr_key] = *stored;
    }
    cr = &touched[cr_key];
    if (cr->value("state", "") != "active") {
      throw ApiError{400, "InvalidCapacityReservationId.Unavailable",
                     "The capacity reservation '" + reservation + "' is " + cr->value("state", "") + "."};
    }
    if (cr->value("instanceType", "") != spec.instance_type || cr->value("availabilityZone", "") != spec.zone) {
      throw ApiError{400, "InvalidParameterCombination",
                     "The capacity reservation '" + reservation + "' is for " + cr->value("instanceType", "") + " in " +
                         cr->value("availabilityZone", "") + ", not " + spec.instance_type + " in " + spec.zone + "."};
    }
    const bool block = cr->value("reservationType", "default") == "capacity-block";
    if (block != (spec.capacity_type == "capacity-block")) {
      throw ApiError{400, "InvalidParameterCombination",
                     block ? "Capacity Blocks are launched with MarketType capacity-block."
                           : "MarketType capacity-block needs a capacity block reservation."};
    }
    if (spec.capacity_type == "spot") {
      throw ApiError{400, "InvalidParameterCombination", "Spot Instances cannot be launched into a capacity reservation."};
    }
    pool_capacity = block ? "capacity-block" : "reserved";
    if (cr->value("availableInstanceCount", 0) <= 0) {
      throw ApiError{400, "ReservationCapacityExceeded",
                     "The requested reservation " + reservation + " does not have sufficient available capacity."};
    }
  }
  if (faults.InsufficientCapacity(spec.instance_type, spec.zone, pool_capacity)) {
    throw ApiError{500, "InsufficientInstanceCapacity",
                   "We currently do not have sufficient " + spec.instance_type + " capacity in the Availability Zone you requested (" +
                       spec.zone + "). Our system will be working on provisioning additional capacity."};
  }
  if (subnet.value("availableIpAddressCount", 0) <= 0) {
    throw ApiError{400, "InsufficientFreeAddressesInSubnet",
                   "There are not enough free addresses in subnet '" + spec.subnet_id + "' to satisfy the requested number of instances."};
  }

  // Commit the pool's side: an address, and a reservation slot.
  const int host = subnet.value("_nextHost", 10);
  const int third = subnet.value("_cidrThird", 0) + host / 256;
  const std::string ip = "10.0." + std::to_string(third) + "." + std::to_string(host % 256);
  subnet["_nextHost"] = host + 1;
  subnet["availableIpAddressCount"] = subnet.value("availableIpAddressCount", 0) - 1;
  if (cr != nullptr) {
    (*cr)["availableInstanceCount"] = cr->value("availableInstanceCount", 0) - 1;
    (*cr)["capacityAllocationSet"] = json::array(
        {{{"allocationType", "used"}, {"count", cr->value("totalInstanceCount", 0) - cr->value("availableInstanceCount", 0)}}});
  }

  const auto now = clock_.Now();
  const std::string id = NewId("i");
  std::string dns = "ip-" + ip + "." + catalog_.region() + ".compute.internal";
  std::replace(dns.begin(), dns.begin() + 3 + long(ip.size()), '.', '-');
  json groups = json::array();
  for (const auto& sg : spec.security_group_ids) {
    groups.push_back({{"groupId", sg}, {"groupName", store_->Get("security-group", sg)->value("groupName", "")}});
  }
  json instance = {
      {"instanceId", id},
      {"imageId", spec.image_id},
      {"instanceState", {{"code", 0}, {"name", "pending"}}},
      {"privateDnsName", dns},
      {"privateIpAddress", ip},
      {"reason", ""},
      {"amiLaunchIndex", 0},
      {"productCodes", json::array()},
      {"instanceType", spec.instance_type},
      {"launchTime", Ec2Time(now)},
      {"placement", {{"availabilityZone", spec.zone}, {"groupName", ""}, {"tenancy", "default"}}},
      {"monitoring", {{"state", "disabled"}}},
      {"subnetId", spec.subnet_id},
      {"vpcId", subnet.value("vpcId", "")},
      {"architecture", type->arch},
      {"rootDeviceType", "ebs"},
      {"rootDeviceName", "/dev/xvda"},
      {"blockDeviceMapping", json::array()},
      {"virtualizationType", "hvm"},
      {"clientToken", spec.client_token},
      {"tagSet", spec.tags},
      {"groupSet", groups},
      {"hypervisor", "xen"},
      {"ebsOptimized", true},
      {"enaSupport", true},
      {"sourceDestCheck", true},
      {"cpuOptions", {{"coreCount", type->info["vCpuInfo"].value("defaultCores", 1)},
                      {"threadsPerCore", type->info["vCpuInfo"].value("defaultThreadsPerCore", 1)}}},
      {"capacityReservationSpecification", {{"capacityReservationPreference", spec.reservation_preference}}},
      {"metadataOptions", {{"state", "applied"}, {"httpTokens", "required"}, {"httpPutResponseHopLimit", 1},
                           {"httpEndpoint", "enabled"}, {"httpProtocolIpv6", "disabled"}, {"instanceMetadataTags", "disabled"}}},
      {"bootMode", "uefi"},
      {"platformDetails", "Linux/UNIX"},
      {"usageOperation", "RunInstances"},
      {"_reservationId", spec.reservation_group},
      {"_transitionAtMs", EpochMs(now + options_.boot_delay)},
      {"_userData", spec.user_data},
      {"_launchTemplateId", spec.launch_template_id},
      {"_price", spec.capacity_type == "spot" ? catalog_.SpotPrice(*type, spec.zone) : type->on_demand_price},
  };
  if (!spec.key_name.empty()) instance["keyName"] = spec.key_name;
  if (!spec.iam_instance_profile.empty()) {
    instance["iamInstanceProfile"] = {{"arn", spec.iam_instance_profile.rfind("arn:", 0) == 0
                                                  ? spec.iam_instance_profile
                                                  : "arn:aws:iam::" + options_.account_id + ":instance-profile/" + spec.iam_instance_profile},
                                      {"id", "AIPA" + id.substr(2, 17)}};
  }
  if (spec.capacity_type == "spot") {
    instance["instanceLifecycle"] = "spot";
    instance["spotInstanceRequestId"] = NewId("sir");
  } else if (spec.capacity_type == "capacity-block") {
    instance["instanceLifecycle"] = "capacity-block";
  }
  if (!reservation.empty()) {
    instance["capacityReservationId"] = reservation;
    instance["capacityReservationSpecification"]["capacityReservationTarget"] = {{"capacityReservationId", reservation}};
  }
  changes.push_back({"instance", id, instance});
  return instance;
}

json Ec2Service::RunInstances(const json& p) {
  if (!p.contains("MinCount")) throw MissingParameter("MinCount");
  if (!p.contains("MaxCount")) throw MissingParameter("MaxCount");
  const long long min = IntParam(p, "MinCount", 1), max = IntParam(p, "MaxCount", 1);
  if (min < 1 || max < min || max > 1000) {
    throw InvalidParameterValue("MinCount (" + std::to_string(min) + ") and MaxCount (" + std::to_string(max) +
                                ") must satisfy 1 <= MinCount <= MaxCount <= 1000");
  }
  const std::string token = StringParam(p, "ClientToken");
  if (!token.empty()) {
    // Idempotency: the same token answers with the reservation it started.
    if (const json* record = store_->Get("idempotency", "run/" + token)) {
      if (record->value("hash", "") != ParamsHash(p)) {
        throw ApiError{400, "IdempotentParameterMismatch",
                       "Arguments on this idempotent request are inconsistent with arguments used in previous request(s)."};
      }
      return record->at("response");
    }
  }
  LaunchSpec spec;
  if (auto lt = p.find("LaunchTemplate"); lt != p.end()) ApplyLaunchTemplate(*lt, spec, nullptr);
  ApplyLaunchData(p, spec);
  spec.client_token = token;
  for (const auto& tag : TagsFor(p, "instance")) spec.tags.push_back(tag);
  spec.reservation_group = NewId("r");
  std::vector<Change> changes;
  std::map<std::string, json> touched;
  json instances = json::array();
  for (long long i = 0; i < max; ++i) {
    try {
      LaunchSpec one = spec;
      json instance = LaunchOne(std::move(one), *faults_, changes, touched);
      instance["amiLaunchIndex"] = i;
      changes.back().body->at("amiLaunchIndex") = i;
      instances.push_back(std::move(instance));
    } catch (const ApiError&) {
      if (i < min) throw;  // fewer than MinCount: the whole call fails, nothing starts
      break;
    }
  }
  for (auto& [key, value] : touched) {
    const size_t slash = key.find('/');
    changes.push_back({key.substr(0, slash), key.substr(slash + 1), value});
  }
  json groups = instances.empty() ? json::array() : instances[0]["groupSet"];
  json response = {{"reservationId", spec.reservation_group}, {"ownerId", options_.account_id},
                   {"groupSet", groups}, {"instancesSet", instances}};
  if (!token.empty()) changes.push_back({"idempotency", "run/" + token, json{{"hash", ParamsHash(p)}, {"response", response}}});
  CommitOrThrow(changes);
  return response;
}

json Ec2Service::DescribeInstances(const json& p) {
  const auto ids = StringListParam(p, "InstanceId");
  for (const auto& id : ids) CheckInstanceId(id);
  if (!ids.empty() && p.contains("MaxResults")) {
    throw ApiError{400, "InvalidParameterCombination",
                   "The parameter instancesSet cannot be used with the parameter maxResults"};
  }
  json selected = Select(store_->All("instance"), ids, ParseFilters(p, InstanceFields()), InstanceFields(),
                         [](const std::string& id) {
                           return ApiError{400, "InvalidInstanceID.NotFound",
                                           "The instance ID '" + id + "' does not exist"};
                         });
  // Group into reservations (one per RunInstances call or fleet launch), in launch order.
  std::sort(selected.begin(), selected.end(), [](const json& a, const json& b) {
    return std::make_pair(a.value("launchTime", ""), a.value("instanceId", "")) <
           std::make_pair(b.value("launchTime", ""), b.value("instanceId", ""));
  });
  json reservations = json::array();
  std::map<std::string, size_t> index;
  for (auto& instance : selected) {
    const std::string r = instance.value("_reservationId", "");
    auto it = index.find(r);
    if (it == index.end()) {
      it = index.emplace(r, reservations.size()).first;
      reservations.push_back({{"reservationId", r}, {"ownerId", options_.account_id},
                              {"groupSet", json::array()}, {"instancesSet", json::array()}});
    }
    reservations[it->second]["instancesSet"].push_back(std::move(instance));
  }
  return Page(std::move(reservations), p, "reservationSet", 0, 5, 1000);
}

json Ec2Service::TerminateInstances(const json& p) {
  const auto ids = StringListParam(p, "InstanceId");
  if (ids.empty()) throw MissingParameter("InstanceId");
  for (const auto& id : ids) {
    CheckInstanceId(id);
    if (store_->Get("instance", id) == nullptr) {
      throw ApiError{400, "InvalidInstanceID.NotFound", "The instance ID '" + id + "' does not exist"};
    }
  }
  const auto now = clock_.Now();
  std::vector<Change> changes;
  std::map<std::string, json> touched;
  json out = json::array();
  for (const auto& id : ids) {
    json instance = *store_->Get("instance", id);
    const json previous = instance["instanceState"];
    const std::string state = previous.value("name", "");
    if (state == "pending" || state == "running" || state == "stopping" || state == "stopped") {
      instance["instanceState"] = {{"code", 32}, {"name", "shutting-down"}};
      instance["_transitionAtMs"] = EpochMs(now + options_.shutdown_delay);
      instance["stateReason"] = {{"code", "Client.UserInitiatedShutdown"},
                                 {"message", "Client.UserInitiatedShutdown: User initiated shutdown"}};
      // The address and the reservation slot go back to their pools.
      const std::string subnet_key = "subnet/" + instance.value("subnetId", "");
      if (!touched.contains(subnet_key)) {
        if (const json* s = store_->Get("subnet", instance.value("subnetId", ""))) touched[subnet_key] = *s;
      }
      if (touched.contains(subnet_key)) {
        touched[subnet_key]["availableIpAddressCount"] = touched[subnet_key].value("availableIpAddressCount", 0) + 1;
      }
      if (const std::string cr = instance.value("capacityReservationId", ""); !cr.empty()) {
        const std::string cr_key = "capacity-reservation/" + cr;
        if (!touched.contains(cr_key)) {
          if (const json* c = store_->Get("capacity-reservation", cr)) touched[cr_key] = *c;
        }
        if (touched.contains(cr_key)) {
          json& c = touched[cr_key];
          c["availableInstanceCount"] = std::min(c.value("totalInstanceCount", 0), c.value("availableInstanceCount", 0) + 1);
          c["capacityAllocationSet"] = json::array(
              {{{"allocationType", "used"}, {"count", c.value("totalInstanceCount", 0) - c.value("availableInstanceCount", 0)}}});
        }
      }
      changes.push_back({"instance", id, instance});
    }
    out.push_back({{"instanceId", id}, {"currentState", instance["instanceState"]}, {"previousState", previous}});
  }
  for (auto& [key, value] : touched) {
    const size_t slash = key.find('/');
    changes.push_back({key.substr(0, slash), key.substr(slash + 1), value});
  }
  CommitOrThrow(changes);
  return {{"instancesSet", out}};
}

}  // namespace gpufleet::cloud::ec2emu
