// AwsCloudProvider: the CloudProvider for EC2, as Karpenter's AWS provider behaves.
//
//   Resolve          EC2NodeClass selectors -> subnets, security groups, AMIs (the al2023 alias
//                    through SSM), capacity reservations (by id, or tags + owner + match criteria)
//   GetInstanceTypes DescribeInstanceTypes + offerings per zone + spot prices (cached 5 min),
//                    on-demand prices from the price table, reserved offerings per reservation
//                    (on-demand price / 10^7, free count), minus the unavailable-offerings cache
//   Create           capacity type reserved > spot > on-demand; types by price, at most 60; one
//                    launch template per (AMI, reservation) with capacity-reservations-only for
//                    reserved; CreateFleet instant with ClientToken = NodeClaim UID; capacity
//                    errors go to the 3-minute cache and come back as kResourceExhausted
//   Get/List/Delete  DescribeInstances / TerminateInstances on the cluster's tagged instances
//   IsDrifted        AMI, subnet and security group drift against the NodeClass as resolved now
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "cloud/aws/api_client.h"
#include "cloud/aws/ec2.h"
#include "cloud/aws/unavailable_offerings.h"
#include "cloud/cloud_provider.h"
#include "core/thread_annotations.h"
#include "kube/types/karpenter.h"

namespace gpufleet::cloud::aws {

struct ClusterInfo {
  std::string name = "gpufleet";
  std::string endpoint;                 // API server URL written into the user data
  std::string certificate_authority;    // base64 PEM
  std::string service_cidr = "10.100.0.0/16";
  std::vector<std::string> cluster_dns = {"10.100.0.10"};
  std::string kubernetes_version = "1.32";  // picks the AMI alias's SSM parameters
};

struct AwsProviderOptions {
  ClusterInfo cluster;
  std::string region;
  // The EC2NodeClass named by a NodeClaim (the provisioner reads it from its informer).
  std::function<Result<kube::EC2NodeClass>(std::string_view name)> node_classes;
  std::map<std::string, double> on_demand_prices;  // USD/hour per type in this region
  core::Clock* clock = nullptr;
  std::chrono::seconds unavailable_ttl{std::chrono::minutes(3)};
  std::chrono::seconds catalog_ttl{std::chrono::minutes(5)};
  std::chrono::seconds resolution_ttl{std::chrono::minutes(1)};  // NodeClass selectors, reservations
  size_t max_instance_types = 60;  // Karpenter's launch truncation
};

// The region's on-demand prices from data/aws-instance-types.json (us-east-1's where the table
// has none for the region, as the emulator charges).
Result<std::map<std::string, double>> LoadOnDemandPrices(const std::string& data_file, const std::string& region);

class AwsCloudProvider final : public CloudProvider {
 public:
  AwsCloudProvider(ApiClient& ec2, ApiClient& ssm, AwsProviderOptions options);

  Result<Machine> Create(const NodeClaim& claim) override;
  Status Delete(const std::string& provider_id) override;
  Result<Machine> Get(const std::string& provider_id) override;
  Result<std::vector<Machine>> List() override;
  Result<std::vector<scheduling::InstanceType>> GetInstanceTypes(const NodeClassRef& node_class,
                                                                 const core::Requirements* only = nullptr) override;
  Result<std::optional<std::string>> IsDrifted(const Machine& machine, const NodeClassRef& node_class) override;
  std::vector<RepairPolicy> RepairPolicies() const override;
  std::string_view Name() const override { return "aws"; }

  // The EC2NodeClass's selectors as resolved now: what its status should say. Conditions are
  // left to the caller. kInvalidArgument when a selector is malformed.
  Result<kube::EC2NodeClassStatus> Resolve(const kube::EC2NodeClassSpec& spec);

  UnavailableOfferings& unavailable() { return unavailable_; }

 private:
  struct Catalog {
    core::TimePoint fetched;
    std::vector<Ec2InstanceType> types;
    std::map<std::string, std::set<std::string>> zones;  // type -> zones offered
    std::map<std::pair<std::string, std::string>, double> spot;
  };
  struct Resolved {
    kube::EC2NodeClass node_class;
    kube::EC2NodeClassStatus status;
    std::vector<Ec2Subnet> subnets;
    std::vector<Ec2CapacityReservation> reservations;  // free counts as of resolution, minus our launches
    // Non-deprecated AMIs with their requirements parsed, in status order (AmiFor runs per type).
    std::vector<std::pair<std::string, core::Requirements>> bootable;
    uint64_t version = 0;
  };
  struct CachedResolution {
    std::string key;  // the spec it was resolved from
    core::TimePoint at;
    Resolved resolved;
  };
  struct CachedTypes {
    std::shared_ptr<const Catalog> catalog;
    uint64_t resolution = 0;
    std::vector<scheduling::InstanceType> types;  // availability not applied
    // Which of `types` a set of requirements allows, by Requirements::ToString(): a NodePool's
    // requirements filter the same list every batch.
    std::map<std::string, std::vector<size_t>> allowed;
  };

  Result<std::shared_ptr<const Catalog>> LoadCatalog();
  Result<Resolved> ResolveRef(const NodeClassRef& ref);
  Result<Resolved> ResolveClass(kube::EC2NodeClass node_class, std::string_view name);
  Result<std::vector<scheduling::InstanceType>> BuildInstanceTypes(const Catalog& catalog, const Resolved& resolved);
  // Offerings' availability and reservation counts as of now (the ICE cache, reservations).
  void ApplyAvailability(std::vector<scheduling::InstanceType>& types, const Resolved& resolved) const;
  // The NodeClass's types with availability applied; with `only`, just those intersecting it.
  Result<std::vector<scheduling::InstanceType>> InstanceTypesFor(const NodeClassRef& ref, Resolved& resolved,
                                                                 const core::Requirements* only = nullptr);
  // One slot of the reservation was used by our launch (until the next resolution says so).
  void NoteReservedLaunch(const std::string& node_class, const std::string& reservation_id);
  // The newest AMI whose requirements admit `type`, or "".
  std::string AmiFor(const Resolved& resolved, const scheduling::InstanceType& type) const;
  // Creates the launch template once (cached by name) and returns its name.
  Result<std::string> EnsureLaunchTemplate(const Resolved& resolved, const NodeClaim& claim, const std::string& image_id,
                                           const std::string& capacity_type, const std::string& reservation_id);
  Machine ToMachine(const Ec2Instance& instance) const;
  Result<Ec2Instance> Describe(const std::string& provider_id);

  ApiClient& ec2_;
  ApiClient& ssm_;
  AwsProviderOptions options_;
  core::Clock& clock_;
  UnavailableOfferings unavailable_;
  mutable std::mutex mu_;
  std::shared_ptr<const Catalog> catalog_ GF_GUARDED_BY(mu_);
  std::set<std::string> launch_templates_ GF_GUARDED_BY(mu_);  // names known to exist
  std::map<std::string, scheduling::InstanceType> types_by_name_ GF_GUARDED_BY(mu_);  // for Machine capacity
  std::map<std::string, CachedResolution> resolved_cache_ GF_GUARDED_BY(mu_);  // by NodeClass name
  std::map<std::string, CachedTypes> types_cache_ GF_GUARDED_BY(mu_);
  uint64_t resolutions_ GF_GUARDED_BY(mu_) = 0;
};

// "aws:///us-west-2a/i-0123456789abcdef0" -> "i-0123456789abcdef0"; kInvalidArgument otherwise.
Result<std::string> InstanceIdFromProviderId(std::string_view provider_id);

}  // namespace gpufleet::cloud::aws
