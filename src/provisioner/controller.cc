#include "provisioner/controller.h"

#include <thread>
#include <vector>

#include "core/log.h"
#include "core/time_format.h"

namespace gpufleet::provisioner {
namespace {

const core::log::Logger kLog("controller");

}  // namespace

Controller::Controller(kube::Client& client, cloud::CloudProvider& cloud, NodeClassResolver resolver,
                       core::Clock& clock, ControllerOptions options)
    : clock_(clock),
      options_(std::move(options)),
      cluster_(client, clock),
      batcher_(clock, options_.batch_idle, options_.batch_max),
      provisioner_(cluster_, cloud, metrics_, options_.provisioner),
      lifecycle_(cluster_, cloud, metrics_, options_.lifecycle, [this] { batcher_.Trigger(); }),
      nodeclass_status_(cluster_, std::move(resolver), options_.cluster_name, options_.nodeclass_resolve_interval),
      nodepool_status_(cluster_, metrics_),
      gc_(cluster_, cloud, metrics_, options_.gc_min_age),
      lifecycle_queue_(clock),
      nodeclass_queue_(clock),
      nodepool_queue_(clock) {
  DeclareControllerMetrics(metrics_);
  RegisterHandlers();
}

Controller::~Controller() {
  lifecycle_queue_.ShutDown();
  nodeclass_queue_.ShutDown();
  nodepool_queue_.ShutDown();
}

void Controller::RegisterHandlers() {
  const PendingPodPolicy policy = options_.provisioner.pending_pods;
  cluster_.pods.AddEventHandler({
      .on_add = [this, policy](const auto& pod) {
        if (IsProvisionable(*pod, policy)) batcher_.Trigger();
      },
      .on_update = [this, policy](const auto& old_pod, const auto& pod) {
        if (IsProvisionable(*pod, policy)) batcher_.Trigger();
        if (old_pod->unbound != nullptr && !pod->node_name.empty()) {
          auto created = core::ParseRfc3339(old_pod->unbound->metadata.creation_timestamp);
          if (created.ok()) {
            metrics_.Observe("karpenter_pods_startup_duration_seconds", {},
                             std::chrono::duration<double>(clock_.Now() - *created).count());
          }
        }
      },
      .on_delete = {},
  });
  auto claim_changed = [this](const std::shared_ptr<const kube::NodeClaim>& claim, bool lifecycle) {
    if (lifecycle) lifecycle_queue_.Add(claim->metadata.name);
    std::string pool(claim->NodePoolName());
    if (!pool.empty()) nodepool_queue_.Add(pool);  // its status counts conditions too
  };
  cluster_.nodeclaims.AddEventHandler({
      .on_add = [claim_changed](const auto& claim) { claim_changed(claim, true); },
      .on_update =
          [claim_changed](const auto& before, const auto& claim) {
            claim_changed(claim, LifecycleShouldReconcile(*before, *claim));
          },
      .on_delete = [this](const auto& claim) {
        std::string pool(claim->NodePoolName());
        if (!pool.empty()) nodepool_queue_.Add(pool);
        batcher_.Trigger();  // its pods (e.g. after insufficient capacity) need another place
      },
  });
  auto node_changed = [this](const std::shared_ptr<const kube::Node>& node) {
    if (node->spec.provider_id.empty()) return;
    if (auto claim = cluster_.NodeClaimByProviderId(node->spec.provider_id)) lifecycle_queue_.Add(claim->metadata.name);
  };
  cluster_.nodes.AddEventHandler({
      .on_add = node_changed,
      .on_update = [node_changed](const auto&, const auto& node) { node_changed(node); },
      .on_delete = node_changed,
  });
  auto pool_changed = [this](const std::shared_ptr<const kube::NodePool>& pool) {
    nodepool_queue_.Add(pool->metadata.name);
    batcher_.Trigger();
  };
  cluster_.nodepools.AddEventHandler({
      .on_add = pool_changed,
      .on_update =
          [this, pool_changed](const auto& old_pool, const auto& pool) {
            // Status writes (resources, conditions) come with every NodeClaim change; only a new
            // spec or a change of readiness can place pods that could not be placed before.
            if (old_pool->metadata.generation != pool->metadata.generation || old_pool->Ready() != pool->Ready()) {
              pool_changed(pool);
            } else {
              nodepool_queue_.Add(pool->metadata.name);
            }
          },
      .on_delete = {},
  });
  auto class_changed = [this](const std::shared_ptr<const kube::EC2NodeClass>& node_class) {
    nodeclass_queue_.Add(node_class->metadata.name);
    for (const auto& pool : cluster_.nodepools.List()) {
      if (pool->spec.template_.spec.node_class_ref.name == node_class->metadata.name) {
        nodepool_queue_.Add(pool->metadata.name);
      }
    }
  };
  cluster_.nodeclasses.AddEventHandler({
      .on_add = class_changed,
      .on_update = [class_changed](const auto&, const auto& node_class) { class_changed(node_class); },
      .on_delete = class_changed,
  });
}

bool Controller::AnyPending() const {
  for (const auto& pod : cluster_.pods.ByIndex(kUnboundPods, "true")) {
    if (IsProvisionable(*pod, options_.provisioner.pending_pods)) return true;
  }
  return false;
}

void Controller::ProvisioningLoop(std::stop_token stop) {
  while (batcher_.Wait(stop)) {
    metrics_.Observe("karpenter_provisioner_batch_window_seconds", {},
                     std::chrono::duration<double>(clock_.Now() - batcher_.BatchOpened()).count());
    auto result = provisioner_.Provision(stop);
    if (stop.stop_requested()) break;
    if (!result.ok()) {
      kLog.Error("provisioning", {{"error", result.status()}});
      clock_.SleepFor(std::chrono::seconds(1), stop);
      batcher_.Trigger();
    }
  }
}

void Controller::ResyncLoop(std::stop_token stop) {
  while (clock_.SleepFor(options_.pending_resync, stop)) {
    if (AnyPending()) batcher_.Trigger();
  }
}

void Controller::GarbageCollectionLoop(std::stop_token stop) {
  while (clock_.SleepFor(options_.gc_interval, stop)) {
    auto result = gc_.Collect();
    if (!result.ok()) kLog.Warn("garbage collection", {{"error", result.status()}});
  }
}

void Controller::Work(kube::WorkQueue& queue,
                      const std::function<Result<core::Duration>(const std::string&)>& reconcile) {
  while (auto item = queue.Get()) {
    auto again = reconcile(*item);
    if (!again.ok()) {
      // Conflicts (a stale cache read) are routine and retried at once; anything else is what
      // an operator needs to see.
      if (again.status().code() == StatusCode::kAborted || again.status().code() == StatusCode::kAlreadyExists) {
        kLog.Debug("reconcile failed; retrying", {{"item", *item}, {"error", again.status()}});
      } else {
        kLog.Warn("reconcile failed; retrying", {{"item", *item}, {"error", again.status()}});
      }
      queue.AddRateLimited(*item);
    } else {
      queue.Forget(*item);
      if (*again > core::Duration::zero()) queue.AddAfter(*item, *again);
    }
    queue.Done(*item);
  }
}

void Controller::Run(std::stop_token stop) {
  cluster_.Start(stop);
  while (!cluster_.WaitForSync(std::chrono::milliseconds(200))) {
    if (stop.stop_requested()) return;
  }
  kLog.Info("caches synced; starting controllers",
            {{"nodepools", cluster_.nodepools.Size()}, {"nodeclaims", cluster_.nodeclaims.Size()},
             {"nodes", cluster_.nodes.Size()}, {"pods", cluster_.pods.Size()}});
  // Everything already cached gets one reconcile (informer adds ran before the workers).
  for (const auto& c : cluster_.nodeclaims.List()) lifecycle_queue_.Add(c->metadata.name);
  for (const auto& c : cluster_.nodeclasses.List()) nodeclass_queue_.Add(c->metadata.name);
  for (const auto& p : cluster_.nodepools.List()) nodepool_queue_.Add(p->metadata.name);
  if (AnyPending()) batcher_.Trigger();

  std::vector<std::jthread> threads;
  threads.emplace_back([this](std::stop_token s) { ProvisioningLoop(s); });
  threads.emplace_back([this](std::stop_token s) { ResyncLoop(s); });
  threads.emplace_back([this](std::stop_token s) { GarbageCollectionLoop(s); });
  for (int i = 0; i < std::max(1, options_.lifecycle_workers); ++i) {
    threads.emplace_back([this] { Work(lifecycle_queue_, [this](const std::string& n) { return lifecycle_.Reconcile(n); }); });
  }
  threads.emplace_back([this] { Work(nodeclass_queue_, [this](const std::string& n) { return nodeclass_status_.Reconcile(n); }); });
  threads.emplace_back([this] { Work(nodepool_queue_, [this](const std::string& n) { return nodepool_status_.Reconcile(n); }); });
  ready_ = true;

  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait(lock, stop, [] { return false; });

  kLog.Info("stopping controllers");
  ready_ = false;
  lifecycle_queue_.ShutDown();
  nodeclass_queue_.ShutDown();
  nodepool_queue_.ShutDown();
  for (auto& t : threads) t.request_stop();
  threads.clear();
  cluster_.recorder().Flush();
}

}  // namespace gpufleet::provisioner
