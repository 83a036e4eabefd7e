// DaemonSetController: kube-controller-manager's DaemonSet controller and pod garbage
// collector for the embedded cluster.
//   - Each DaemonSet gets one pod on every node that should run it (daemon_pod.h: selector,
//     required node affinity, taints against the template's tolerations plus the daemon ones),
//     created already bound to its node, with a SuccessfulCreate event; pods on nodes that no
//     longer match are deleted (SuccessfulDelete), failed ones replaced, extras removed. A node
//     whose pod is still terminating gets no second one until it is gone.
//   - Status (desired/current/misscheduled/ready/available/updated, observedGeneration) is
//     written to daemonsets/status when it changes.
//   - Pod GC: a pod bound to a Node that no longer exists is deleted at once (grace 0): the
//     simulated kubelet went with the node, so nothing else would ever finish its deletion.
//     This also removes the daemon pods of deleted nodes.
// Threads: one per informer (handlers only wake the loop), a resync ticker on the clock, and
// Run's own thread, which does every API write.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <stop_token>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/status.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/types/informers.h"
#include "sim/wakeup.h"

namespace gpufleet::sim {

struct DaemonSetControllerOptions {
  std::chrono::milliseconds resync{1000};  // reconcile everything again this often
};

class DaemonSetController {
 public:
  DaemonSetController(kube::Client& client, core::Clock& clock, DaemonSetControllerOptions options = {});
  ~DaemonSetController();
  DaemonSetController(const DaemonSetController&) = delete;
  DaemonSetController& operator=(const DaemonSetController&) = delete;

  // Starts its informers, reconciles until `stop` is requested, then flushes its events.
  void Run(std::stop_token stop);
  // The informers have synced and the loop runs.
  bool Ready() const { return ready_.load(); }

 private:
  void Pass();
  Status Sync(const nlohmann::json& daemon_set);
  Status CreatePod(const nlohmann::json& daemon_set, const std::string& hash, const std::string& node);
  void DeletePod(const nlohmann::json& daemon_set, const kube::Pod& pod);
  // `status` holds the counted fields; the rest of the DaemonSet's status is kept.
  Status WriteStatus(const nlohmann::json& daemon_set, const nlohmann::json& status);
  void CollectOrphanedPods();

  kube::Client& client_;
  core::Clock& clock_;
  DaemonSetControllerOptions options_;
  kube::Informer daemonsets_;  // as JSON: new pods copy the whole template
  kube::NodeInformer nodes_;
  kube::PodInformer pods_;
  kube::EventRecorder recorder_;
  Wakeup wakeup_;
  std::atomic<bool> ready_{false};
  // Run's thread only: pods created per (DaemonSet uid, node), with the create's
  // resourceVersion, until the pod cache has caught up with them (the controller's
  // expectations: a lagging cache must not make a second pod).
  std::map<std::pair<std::string, std::string>, uint64_t> creating_;
  // Pods deleted, by uid, likewise until the cache shows them terminating or gone.
  std::map<std::string, uint64_t> deleting_;
};

}  // namespace gpufleet::sim
