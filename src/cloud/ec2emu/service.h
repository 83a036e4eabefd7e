// Ec2Service: the EC2 and SSM actions the emulator answers, over StateStore and Catalog. Pure
// request -> response logic with no sockets (Emulator owns HTTP, SigV4 and faults), so every
// action is tested directly as well as through the aws CLI.
//
// Actions (EC2 API version 2016-11-15, names and shapes as AWS's):
//   catalog     DescribeInstanceTypes, DescribeInstanceTypeOfferings, DescribeSpotPriceHistory,
//               DescribeAvailabilityZones
//   network     DescribeSubnets, DescribeSecurityGroups, DescribeVpcs, DescribeImages
//   capacity    DescribeCapacityReservations, CreateCapacityReservation, CancelCapacityReservation,
//               DescribeCapacityBlockOfferings, PurchaseCapacityBlock (blocks start now; they
//               expire at their end date and their instances are terminated, as on EC2)
//   templates   CreateLaunchTemplate, DeleteLaunchTemplate, DescribeLaunchTemplates
//   instances   RunInstances, CreateFleet (type instant), DescribeInstances, TerminateInstances,
//               CreateTags, DeleteTags
//   SSM         GetParameter, GetParameters (the EKS optimized AMI aliases)
// Handlers throw ApiError; Handle() turns it into the reply.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "cloud/ec2emu/catalog.h"
#include "cloud/ec2emu/faults.h"
#include "cloud/ec2emu/state_store.h"
#include "cloud/ec2emu/wire.h"
#include "core/clock.h"

namespace gpufleet::cloud::ec2emu {

struct ServiceOptions {
  std::string account_id = "111122223333";
  std::chrono::milliseconds boot_delay{std::chrono::seconds(10)};     // pending -> running
  std::chrono::milliseconds shutdown_delay{std::chrono::seconds(2)};  // shutting-down -> terminated
  std::chrono::minutes terminated_retention{60};                      // terminated stay visible
  std::string cluster_name = "gpufleet";  // discovery tags on the seeded subnets and groups
};

struct Reply {
  int http_status = 200;
  std::string content_type = "text/xml;charset=UTF-8";
  std::string body;
};

class Ec2Service {
 public:
  Ec2Service(Catalog catalog, std::unique_ptr<StateStore> store, core::Clock& clock, ServiceOptions options);

  // Seeds a new region on first start: a VPC, one subnet per zone and a node security group
  // (tagged karpenter.sh/discovery=<cluster>), EKS AL2023 AMIs, and an active targeted ODCR for
  // g6e.2xlarge in the first zone. Does nothing when the state already holds resources.
  Status SeedIfEmpty();

  // One EC2 Query API call: `params` are the decoded form/query parameters (Action, Version, ...).
  Reply HandleEc2(const FormParams& params, const FaultConfig& faults);
  // One SSM JSON call: `target` is X-Amz-Target (AmazonSSM.GetParameter), `body` the JSON.
  Reply HandleSsm(std::string_view target, std::string_view body);

  // Moves instances along their lifecycle (pending -> running after boot_delay, shutting-down ->
  // terminated, forgets terminated ones after the retention). Returns the instances that became
  // running, for the boot hook.
  std::vector<nlohmann::json> Tick();
  // Instances in `state` (pending, running, ...), in the boot hook's shape (with _userData).
  std::vector<nlohmann::json> InstancesIn(std::string_view state) const;

  const Catalog& catalog() const { return catalog_; }
  std::string NewRequestId();

 private:
  using Handler = nlohmann::json (Ec2Service::*)(const nlohmann::json& params);
  struct Action {
    Handler handler;
    std::set<std::string, std::less<>> parameters;  // accepted top-level parameter names
  };
  static const std::map<std::string, Action, std::less<>>& Actions();

