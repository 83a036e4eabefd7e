// Controller: `gpufleet controller`, the Karpenter-compatible provisioner. Wires the caches
// (Cluster), the provisioner behind its batch window, the NodeClaim lifecycle workers, the
// NodePool / EC2NodeClass status controllers, garbage collection and the metrics registry.
//
// Threads: one per informer; one provisioning loop (batch window, then Provision); N lifecycle
// workers on a work queue keyed by NodeClaim name (a NodeClaim is never reconciled by two
// workers at once); one worker each for NodePool and EC2NodeClass status; one garbage
// collection loop. Informer handlers only enqueue and trigger; all writes happen on workers.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <stop_token>
#include <string>

#include "cloud/cloud_provider.h"
#include "core/clock.h"
#include "kube/client.h"
#include "kube/work_queue.h"
#include "provisioner/batcher.h"
#include "provisioner/cluster.h"
#include "provisioner/garbage_collection.h"
#include "provisioner/lifecycle.h"
#include "provisioner/metrics.h"
#include "provisioner/provisioner.h"
#include "provisioner/status_controllers.h"

namespace gpufleet::provisioner {

struct ControllerOptions {
  std::string cluster_name = "gpufleet";
  std::chrono::milliseconds batch_idle{std::chrono::seconds(1)};   // BATCH_IDLE_DURATION
  std::chrono::milliseconds batch_max{std::chrono::seconds(10)};   // BATCH_MAX_DURATION
  // While pods stay pending (reservations in use, capacity errors cached, limits), solve again
  // this often so they are placed once something changes that no event announces.
  std::chrono::seconds pending_resync{std::chrono::seconds(30)};
  std::chrono::seconds gc_interval{std::chrono::minutes(2)};
  std::chrono::seconds gc_min_age{std::chrono::seconds(30)};
  std::chrono::seconds nodeclass_resolve_interval{std::chrono::minutes(1)};
  int lifecycle_workers = 4;
  ProvisionerOptions provisioner;
  LifecycleOptions lifecycle;
};

class Controller {
 public:
  Controller(kube::Client& client, cloud::CloudProvider& cloud, NodeClassResolver resolver, core::Clock& clock,
             ControllerOptions options);
  ~Controller();

  // Runs every loop until `stop` is requested, then drains the queues and returns.
  void Run(std::stop_token stop);
  // The caches have synced and the loops run.
  bool Ready() const { return ready_.load(); }

  Metrics& metrics() { return metrics_; }
  Cluster& cluster() { return cluster_; }

 private:
  void RegisterHandlers();
  void ProvisioningLoop(std::stop_token stop);
  void Work(kube::WorkQueue& queue, const std::function<Result<core::Duration>(const std::string&)>& reconcile);
  void GarbageCollectionLoop(std::stop_token stop);
  void ResyncLoop(std::stop_token stop);
  bool AnyPending() const;

  core::Clock& clock_;
  ControllerOptions options_;
  Metrics metrics_;
  Cluster cluster_;
  Batcher batcher_;
  Provisioner provisioner_;
  NodeClaimLifecycle lifecycle_;
  NodeClassStatusController nodeclass_status_;
  NodePoolStatusController nodepool_status_;
  GarbageCollector gc_;
  kube::WorkQueue lifecycle_queue_, nodeclass_queue_, nodepool_queue_;
  std::atomic<bool> ready_{false};
};

}  // namespace gpufleet::provisioner
