// Capacity reservations (ODCRs and capacity blocks) and the first-start seed.
#include "cloud/ec2emu/filters.h"
#include "cloud/ec2emu/service.h"
#include "core/time_format.h"

namespace gpufleet::cloud::ec2emu {

using nlohmann::json;

namespace {

const FilterFields& ReservationFields() {
  static const FilterFields kFields = {
      {"capacity-reservation-id", Field("capacityReservationId")},
      {"instance-type", Field("instanceType")},
      {"availability-zone", Field("availabilityZone")},
      {"availability-zone-id", Field("availabilityZoneId")},
      {"owner-id", Field("ownerId")},
      {"instance-platform", Field("instancePlatform")},
      {"tenancy", Field("tenancy")},
      {"state", Field("state")},
      {"end-date-type", Field("endDateType")},
      {"instance-match-criteria", Field("instanceMatchCriteria")},
      {"reservation-type", Field("reservationType")},
  };
  return kFields;
}

}  // namespace

json Ec2Service::DescribeCapacityReservations(const json& p) {
  auto items = Select(store_->All("capacity-reservation"), StringListParam(p, "CapacityReservationId"),
                      ParseFilters(p, ReservationFields()), ReservationFields(), [](const std::string& id) {
                        return ApiError{400, "InvalidCapacityReservationId.NotFound",
                                        "The capacity reservation ID '" + id + "' does not exist"};
                      });
  return Page(std::move(items), p, "capacityReservationSet", 0, 1, 1000);
}

json Ec2Service::CreateCapacityReservation(const json& p) {
  const std::string type = StringParam(p, "InstanceType");
  const std::string platform = StringParam(p, "InstancePlatform");
  if (type.empty()) throw MissingParameter("InstanceType");
  if (platform.empty()) throw MissingParameter("InstancePlatform");
  if (!p.contains("InstanceCount")) throw MissingParameter("InstanceCount");
  if (catalog_.Find(type) == nullptr) throw InvalidParameterValue("Invalid instance type: " + type);
  std::string zone = StringParam(p, "AvailabilityZone");
  if (zone.empty()) {
    const std::string zone_id = StringParam(p, "AvailabilityZoneId");
    for (const auto& z : catalog_.zones()) {
      if (catalog_.ZoneId(z) == zone_id) zone = z;
    }
    if (zone.empty()) throw MissingParameter("AvailabilityZone");
  }
  if (!catalog_.HasZone(zone)) throw InvalidParameterValue("Invalid availability zone: [" + zone + "]");
  const long long count = IntParam(p, "InstanceCount", 0);
  if (count < 1 || count > 1000) throw InvalidParameterValue("InstanceCount must be between 1 and 1000");
  const std::string criteria = p.contains("InstanceMatchCriteria") ? StringParam(p, "InstanceMatchCriteria") : "open";
  if (criteria != "open" && criteria != "targeted") {
    throw InvalidParameterValue("Value (" + criteria + ") for parameter InstanceMatchCriteria is invalid. Expected open or targeted.");
  }
  const std::string id = NewId("cr");
  const std::string now = Ec2Time(clock_.Now());
  json tags = TagsFor(p.contains("TagSpecifications") ? json{{"TagSpecification", p["TagSpecifications"]}} : p,
                      "capacity-reservation");
  json cr = {{"capacityReservationId", id},
             {"ownerId", options_.account_id},
             {"capacityReservationArn", "arn:aws:ec2:" + catalog_.region() + ":" + options_.account_id +
                                            ":capacity-reservation/" + id},
             {"availabilityZoneId", catalog_.ZoneId(zone)},
             {"instanceType", type},
             {"instancePlatform", platform},
             {"availabilityZone", zone},
             {"tenancy", p.contains("Tenancy") ? StringParam(p, "Tenancy") : "default"},
             {"totalInstanceCount", count},
             {"availableInstanceCount", count},
             {"ebsOptimized", BoolParam(p, "EbsOptimized", false)},
             {"ephemeralStorage", false},
             {"state", "active"},
             {"startDate", now},
             {"endDateType", p.contains("EndDateType") ? StringParam(p, "EndDateType") : "unlimited"},
             {"instanceMatchCriteria", criteria},
             {"createDate", now},
             {"tagSet", tags},
             {"reservationType", "default"},
             {"capacityAllocationSet", json::array({{{"allocationType", "used"}, {"count", 0}}})}};
  if (p.contains("EndDate")) cr["endDate"] = StringParam(p, "EndDate");
  CommitOrThrow({{"capacity-reservation", id, cr}});
  return {{"capacityReservation", cr}};
}

json Ec2Service::CancelCapacityReservation(const json& p) {
  const std::string id = StringParam(p, "CapacityReservationId");
  if (id.empty()) throw MissingParameter("CapacityReservationId");
  const json* cr = store_->Get("capacity-reservation", id);
  if (cr == nullptr) {
    throw ApiError{400, "InvalidCapacityReservationId.NotFound", "The capacity reservation ID '" + id + "' does not exist"};
  }
  json next = *cr;
  next["state"] = "cancelled";
  next["availableInstanceCount"] = 0;
  CommitOrThrow({{"capacity-reservation", id, next}});
  return {{"return", true}};
}

json Ec2Service::DescribeCapacityBlockOfferings(const json& p) {
  if (!p.contains("CapacityDurationHours")) throw MissingParameter("CapacityDurationHours");
  const long long hours = IntParam(p, "CapacityDurationHours", 0);
  if (hours < 1 || hours > 24 * 182) throw InvalidParameterValue("CapacityDurationHours must be between 1 and 4368");
  const long long count = IntParam(p, "InstanceCount", 1);
  if (count < 1 || count > 64) throw InvalidParameterValue("InstanceCount must be between 1 and 64");
  const std::string type_name = StringParam(p, "InstanceType");
  // Blocks are sold for the large accelerated types (p4d, p5*, p6*, trn*); offered here for any
  // type with 8 or more GPUs or accelerators.
  auto eligible = [](const CatalogType& t) {
    const auto& gpu = t.info.value("gpuInfo", json::object());
    int64_t n = 0;
    for (const auto& g : gpu.value("gpus", json::array())) n += g.value("count", int64_t{0});
    return n >= 8 || t.name.rfind("trn", 0) == 0;
  };
  const auto now = clock_.Now();
  const auto start = std::chrono::time_point_cast<std::chrono::minutes>(now);
  json items = json::array();
  for (const auto& t : catalog_.types()) {
    if (!type_name.empty() && t.name != type_name) continue;
    if (!eligible(t)) continue;
    for (const auto& zone : catalog_.zones()) {
      const std::string id = "cb-0" + [&] {
        char buf[20];
        std::snprintf(buf, sizeof(buf), "%016zx",
                      std::hash<std::string>{}(t.name + zone + std::to_string(count) + std::to_string(hours) +
                                               std::to_string(start.time_since_epoch().count())));
        return std::string(buf);
      }();
      char fee[32];
      std::snprintf(fee, sizeof(fee), "%.2f", t.on_demand_price * double(count * hours) * 0.8);
      json offering = {{"capacityBlockOfferingId", id}, {"instanceType", t.name}, {"availabilityZone", zone},
                       {"instanceCount", count}, {"startDate", Ec2Time(start)},
                       {"endDate", Ec2Time(start + std::chrono::hours(hours))}, {"capacityBlockDurationHours", hours},
                       {"upfrontFee", fee}, {"currencyCode", "USD"}, {"tenancy", "default"}};
      block_offerings_[id] = offering;
      items.push_back(std::move(offering));
    }
  }
  if (!type_name.empty() && items.empty()) {
    throw InvalidParameterValue("Capacity Blocks are not offered for instance type " + type_name);
  }
  return Page(std::move(items), p, "capacityBlockOfferingSet", 0, 1, 1000);
}

json Ec2Service::PurchaseCapacityBlock(const json& p) {
  const std::string id = StringParam(p, "CapacityBlockOfferingId");
  if (id.empty()) throw MissingParameter("CapacityBlockOfferingId");
  if (StringParam(p, "InstancePlatform").empty()) throw MissingParameter("InstancePlatform");
  auto it = block_offerings_.find(id);
  if (it == block_offerings_.end()) {
    throw ApiError{400, "InvalidCapacityBlockOfferingId.NotFound", "The capacity block offering '" + id + "' does not exist or has expired"};
  }
  const json offering = it->second;
  block_offerings_.erase(it);
  json request = {{"InstanceType", offering["instanceType"]}, {"InstancePlatform", StringParam(p, "InstancePlatform")},
                  {"AvailabilityZone", offering["availabilityZone"]},
                  {"InstanceCount", std::to_string(offering["instanceCount"].get<long long>())},
                  {"InstanceMatchCriteria", "targeted"}, {"EndDateType", "limited"},
                  {"EndDate", offering["endDate"]}};
  if (p.contains("TagSpecification")) request["TagSpecifications"] = p["TagSpecification"];
  json created = CreateCapacityReservation(request);
  json cr = created["capacityReservation"];
  const std::string cr_id = cr["capacityReservationId"];
  cr["reservationType"] = "capacity-block";
  cr["startDate"] = offering["startDate"];
  cr["capacityBlockId"] = id;
  cr["_endMs"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                     (std::chrono::time_point_cast<std::chrono::minutes>(clock_.Now()) +
                      std::chrono::hours(offering["capacityBlockDurationHours"].get<long long>()))
                         .time_since_epoch())
                     .count();
  CommitOrThrow({{"capacity-reservation", cr_id, cr}});
  return {{"capacityReservation", cr}};
}

Status Ec2Service::SeedIfEmpty() {
  if (!store_->All("vpc").empty() || !store_->All("subnet").empty()) return OkStatus();
  std::vector<Change> changes;
  const std::string region = catalog_.region();
  const std::string now = Ec2Time(clock_.Now());
  const json discovery = {{"key", "karpenter.sh/discovery"}, {"value", options_.cluster_name}};
  const std::string vpc_id = NewId("vpc");
  changes.push_back({"vpc", vpc_id,
                     json{{"vpcId", vpc_id}, {"ownerId", options_.account_id}, {"state", "available"},
                          {"cidrBlock", "10.0.0.0/16"}, {"isDefault", false}, {"instanceTenancy", "default"},
                          {"tagSet", json::array({{{"key", "Name"}, {"value", options_.cluster_name}}, discovery})}}});
  int third = 0;
  for (const auto& zone : catalog_.zones()) {
    const std::string id = NewId("subnet");
    changes.push_back(
        {"subnet", id,
         json{{"subnetId", id}, {"subnetArn", "arn:aws:ec2:" + region + ":" + options_.account_id + ":subnet/" + id},
              {"vpcId", vpc_id}, {"ownerId", options_.account_id}, {"state", "available"},
              {"availabilityZone", zone}, {"availabilityZoneId", catalog_.ZoneId(zone)},
              {"cidrBlock", "10.0." + std::to_string(third * 32) + ".0/19"},
              {"availableIpAddressCount", 8187}, {"defaultForAz", false}, {"mapPublicIpOnLaunch", false},
              {"_nextHost", 10}, {"_cidrThird", third * 32},
              {"tagSet", json::array({{{"key", "Name"}, {"value", options_.cluster_name + "-private-" + zone}},
                                      discovery,
                                      {{"key", "kubernetes.io/role/internal-elb"}, {"value", "1"}}})}}});
    ++third;
  }
  const std::string sg = NewId("sg");
  changes.push_back({"security-group", sg,
                     json{{"groupId", sg}, {"groupName", options_.cluster_name + "-node"},
                          {"groupDescription", "gpufleet nodes"}, {"vpcId", vpc_id}, {"ownerId", options_.account_id},
                          {"ipPermissions", json::array()}, {"ipPermissionsEgress", json::array()},
                          {"tagSet", json::array({discovery})}}});
  // EKS optimized AL2023 AMIs, one per (Kubernetes minor, architecture, variant); GetParameter
  // resolves the SSM aliases to these (ssm.cc).
  for (int minor = 29; minor <= 34; ++minor) {
    for (const char* arch : {"x86_64", "arm64"}) {
      for (const char* variant : {"standard", "nvidia", "neuron"}) {
        const std::string id = NewId("ami");
        const std::string name = std::string("amazon-eks-node-al2023-") + arch + "-" + variant + "-1." +
                                 std::to_string(minor) + "-v20251120";
        changes.push_back({"image", id,
                           json{{"imageId", id}, {"name", name}, {"architecture", arch}, {"imageState", "available"},
                                {"imageOwnerId", "602401143452"}, {"imageOwnerAlias", "amazon"}, {"isPublic", true},
                                {"imageType", "machine"}, {"creationDate", "2025-11-20T00:00:00.000Z"},
                                {"platformDetails", "Linux/UNIX"}, {"usageOperation", "RunInstances"},
                                {"rootDeviceName", "/dev/xvda"}, {"rootDeviceType", "ebs"}, {"enaSupport", true},
                                {"hypervisor", "xen"}, {"virtualizationType", "hvm"}, {"bootMode", "uefi-preferred"},
                                {"description", std::string("EKS-optimized Kubernetes node based on Amazon Linux 2023, (k8s: 1.") +
                                                    std::to_string(minor) + ", variant: " + variant + ")"},
                                {"_k8sMinor", minor}, {"_variant", variant}, {"tagSet", json::array()}}});
      }
    }
  }
  GF_RETURN_IF_ERROR(store_->Commit(changes));
  // The seed's On-Demand Capacity Reservation: g6e.2xlarge, targeted, in the first zone.
  json request = {{"InstanceType", "g6e.2xlarge"}, {"InstancePlatform", "Linux/UNIX"},
                  {"AvailabilityZone", catalog_.zones().front()}, {"InstanceCount", "2"},
                  {"InstanceMatchCriteria", "targeted"},
                  {"TagSpecifications", json::array({{{"ResourceType", "capacity-reservation"},
                                                      {"Tag", json::array({{{"Key", "Name"}, {"Value", "gpufleet-gpu-odcr"}},
                                                                           {{"Key", "karpenter.sh/discovery"},
                                                                            {"Value", options_.cluster_name}}})}}})}};
  try {
    if (catalog_.Find("g6e.2xlarge") != nullptr) CreateCapacityReservation(request);
  } catch (const ApiError& e) {
    return InternalError("seeding the g6e.2xlarge capacity reservation: " + e.message);
  }
  return OkStatus();
}

}  // namespace gpufleet::cloud::ec2emu