  // catalog
  nlohmann::json DescribeInstanceTypes(const nlohmann::json& p);
  nlohmann::json DescribeInstanceTypeOfferings(const nlohmann::json& p);
  nlohmann::json DescribeSpotPriceHistory(const nlohmann::json& p);
  nlohmann::json DescribeAvailabilityZones(const nlohmann::json& p);
  // network and images
  nlohmann::json DescribeSubnets(const nlohmann::json& p);
  nlohmann::json DescribeSecurityGroups(const nlohmann::json& p);
  nlohmann::json DescribeVpcs(const nlohmann::json& p);
  nlohmann::json DescribeImages(const nlohmann::json& p);
  // capacity reservations
  nlohmann::json DescribeCapacityReservations(const nlohmann::json& p);
  nlohmann::json CreateCapacityReservation(const nlohmann::json& p);
  nlohmann::json CancelCapacityReservation(const nlohmann::json& p);
  nlohmann::json DescribeCapacityBlockOfferings(const nlohmann::json& p);
  nlohmann::json PurchaseCapacityBlock(const nlohmann::json& p);
  // launch templates
  nlohmann::json CreateLaunchTemplate(const nlohmann::json& p);
  nlohmann::json DeleteLaunchTemplate(const nlohmann::json& p);
  nlohmann::json DescribeLaunchTemplates(const nlohmann::json& p);
  // instances
  nlohmann::json RunInstances(const nlohmann::json& p);
  nlohmann::json CreateFleet(const nlohmann::json& p);
  nlohmann::json DescribeInstances(const nlohmann::json& p);
  nlohmann::json TerminateInstances(const nlohmann::json& p);
  nlohmann::json CreateTags(const nlohmann::json& p);
  nlohmann::json DeleteTags(const nlohmann::json& p);

  // What one launch needs, resolved from RunInstances or a CreateFleet override.
  struct LaunchSpec {
    std::string instance_type, zone, subnet_id, image_id, capacity_type = "on-demand";
    std::string reservation_id;          // targeted reservation, or one chosen as open
    std::string reservation_preference = "open";  // open | none | capacity-reservations-only
    std::string user_data, client_token, launch_template_id, key_name, iam_instance_profile;
    std::vector<std::string> security_group_ids;
    nlohmann::json tags = nlohmann::json::array();
    std::string reservation_group;       // r-... shared by one RunInstances call
  };
  // Checks capacity (faults, reservations, subnet IPs) and appends the instance's changes;
  // throws the ApiError EC2 would give for this pool.
  nlohmann::json LaunchOne(LaunchSpec spec, const FaultConfig& faults, std::vector<Change>& changes,
                           std::map<std::string, nlohmann::json>& touched);
  // Merges a launch template's data (by id or name and version) into `spec`.
  void ApplyLaunchTemplate(const nlohmann::json& lt_spec, LaunchSpec& spec, std::string* resolved_id);
  void ApplyLaunchData(const nlohmann::json& data, LaunchSpec& spec);
  const nlohmann::json& Subnet(std::string_view id) const;
  std::string DefaultSubnet(std::string_view zone) const;
  // An open, active reservation with free capacity for (type, zone), or "".
  std::string OpenReservationFor(std::string_view type, std::string_view zone,
                                 const std::map<std::string, nlohmann::json>& touched) const;

  // Pagination over an already-filtered list: NextToken is the offset, opaque to clients.
  nlohmann::json Page(nlohmann::json items, const nlohmann::json& p, const char* list_name, long long default_max,
                      long long min_max, long long max_max);
  std::string NewId(std::string_view prefix);
  void CommitOrThrow(const std::vector<Change>& changes);

  Catalog catalog_;
  std::unique_ptr<StateStore> store_;
  core::Clock& clock_;
  ServiceOptions options_;
  std::mt19937_64 random_;
  const FaultConfig* faults_ = nullptr;  // the current request's faults (HandleEc2 sets it)
  // Capacity block offerings handed out by Describe, by id, until purchased (not persisted: an
  // offering is a quote, as on EC2).
  std::map<std::string, nlohmann::json> block_offerings_;
};

}  // namespace gpufleet::cloud::ec2emu
