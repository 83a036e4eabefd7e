// NodeClaimLifecycle: Karpenter's NodeClaim lifecycle controller, one NodeClaim at a time.
//
//   Launched     CloudProvider::Create with the NodeClaim (its UID is the idempotency token, so
//                a retry after a crash returns the same instance); providerID, image, capacity,
//                allocatable and the instance's labels are written to the NodeClaim. Insufficient
//                capacity deletes the NodeClaim (the offering is cached unavailable) and
//                re-triggers provisioning, which falls back to the next type / NodePool.
//   Registered   a Node with the same providerID: its labels (template + instance labels +
//                karpenter.sh/registered), taints and startup taints (once, at registration),
//                the termination finalizer and an owner reference to the NodeClaim are synced,
//                and karpenter.sh/unregistered:NoExecute is removed.
//   Initialized  the Node is Ready, startup taints and known ephemeral taints are gone, and
//                every resource the NodeClaim requested is allocatable (GPU nodes wait for the
//                device plugin to publish nvidia.com/gpu); the Node gets
//                karpenter.sh/initialized=true. Ready = Launched && Registered && Initialized.
//   Timeouts     not launched within launch_timeout, or not registered within
//                registration_timeout of the launch: the NodeClaim is deleted (configurable,
//                where Karpenter hard-codes 15 minutes: k#357).
//   Termination  a NodeClaim being deleted: its Node is tainted and drained (drain.h: evictions
//                that honour PodDisruptionBudgets, bounded by terminationGracePeriod; condition
//                Drained), then deleted, its instance terminated (found by providerID, or by the
//                karpenter.sh/nodeclaim tag when the launch never reported back), and only once
//                the cloud says the instance is gone are the finalizers removed, from the Node and
//                then the NodeClaim.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "cloud/cloud_provider.h"
#include "core/status.h"
#include "provisioner/cluster.h"
#include "provisioner/drain.h"
#include "provisioner/metrics.h"

namespace gpufleet::provisioner {

struct LifecycleOptions {
  std::chrono::seconds launch_timeout{std::chrono::minutes(5)};
  std::chrono::seconds registration_timeout{std::chrono::minutes(15)};
  std::chrono::seconds termination_poll{5};  // how often a terminating instance is re-checked
  std::chrono::milliseconds drain_poll{std::chrono::seconds(2)};  // how often a draining node is re-checked
};

// Whether an update of a NodeClaim gives the lifecycle anything new to act on. Its own status
// writes (conditions) do not: reacting to them would turn a failure whose message changes each
// time (an AWS request id) into a hot loop that bypasses the retry backoff.
bool LifecycleShouldReconcile(const kube::NodeClaim& before, const kube::NodeClaim& after);

class NodeClaimLifecycle {
 public:
  // `on_capacity_error` runs after a NodeClaim was deleted for insufficient capacity, so the
  // provisioner re-batches its pods.
  NodeClaimLifecycle(Cluster& cluster, cloud::CloudProvider& cloud, Metrics& metrics, LifecycleOptions options,
                     std::function<void()> on_capacity_error);

  // Reconciles the NodeClaim `name` from the cache. Returns when to look again (zero: on the
  // next event only), or an error to retry with backoff (conflicts, transient cloud errors).
  Result<core::Duration> Reconcile(const std::string& name);

 private:
  Result<core::Duration> Launch(kube::NodeClaim claim);
  Result<core::Duration> Register(kube::NodeClaim claim);
  Result<core::Duration> Initialize(kube::NodeClaim claim);
  Result<core::Duration> Finalize(kube::NodeClaim claim);
  // Deletes the NodeClaim (it then terminates through Finalize), counting why.
  Status Remove(const kube::NodeClaim& claim, std::string_view reason, std::string_view message);
  Status WriteStatus(kube::NodeClaim& claim);

  Cluster& cluster_;
  cloud::CloudProvider& cloud_;
  Metrics& metrics_;
  LifecycleOptions options_;
  std::function<void()> on_capacity_error_;
  Drainer drainer_;
};

}  // namespace gpufleet::provisioner
