// Provisioner: turns a batch of pending pods into NodeClaims (Karpenter's provisioning
// controller). One Provision() call:
//   1. waits until the caches hold every NodeClaim this process created (never solve on a view
//      that lacks the last batch's claims: that is how duplicate nodes happen);
//   2. collects the provisionable pods, the ready NodePools (valid, NodeClass Ready) with their
//      instance types from the CloudProvider, existing Nodes with their pods, in-flight
//      NodeClaims, DaemonSet overhead and each pool's usage for limits;
//   3. solves (scheduling::Solve, bounded by a deadline);
//   4. creates one NodeClaim per new claim, before any cloud call (the lifecycle controller
//      launches it with the NodeClaim's UID as idempotency token, so a crash anywhere never
//      leaks or duplicates an instance), and records Events: Nominated on placed pods,
//      FailedScheduling with the solver's reason on the others.
// Pods are never bound here: kube-scheduler (or the embedded binder) binds them once the node
// is initialized.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <stop_token>
#include <string>

#include "cloud/cloud_provider.h"
#include "core/status.h"
#include "provisioner/cluster.h"
#include "provisioner/metrics.h"
#include "provisioner/scheduling_input.h"
#include "scheduling/model.h"

namespace gpufleet::provisioner {

struct ProvisionerOptions {
  PendingPodPolicy pending_pods = PendingPodPolicy::kUnbound;
  std::chrono::milliseconds solve_timeout{std::chrono::minutes(1)};  // Karpenter's Solve cap
  std::chrono::milliseconds cache_sync_timeout{std::chrono::seconds(10)};
  scheduling::Options scheduling;
};

struct ProvisionResult {
  size_t pending_pods = 0;
  size_t nodeclaims_created = 0;
  size_t unplaced = 0;
  size_t on_existing = 0;  // placed on registered nodes or in-flight claims
  double decision_seconds = 0;  // reading the caches, instance types and solving; no API writes
};

class Provisioner {
 public:
  Provisioner(Cluster& cluster, cloud::CloudProvider& cloud, Metrics& metrics, ProvisionerOptions options);

  // One batch. Errors are those that stopped it before any NodeClaim was created (instance types
  // could not be read, the caches never caught up); creating a NodeClaim that fails is logged
  // and counted, and the pods stay pending for the next batch.
  // `stop` cuts short the wait for the caches (shutdown).
  Result<ProvisionResult> Provision(std::stop_token stop = {});

  // The NodePool's status condition NodeClassReady: its NodeClass exists and is Ready.
  static bool NodeClassReady(const Cluster& cluster, const kube::NodePool& pool);

 private:
  Status WaitForCreatedClaims(std::stop_token stop);
  Result<std::string> CreateNodeClaim(const kube::NodePool& pool, const scheduling::NewNodeClaim& claim,
                                      const scheduling::Input& input);

  Cluster& cluster_;
  cloud::CloudProvider& cloud_;
  Metrics& metrics_;
  ProvisionerOptions options_;
  // NodeClaims created and not yet seen in the cache, with their creation's resource version.
  std::map<std::string, uint64_t> created_;
};

}  // namespace gpufleet::provisioner
