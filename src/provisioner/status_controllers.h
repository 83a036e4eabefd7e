// The status controllers: what `kubectl get nodepools` / `ec2nodeclasses` show, and what the
// provisioner reads to decide which NodePools may launch.
//
//   NodeClassStatusController  validates each EC2NodeClass, resolves its selectors through the
//                              cloud (subnets, security groups, AMIs, capacity reservations) and
//                              writes status and the conditions SubnetsReady, SecurityGroupsReady,
//                              AMIsReady, CapacityReservationsReady, InstanceProfileReady,
//                              ValidationSucceeded and Ready; re-resolved every minute (new AMIs,
//                              reservation counts and states).
//   NodePoolStatusController   validates each NodePool (ValidationSucceeded), checks its NodeClass
//                              (NodeClassReady), sums its NodeClaims' resources into
//                              status.resources / status.nodes, and sets Ready.
// Invalid objects get the condition False with the problems as message and a Warning Event;
// they are skipped by the provisioner and never stop the controller.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "core/status.h"
#include "kube/types/karpenter.h"
#include "provisioner/cluster.h"
#include "provisioner/metrics.h"

namespace gpufleet::provisioner {

// Resolves an EC2NodeClass's selectors (aws::AwsCloudProvider::Resolve in production).
using NodeClassResolver = std::function<Result<kube::EC2NodeClassStatus>(const kube::EC2NodeClassSpec&)>;

class NodeClassStatusController {
 public:
  NodeClassStatusController(Cluster& cluster, NodeClassResolver resolver, std::string cluster_name,
                            std::chrono::seconds resolve_interval = std::chrono::minutes(1));
  // Returns when to look again.
  Result<core::Duration> Reconcile(const std::string& name);

 private:
  Cluster& cluster_;
  NodeClassResolver resolver_;
  std::string cluster_name_;
  std::chrono::seconds resolve_interval_;
};

class NodePoolStatusController {
 public:
  NodePoolStatusController(Cluster& cluster, Metrics& metrics);
  Result<core::Duration> Reconcile(const std::string& name);

 private:
  Cluster& cluster_;
  Metrics& metrics_;
};

}  // namespace gpufleet::provisioner
