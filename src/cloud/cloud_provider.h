// CloudProvider: what the provisioner asks of a cloud, in Karpenter's terms and nothing
// cloud-specific: launch a machine for a NodeClaim, find and delete it, list the instance types a
// NodePool could use (with offerings per zone and capacity type), tell whether a running machine
// has drifted from its NodeClass, and which node conditions mean "repair me".
//
// The AWS implementation is aws/provider.h; a provider is free to keep caches (instance types,
// unavailable offerings, launch templates), so every method is thread-safe.
//
// Errors are values. Their StatusCode says what the provisioner should do (see ErrorKind):
//   kResourceExhausted   insufficient capacity: the offerings tried are now cached unavailable;
//                        delete the NodeClaim and solve again (the next type / NodePool)
//   kUnavailable         transient (throttling, 5xx, network): retry with backoff
//   kUnauthenticated,    credentials missing or refused / not allowed: alert, do not hot-loop
//   kPermissionDenied
//   kInvalidArgument,    the NodeClass or request cannot work as written (no subnets, unknown
//   kFailedPrecondition  AMI, bad user data): surface on the NodeClass/NodeClaim, do not retry
//   kNotFound            the machine does not exist (Get/Delete): garbage-collect the NodeClaim
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/requirements.h"
#include "core/resource_list.h"
#include "core/status.h"
#include "core/taints.h"
#include "scheduling/model.h"

namespace gpufleet::cloud {

// What the provisioner can do about an error (from its StatusCode, see above).
enum class ErrorKind { kRetryable, kInsufficientCapacity, kUnauthorized, kInvalidConfiguration, kNotFound, kOther };
ErrorKind Classify(const Status& status);
std::string_view ErrorKindName(ErrorKind kind);

// The NodeClass a NodePool points at (EC2NodeClass for AWS); the provider resolves it.
struct NodeClassRef {
  std::string group = "karpenter.k8s.aws";
  std::string kind = "EC2NodeClass";
  std::string name;
};

// The part of a NodeClaim a launch needs.
struct NodeClaim {
  std::string name;
  std::string uid;  // the idempotency token of the launch
  std::string nodepool;
  NodeClassRef node_class;
  // What the scheduler decided: instance types, zones and capacity types left open (In lists),
  // reservation ids when reserved, and any other label requirement.
  core::Requirements requirements;
  core::ResourceList requests;  // the pods' requests plus daemon overhead
  core::Labels labels;          // NodePool template labels, for the node's user data
  std::vector<core::Taint> taints, startup_taints;
  std::map<std::string, std::string> tags;  // NodePool/NodeClaim tags beyond the provider's own
};

// A machine as the cloud reports it.
struct Machine {
  std::string provider_id;  // aws:///us-west-2a/i-0123...
  std::string instance_id;
  std::string instance_type;
  std::string zone;
  std::string capacity_type;   // on-demand, spot, reserved
  std::string reservation_id;  // when reserved
  std::string reservation_type;  // default or capacity-block
  std::string image_id;
  std::string state;           // pending, running, shutting-down, terminated, ...
  std::chrono::system_clock::time_point launch_time;
  std::string private_dns_name;
  std::string nodeclaim;       // from the machine's tags
  std::string nodepool;
  core::Labels labels;         // well-known labels of its type and offering
  core::ResourceList capacity, allocatable;
  std::map<std::string, std::string> tags;
};

// A node condition that, held for `toleration`, makes the node a repair candidate.
struct RepairPolicy {
  std::string condition_type;
  std::string condition_status;
  std::chrono::seconds toleration;
};

class CloudProvider {
 public:
  virtual ~CloudProvider() = default;

  // Launches one machine for `claim`, choosing among the types/zones/capacity types its
  // requirements allow (reserved first, then the cheapest). Idempotent on claim.uid.
  virtual Result<Machine> Create(const NodeClaim& claim) = 0;
  // Terminates the machine. kNotFound once it is gone.
  virtual Status Delete(const std::string& provider_id) = 0;
  virtual Result<Machine> Get(const std::string& provider_id) = 0;
  // Every machine this cluster launched that is not terminated.
  virtual Result<std::vector<Machine>> List() = 0;
  // The instance types `node_class` can launch, with offerings (zone x capacity type, price,
  // availability, reservations) as of now, for the scheduling simulator. With `only`, just the
  // types whose labels intersect it (a NodePool's requirements): a batch then copies and solves
  // over the few types a pool can use instead of the whole catalog.
  virtual Result<std::vector<scheduling::InstanceType>> GetInstanceTypes(const NodeClassRef& node_class,
                                                                         const core::Requirements* only = nullptr) = 0;
  // Why `machine` no longer matches its NodeClass (e.g. "AMIDrift"), or nullopt.
  virtual Result<std::optional<std::string>> IsDrifted(const Machine& machine, const NodeClassRef& node_class) = 0;
  virtual std::vector<RepairPolicy> RepairPolicies() const = 0;
  virtual std::string_view Name() const = 0;
};

}  // namespace gpufleet::cloud
