#include "cloud/aws/ec2.h"

#include <algorithm>
#include <cctype>

#include "core/time_format.h"
#include "core/ascii.h"

namespace gpufleet::cloud::aws {

namespace {

int64_t Int(const pugi::xml_node& node, const char* child) {
  const char* text = node.child_value(child);
  return *text ? std::strtoll(text, nullptr, 10) : 0;
}

bool Bool(const pugi::xml_node& node, const char* child) { return std::string_view(node.child_value(child)) == "true"; }

Tags ReadTags(const pugi::xml_node& node) {
  Tags tags;
  for (const auto& item : Items(node, "tagSet")) tags[Text(item, "key")] = Text(item, "value");
  return tags;
}

void AddFilters(QueryParams& params, const std::vector<Filter>& filters) {
  for (const auto& f : filters) params.AddFilter(f.name, f.values);
}

void AddTagSpecifications(QueryParams& params, const Tags& tags, const std::vector<std::string>& resource_types) {
  int n = 0;
  for (const auto& type : resource_types) {
    const std::string prefix = "TagSpecification." + std::to_string(++n);
    params.Add(prefix + ".ResourceType", type);
    int t = 0;
    for (const auto& [k, v] : tags) {
      const std::string tag = prefix + ".Tag." + std::to_string(++t);
      params.Add(tag + ".Key", k).Add(tag + ".Value", v);
    }
  }
}


}  // namespace

Result<std::vector<Ec2InstanceType>> DescribeInstanceTypes(ApiClient& ec2) {
  std::vector<Ec2InstanceType> out;
  QueryParams params;
  params.Add("MaxResults", "100");
  GF_RETURN_IF_ERROR(ec2.QueryPages("DescribeInstanceTypes", params, [&](const pugi::xml_node& response) {
    for (const auto& item : Items(response, "instanceTypeSet")) {
      Ec2InstanceType t;
      t.name = Text(item, "instanceType");
      const auto processor = item.child("processorInfo");
      const std::string arch = processor.child("supportedArchitectures").child_value("item");
      t.arch = arch == "arm64" ? "arm64" : "amd64";
      if (processor.child("sustainedClockSpeedInGhz")) {
        t.clock_ghz = std::strtod(processor.child_value("sustainedClockSpeedInGhz"), nullptr);
      }
      t.cpu_manufacturer = core::AsciiLower(processor.child_value("manufacturer"));
      t.vcpu = Int(item.child("vCpuInfo"), "defaultVCpus");
      t.memory_mib = Int(item.child("memoryInfo"), "sizeInMiB");
      t.hypervisor = Text(item, "hypervisor");
      t.bare_metal = Bool(item, "bareMetal");
      t.ebs_mbps = Int(item.child("ebsInfo").child("ebsOptimizedInfo"), "baselineBandwidthInMbps");
      t.local_nvme_gb = Int(item.child("instanceStorageInfo"), "totalSizeInGB");
      const auto network = item.child("networkInfo");
      t.encryption_in_transit = Bool(network, "encryptionInTransitSupported");
      t.efa_supported = Bool(network, "efaSupported");
      t.efa_interfaces = Int(network.child("efaInfo"), "maximumEfaInterfaces");
      t.ipv4_per_eni = Int(network, "ipv4AddressesPerInterface");
      t.enis = Int(network, "maximumNetworkInterfaces");
      const int64_t default_card = Int(network, "defaultNetworkCardIndex");
      for (const auto& card : Items(network, "networkCards")) {
        if (Int(card, "networkCardIndex") == default_card) {
          t.enis = Int(card, "maximumNetworkInterfaces");
          t.network_mbps = int64_t(std::strtod(card.child_value("baselineBandwidthInGbps"), nullptr) * 1000 + 0.5);
        }
      }
      auto gpus = Items(item.child("gpuInfo"), "gpus");
      if (gpus.size() == 1) {
        t.gpu = Ec2Gpu{.name = Text(gpus[0], "name"), .manufacturer = Text(gpus[0], "manufacturer"),
                       .count = Int(gpus[0], "count"), .memory_mib = Int(gpus[0].child("memoryInfo"), "sizeInMiB")};
      }
      for (const auto& a : Items(item.child("inferenceAcceleratorInfo"), "accelerators")) {
        t.accelerators.push_back({.name = Text(a, "name"), .manufacturer = Text(a, "manufacturer"), .count = Int(a, "count")});
      }
      for (const auto& u : item.child("supportedUsageClasses").children("item")) t.usage_classes.push_back(u.child_value());
      out.push_back(std::move(t));
    }
    return OkStatus();
  }));
  return out;
}

Result<std::map<std::string, std::set<std::string>>> DescribeZoneOfferings(ApiClient& ec2) {
  std::map<std::string, std::set<std::string>> out;
  QueryParams params;
  params.Add("LocationType", "availability-zone").Add("MaxResults", "1000");
  GF_RETURN_IF_ERROR(ec2.QueryPages("DescribeInstanceTypeOfferings", params, [&](const pugi::xml_node& response) {
    for (const auto& item : Items(response, "instanceTypeOfferingSet")) {
      out[Text(item, "instanceType")].insert(Text(item, "location"));
    }
    return OkStatus();
  }));
  return out;
}

Result<std::map<std::pair<std::string, std::string>, double>> DescribeSpotPrices(ApiClient& ec2, core::TimePoint now) {
  std::map<std::pair<std::string, std::string>, std::pair<std::string, double>> newest;
  QueryParams params;
  params.AddList("ProductDescription", {"Linux/UNIX", "Linux/UNIX (Amazon VPC)"})
      .Add("StartTime", core::FormatRfc3339(std::chrono::time_point_cast<std::chrono::seconds>(now)))
      .Add("MaxResults", "1000");
  GF_RETURN_IF_ERROR(ec2.QueryPages("DescribeSpotPriceHistory", params, [&](const pugi::xml_node& response) {
    for (const auto& item : Items(response, "spotPriceHistorySet")) {
      auto key = std::make_pair(Text(item, "instanceType"), Text(item, "availabilityZone"));
      const std::string stamp = Text(item, "timestamp");
      auto& slot = newest[key];
      if (stamp >= slot.first) slot = {stamp, std::strtod(item.child_value("spotPrice"), nullptr)};
    }
    return OkStatus();
  }));
  std::map<std::pair<std::string, std::string>, double> out;
  for (auto& [key, value] : newest) out[key] = value.second;
  return out;
}

Result<std::vector<Ec2Subnet>> DescribeSubnets(ApiClient& ec2, const std::vector<std::string>& ids,
                                               const std::vector<Filter>& filters) {
  std::vector<Ec2Subnet> out;
  QueryParams params;
  params.AddList("SubnetId", ids);
  AddFilters(params, filters);
  GF_RETURN_IF_ERROR(ec2.QueryPages("DescribeSubnets", params, [&](const pugi::xml_node& response) {
    for (const auto& item : Items(response, "subnetSet")) {
      out.push_back({.id = Text(item, "subnetId"), .zone = Text(item, "availabilityZone"),
                     .zone_id = Text(item, "availabilityZoneId"), .vpc_id = Text(item, "vpcId"),
                     .available_ips = Int(item, "availableIpAddressCount"), .tags = ReadTags(item)});
    }
    return OkStatus();
  }));
  return out;
}

Result<std::vector<Ec2SecurityGroup>> DescribeSecurityGroups(ApiClient& ec2, const std::vector<std::string>& ids,
                                                             const std::vector<Filter>& filters) {
  std::vector<Ec2SecurityGroup> out;
  QueryParams params;
  params.AddList("GroupId", ids);
  AddFilters(params, filters);
  GF_RETURN_IF_ERROR(ec2.QueryPages("DescribeSecurityGroups", params, [&](const pugi::xml_node& response) {
    for (const auto& item : Items(response, "securityGroupInfo")) {
      out.push_back({.id = Text(item, "groupId"), .name = Text(item, "groupName"), .tags = ReadTags(item)});
    }
    return OkStatus();
  }));
  return out;
}

Result<std::vector<Ec2Image>> DescribeImages(ApiClient& ec2, const std::vector<std::string>& ids,
                                             const std::vector<std::string>& owners, const std::vector<Filter>& filters) {
  std::vector<Ec2Image> out;
  QueryParams params;
  params.AddList("ImageId", ids).AddList("Owner", owners);
  AddFilters(params, filters);
  GF_RETURN_IF_ERROR(ec2.QueryPages("DescribeImages", params, [&](const pugi::xml_node& response) {
    for (const auto& item : Items(response, "imagesSet")) {
      const std::string arch = Text(item, "architecture");
      out.push_back({.id = Text(item, "imageId"), .name = Text(item, "name"), .arch = arch == "arm64" ? "arm64" : "amd64",
                     .creation_date = Text(item, "creationDate"), .owner_id = Text(item, "imageOwnerId"),
                     .deprecated = !Text(item, "deprecationTime").empty(), .tags = ReadTags(item)});
    }
    return OkStatus();
  }));
  return out;
}

Result<std::vector<Ec2CapacityReservation>> DescribeCapacityReservations(ApiClient& ec2,
                                                                         const std::vector<std::string>& ids,
                                                                         const std::vector<Filter>& filters) {
  std::vector<Ec2CapacityReservation> out;
  QueryParams params;
  params.AddList("CapacityReservationId", ids);
  AddFilters(params, filters);
  GF_RETURN_IF_ERROR(ec2.QueryPages("DescribeCapacityReservations", params, [&](const pugi::xml_node& response) {
    for (const auto& item : Items(response, "capacityReservationSet")) {
      Ec2CapacityReservation cr{.id = Text(item, "capacityReservationId"), .instance_type = Text(item, "instanceType"),
                                .zone = Text(item, "availabilityZone"), .owner_id = Text(item, "ownerId"),
                                .state = Text(item, "state"), .instance_match_criteria = Text(item, "instanceMatchCriteria"),
                                .end_date = Text(item, "endDate"), .total = Int(item, "totalInstanceCount"),
                                .available = Int(item, "availableInstanceCount"), .tags = ReadTags(item)};
      if (const std::string type = Text(item, "reservationType"); !type.empty()) cr.reservation_type = type;
      out.push_back(std::move(cr));
    }
    return OkStatus();
  }));
  return out;
}

Result<std::vector<Ec2Instance>> DescribeInstances(ApiClient& ec2, const std::vector<std::string>& ids,
                                                   const std::vector<Filter>& filters) {
  std::vector<Ec2Instance> out;
  QueryParams params;
  params.AddList("InstanceId", ids);
  AddFilters(params, filters);
  GF_RETURN_IF_ERROR(ec2.QueryPages("DescribeInstances", params, [&](const pugi::xml_node& response) {
    for (const auto& reservation : Items(response, "reservationSet")) {
      for (const auto& item : Items(reservation, "instancesSet")) {
        Ec2Instance i{.id = Text(item, "instanceId"), .instance_type = Text(item, "instanceType"),
                      .zone = item.child("placement").child_value("availabilityZone"),
                      .state = item.child("instanceState").child_value("name"), .image_id = Text(item, "imageId"),
                      .subnet_id = Text(item, "subnetId"), .private_dns_name = Text(item, "privateDnsName"),
                      .lifecycle = Text(item, "instanceLifecycle"),
                      .capacity_reservation_id = Text(item, "capacityReservationId"),
                      .launch_time = Text(item, "launchTime"), .tags = ReadTags(item)};
        for (const auto& g : Items(item, "groupSet")) i.security_group_ids.push_back(Text(g, "groupId"));
        out.push_back(std::move(i));
      }
    }
    return OkStatus();
  }));
  return out;
}

Status TerminateInstances(ApiClient& ec2, const std::vector<std::string>& ids) {
  QueryParams params;
  params.AddList("InstanceId", ids);
  return ec2.Query("TerminateInstances", params).status();
}

Status CreateTags(ApiClient& ec2, const std::vector<std::string>& ids, const Tags& tags) {
  QueryParams params;
  params.AddList("ResourceId", ids);
  int n = 0;
  for (const auto& [k, v] : tags) {
    const std::string tag = "Tag." + std::to_string(++n);
    params.Add(tag + ".Key", k).Add(tag + ".Value", v);
  }
  return ec2.Query("CreateTags", params).status();
}

Status CreateLaunchTemplate(ApiClient& ec2, const std::string& name, const QueryParams& data, const Tags& tags) {
  QueryParams params;
  params.Add("LaunchTemplateName", name);
  for (const auto& [k, v] : data.items()) params.Add("LaunchTemplateData." + k, v);
  if (!tags.empty()) AddTagSpecifications(params, tags, {"launch-template"});
  auto result = ec2.Query("CreateLaunchTemplate", params);
  if (!result.ok() && result.status().message().find("AlreadyExistsException") != std::string_view::npos) {
    return AlreadyExistsError(result.status().message());
  }
  return result.status();
}

Result<bool> LaunchTemplateExists(ApiClient& ec2, const std::string& name) {
  QueryParams params;
  params.AddList("LaunchTemplateName", {name});
  auto result = ec2.Query("DescribeLaunchTemplates", params);
  if (result.ok()) return !Items((*result)->first_child(), "launchTemplates").empty();
  if (result.status().code() == StatusCode::kNotFound) return false;
  return result.status();
}

Status DeleteLaunchTemplate(ApiClient& ec2, const std::string& name) {
  QueryParams params;
  params.Add("LaunchTemplateName", name);
  return ec2.Query("DeleteLaunchTemplate", params).status();
}

Result<FleetResult> CreateFleet(ApiClient& ec2, const FleetRequest& request) {
  QueryParams params;
  params.Add("Type", "instant");
  if (!request.client_token.empty()) params.Add("ClientToken", request.client_token);
  params.Add("TargetCapacitySpecification.TotalTargetCapacity", "1")
      .Add("TargetCapacitySpecification.DefaultTargetCapacityType", request.capacity_type);
  if (request.capacity_type == "spot") {
    params.Add("SpotOptions.AllocationStrategy",
               request.allocation_strategy.empty() ? "price-capacity-optimized" : request.allocation_strategy);
  } else {
    params.Add("OnDemandOptions.AllocationStrategy",
               request.allocation_strategy.empty() ? "lowest-price" : request.allocation_strategy);
    if (request.reservations_first) {
      params.Add("OnDemandOptions.CapacityReservationOptions.UsageStrategy", "use-capacity-reservations-first");
    }
  }
  params.Add("LaunchTemplateConfigs.1.LaunchTemplateSpecification.LaunchTemplateName", request.launch_template_name)
      .Add("LaunchTemplateConfigs.1.LaunchTemplateSpecification.Version", "$Latest");
  for (size_t i = 0; i < request.overrides.size(); ++i) {
    const auto& o = request.overrides[i];
    const std::string prefix = "LaunchTemplateConfigs.1.Overrides." + std::to_string(i + 1);
    params.Add(prefix + ".InstanceType", o.instance_type);
    if (!o.subnet_id.empty()) params.Add(prefix + ".SubnetId", o.subnet_id);
    if (!o.zone.empty() && o.subnet_id.empty()) params.Add(prefix + ".AvailabilityZone", o.zone);
    if (!o.image_id.empty()) params.Add(prefix + ".ImageId", o.image_id);
    if (o.priority) params.Add(prefix + ".Priority", std::to_string(*o.priority));
  }
  if (!request.tags.empty()) AddTagSpecifications(params, request.tags, {"instance", "volume", "fleet"});
  GF_ASSIGN_OR_RETURN(auto doc, ec2.Query("CreateFleet", params));
  const pugi::xml_node response = doc->first_child();
  FleetResult result;
  for (const auto& item : Items(response, "fleetInstanceSet")) {
    for (const auto& id : item.child("instanceIds").children("item")) result.instance_ids.push_back(id.child_value());
    const auto overrides = item.child("launchTemplateAndOverrides").child("overrides");
    result.instance_type = Text(item, "instanceType");
    result.zone = Text(overrides, "availabilityZone");
    result.subnet_id = Text(overrides, "subnetId");
  }
  for (const auto& item : Items(response, "errorSet")) {
    const auto overrides = item.child("launchTemplateAndOverrides").child("overrides");
    result.errors.push_back({.instance_type = Text(overrides, "instanceType"), .zone = Text(overrides, "availabilityZone"),
                             .subnet_id = Text(overrides, "subnetId"), .code = Text(item, "errorCode"),
                             .message = Text(item, "errorMessage")});
  }
  return result;
}

Result<std::string> GetParameter(ApiClient& ssm, const std::string& name) {
  GF_ASSIGN_OR_RETURN(auto answer, ssm.Json("AmazonSSM", "GetParameter", {{"Name", name}}));
  if (!answer.contains("Parameter") || !answer["Parameter"].contains("Value") || !answer["Parameter"]["Value"].is_string()) {
    return DataLossError("SSM GetParameter " + name + ": the answer has no Parameter.Value");
  }
  return answer["Parameter"]["Value"].get<std::string>();
}

}  // namespace gpufleet::cloud::aws
