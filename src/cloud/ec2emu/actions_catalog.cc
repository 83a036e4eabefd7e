// DescribeInstanceTypes, DescribeInstanceTypeOfferings, DescribeSpotPriceHistory and
// DescribeAvailabilityZones, answered from the Catalog.
#include <cmath>
#include <cstdio>

#include "cloud/ec2emu/filters.h"
#include "cloud/ec2emu/service.h"

namespace gpufleet::cloud::ec2emu {

using nlohmann::json;

json Ec2Service::DescribeInstanceTypes(const json& p) {
  static const FilterFields kFields = {
      {"instance-type", Field("instanceType")},
      {"current-generation", Field("currentGeneration")},
      {"bare-metal", Field("bareMetal")},
      {"hypervisor", Field("hypervisor")},
      {"processor-info.supported-architecture", Field("processorInfo.supportedArchitectures")},
      {"vcpu-info.default-vcpus", Field("vCpuInfo.defaultVCpus")},
      {"memory-info.size-in-mib", Field("memoryInfo.sizeInMiB")},
      {"supported-usage-class", Field("supportedUsageClasses")},
      {"instance-storage-supported", Field("instanceStorageSupported")},
      {"network-info.efa-supported", Field("networkInfo.efaSupported")},
      {"burstable-performance-supported", Field("burstablePerformanceSupported")},
  };
  const auto filters = ParseFilters(p, kFields);
  const auto names = StringListParam(p, "InstanceType");
  std::vector<std::string> unknown;
  for (const auto& n : names) {
    if (catalog_.Find(n) == nullptr) unknown.push_back(n);
  }
  if (!unknown.empty()) {
    std::string list;
    for (const auto& n : unknown) list += (list.empty() ? "" : ", ") + n;
    throw ApiError{400, "InvalidInstanceType", "The following supplied instance types do not exist: [" + list + "]"};
  }
  json items = json::array();
  for (const auto& t : catalog_.types()) {
    if (!names.empty() && std::find(names.begin(), names.end(), t.name) == names.end()) continue;
    if (MatchesFilters(t.info, filters, kFields)) items.push_back(t.info);
  }
  // Like EC2: pages of at most 100 types, a NextToken whenever more remain.
  return Page(std::move(items), p, "instanceTypeSet", 100, 5, 100);
}

json Ec2Service::DescribeInstanceTypeOfferings(const json& p) {
  static const FilterFields kFields = {{"instance-type", Field("instanceType")}, {"location", Field("location")}};
  const std::string location_type = p.contains("LocationType") ? StringParam(p, "LocationType") : "region";
  if (location_type != "region" && location_type != "availability-zone" && location_type != "availability-zone-id") {
    throw InvalidParameterValue("Value (" + location_type +
                                ") for parameter LocationType is invalid. Expected region, availability-zone or "
                                "availability-zone-id.");
  }
  const auto filters = ParseFilters(p, kFields);
  json items = json::array();
  std::vector<std::string> locations;
  if (location_type == "region") {
    locations.push_back(catalog_.region());
  } else {
    for (const auto& z : catalog_.zones()) locations.push_back(location_type == "availability-zone" ? z : catalog_.ZoneId(z));
  }
  for (const auto& t : catalog_.types()) {
    for (const auto& loc : locations) {
      json offering = {{"instanceType", t.name}, {"locationType", location_type}, {"location", loc}};
      if (MatchesFilters(offering, filters, kFields)) items.push_back(std::move(offering));
    }
  }
  return Page(std::move(items), p, "instanceTypeOfferingSet", 1000, 5, 1000);
}

json Ec2Service::DescribeSpotPriceHistory(const json& p) {
  static const FilterFields kFields = {{"availability-zone", Field("availabilityZone")},
                                       {"instance-type", Field("instanceType")},
                                       {"product-description", Field("productDescription")},
                                       {"spot-price", Field("spotPrice")},
                                       {"timestamp", Field("timestamp")}};
  const auto filters = ParseFilters(p, kFields);
  const auto names = StringListParam(p, "InstanceType");
  auto products = StringListParam(p, "ProductDescription");
  if (products.empty()) products = {"Linux/UNIX", "Linux/UNIX (Amazon VPC)"};
  const std::string zone = StringParam(p, "AvailabilityZone");
  if (!zone.empty() && !catalog_.HasZone(zone)) {
    throw InvalidParameterValue("Invalid availability zone: [" + zone + "]");
  }
  // One current price per (type, zone, product), stamped an hour ago: the newest record EC2
  // would return for a StartTime of now.
  const std::string stamp = Ec2Time(clock_.Now() - std::chrono::hours(1));
  json items = json::array();
  for (const auto& t : catalog_.types()) {
    if (!names.empty() && std::find(names.begin(), names.end(), t.name) == names.end()) continue;
    for (const auto& z : catalog_.zones()) {
      if (!zone.empty() && z != zone) continue;
      char price[32];
      std::snprintf(price, sizeof(price), "%.6f", catalog_.SpotPrice(t, z));
      for (const auto& product : products) {
        json record = {{"availabilityZone", z}, {"instanceType", t.name}, {"productDescription", product},
                       {"spotPrice", price}, {"timestamp", stamp}};
        if (MatchesFilters(record, filters, kFields)) items.push_back(std::move(record));
      }
    }
  }
  return Page(std::move(items), p, "spotPriceHistorySet", 1000, 1, 1000);
}

json Ec2Service::DescribeAvailabilityZones(const json& p) {
  static const FilterFields kFields = {{"zone-name", Field("zoneName")}, {"zone-id", Field("zoneId")},
                                       {"state", Field("zoneState")}, {"region-name", Field("regionName")}};
  const auto filters = ParseFilters(p, kFields);
  const auto names = StringListParam(p, "ZoneName");
  const auto ids = StringListParam(p, "ZoneId");
  json items = json::array();
  for (const auto& z : catalog_.zones()) {
    json zone = {{"zoneName", z}, {"zoneId", catalog_.ZoneId(z)}, {"zoneState", "available"},
                 {"regionName", catalog_.region()}, {"zoneType", "availability-zone"},
                 {"groupName", catalog_.region()}, {"networkBorderGroup", catalog_.region()},
                 {"optInStatus", "opt-in-not-required"}, {"messageSet", json::array()}};
    if (!names.empty() && std::find(names.begin(), names.end(), z) == names.end()) continue;
    if (!ids.empty() && std::find(ids.begin(), ids.end(), zone["zoneId"]) == ids.end()) continue;
    if (MatchesFilters(zone, filters, kFields)) items.push_back(std::move(zone));
  }
  return {{"availabilityZoneInfo", items}};
}

}  // namespace gpufleet::cloud::ec2emu
