// Binder: kube-scheduler's role in the embedded cluster. Pending pods (no node, not finished,
// not being deleted, ours by spec.schedulerName) are placed on Ready nodes by the solver
// Karpenter's simulation uses (scheduling::Solve over existing nodes only), so node selectors,
// required node affinity, NoSchedule/NoExecute taints, resources (nvidia.com/gpu included),
// host ports and pod (anti-)affinity mean here exactly what they mean to the provisioner.
//   - a placed pod is bound through pods/binding, with a Normal "Scheduled" event;
//   - a pod that fits nowhere gets PodScheduled=False, reason Unschedulable, and a Warning
//     "FailedScheduling" event, once per distinct message: what Karpenter provisions for.
// Differences from kube-scheduler: no scoring (the solver's first fit), no preemption, and
// PreferNoSchedule taints are only a preference there, so they are ignored here.
//
// Threads: one per informer (handlers only wake the loop), a resync ticker on the clock, and
// Run's own thread, which does every solve and every API write.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <stop_token>
#include <string>

#include "core/clock.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/types/informers.h"
#include "sim/wakeup.h"

namespace gpufleet::sim {

struct BinderOptions {
  std::string scheduler_name = "default-scheduler";  // pods with spec.schedulerName "" or this
  std::chrono::milliseconds resync{1000};              // solve again this often while pods wait
};

class Binder {
 public:
  Binder(kube::Client& client, core::Clock& clock, BinderOptions options = {});
  ~Binder();
  Binder(const Binder&) = delete;
  Binder& operator=(const Binder&) = delete;

  // Starts its informers, binds until `stop` is requested, then flushes its events.
  void Run(std::stop_token stop);
  // The informers have synced and the loop runs.
  bool Ready() const { return ready_.load(); }
  // Pods bound so far (tests, metrics).
  int64_t bound() const { return bound_.load(); }

 private:
  // A pod this binder bound that the cache still shows unbound: its node keeps counting it, so
  // the next pass does not hand the same GPU to another pod (kube-scheduler's assumed pods).
  struct Assumed {
    std::string key;
    std::string node;
  };

  bool Pending(const kube::Pod& pod) const;
  void Pass();
  void Bind(const kube::Pod& pod, const std::string& node);
  void MarkUnschedulable(const kube::Pod& pod, const std::string& message);

  kube::Client& client_;
  core::Clock& clock_;
  BinderOptions options_;
  kube::PodInformer pods_;
  kube::NodeInformer nodes_;
  kube::EventRecorder recorder_;
  Wakeup wakeup_;
  std::atomic<bool> ready_{false};
  std::atomic<int64_t> bound_{0};
  // Run's thread only, by pod uid.
  std::map<std::string, Assumed> assumed_;
  std::map<std::string, std::string> reported_;  // the Unschedulable message last written
};

}  // namespace gpufleet::sim
