// Typed EC2 and SSM calls over ApiClient: the requests Karpenter's AWS provider makes, with their
// answers reduced to what gpufleet reads. Describe calls follow every page.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cloud/aws/api_client.h"
#include "core/clock.h"

namespace gpufleet::cloud::aws {

using Tags = std::map<std::string, std::string>;

struct Ec2Gpu {
  std::string name, manufacturer;
  int64_t count = 0, memory_mib = 0;
};

struct Ec2InstanceType {
  std::string name;
  std::string arch;  // Kubernetes spelling: amd64, arm64
  int64_t vcpu = 0, memory_mib = 0;
  std::string hypervisor, cpu_manufacturer;
  bool bare_metal = false, encryption_in_transit = false, efa_supported = false;
  std::optional<double> clock_ghz;  // absent when EC2 does not say
  int64_t ebs_mbps = 0, network_mbps = 0, local_nvme_gb = 0;
  int64_t enis = 0, ipv4_per_eni = 0;  // of the default network card
  int64_t efa_interfaces = 0;
  std::optional<Ec2Gpu> gpu;           // one GPU model (Karpenter labels only that case)
  std::vector<Ec2Gpu> accelerators;    // inference accelerators (Inferentia, ...)
  std::vector<std::string> usage_classes;  // on-demand, spot
};

struct Ec2Subnet {
  std::string id, zone, zone_id, vpc_id;
  int64_t available_ips = 0;
  Tags tags;
};

struct Ec2SecurityGroup {
  std::string id, name;
  Tags tags;
};

struct Ec2Image {
  std::string id, name, arch, creation_date, owner_id;
  bool deprecated = false;
  Tags tags;
};

struct Ec2CapacityReservation {
  std::string id, instance_type, zone, owner_id, state, instance_match_criteria;
  std::string reservation_type = "default";  // default | capacity-block
  std::string end_date;
  int64_t total = 0, available = 0;
  Tags tags;
};

struct Ec2Instance {
  std::string id, instance_type, zone, state, image_id, subnet_id, private_dns_name, lifecycle;
  std::string capacity_reservation_id, launch_time;
  std::vector<std::string> security_group_ids;
  Tags tags;
};

struct Filter {
  std::string name;
  std::vector<std::string> values;
};

// DescribeInstanceTypes (every page).
Result<std::vector<Ec2InstanceType>> DescribeInstanceTypes(ApiClient& ec2);
// DescribeInstanceTypeOfferings by availability zone: type -> zones.
Result<std::map<std::string, std::set<std::string>>> DescribeZoneOfferings(ApiClient& ec2);
// The newest Linux/UNIX spot price per (type, zone).
Result<std::map<std::pair<std::string, std::string>, double>> DescribeSpotPrices(ApiClient& ec2, core::TimePoint now);
Result<std::vector<Ec2Subnet>> DescribeSubnets(ApiClient& ec2, const std::vector<std::string>& ids,
                                               const std::vector<Filter>& filters);
Result<std::vector<Ec2SecurityGroup>> DescribeSecurityGroups(ApiClient& ec2, const std::vector<std::string>& ids,
                                                             const std::vector<Filter>& filters);
Result<std::vector<Ec2Image>> DescribeImages(ApiClient& ec2, const std::vector<std::string>& ids,
                                             const std::vector<std::string>& owners, const std::vector<Filter>& filters);
Result<std::vector<Ec2CapacityReservation>> DescribeCapacityReservations(ApiClient& ec2, const std::vector<std::string>& ids,
                                                                         const std::vector<Filter>& filters);
Result<std::vector<Ec2Instance>> DescribeInstances(ApiClient& ec2, const std::vector<std::string>& ids,
                                                   const std::vector<Filter>& filters);
Status TerminateInstances(ApiClient& ec2, const std::vector<std::string>& ids);
Status CreateTags(ApiClient& ec2, const std::vector<std::string>& ids, const Tags& tags);

// A launch template's data as Query parameters under "LaunchTemplateData." (the caller fills
// it: ImageId, UserData, SecurityGroupId.N, ...). kAlreadyExists when the name is taken.
Status CreateLaunchTemplate(ApiClient& ec2, const std::string& name, const QueryParams& data, const Tags& tags);
// true when a template of that name exists.
Result<bool> LaunchTemplateExists(ApiClient& ec2, const std::string& name);
Status DeleteLaunchTemplate(ApiClient& ec2, const std::string& name);

struct FleetOverride {
  std::string instance_type, subnet_id, zone, image_id;
  std::optional<double> priority;
};
struct FleetRequest {
  std::string client_token;
  std::string capacity_type = "on-demand";  // on-demand | spot | capacity-block
  std::string launch_template_name;
  std::vector<FleetOverride> overrides;
  std::string allocation_strategy;  // default: lowest-price (on-demand), price-capacity-optimized (spot)
  bool reservations_first = false;  // OnDemandOptions.CapacityReservationOptions
  Tags tags;                        // on the instance, its volumes and the fleet
};
struct FleetError {
  std::string instance_type, zone, subnet_id, code, message;
};
struct FleetResult {
  std::vector<std::string> instance_ids;
  std::string instance_type, zone, subnet_id;
  std::vector<FleetError> errors;
};
// CreateFleet of type instant for one instance.
Result<FleetResult> CreateFleet(ApiClient& ec2, const FleetRequest& request);

// SSM GetParameter: the parameter's value.
Result<std::string> GetParameter(ApiClient& ssm, const std::string& name);

}  // namespace gpufleet::cloud::aws
