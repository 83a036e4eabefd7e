// WorkQueue: client-go's rate-limited work queue for controllers, keyed by strings ("ns/name").
//
//   - An item is queued at most once; Add of an item already waiting does nothing.
//   - An item is never handed to two workers at once: Add while it is being processed marks it
//     dirty, and Done puts it back so the change is processed afterwards.
//   - AddRateLimited delays by the larger of a per-item exponential backoff (5 ms doubling to
//     1000 s, per failure until Forget) and an overall token bucket (10 qps, burst 100), like
//     workqueue.DefaultControllerRateLimiter.
//   - AddAfter delays on the injected clock (FakeClock in tests).
//   - ShutDown wakes every Get; items still queued are dropped.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>

#include "core/clock.h"
#include "kube/rate_limiter.h"

namespace gpufleet::kube {

struct WorkQueueOptions {
  std::chrono::milliseconds item_base{5};
  std::chrono::milliseconds item_max{std::chrono::seconds(1000)};
  double qps = 10;
  int burst = 100;
};

class WorkQueue {
 public:
  explicit WorkQueue(core::Clock& clock, WorkQueueOptions options = {});
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Add(const std::string& item);
  void AddAfter(const std::string& item, core::Duration delay);
  void AddRateLimited(const std::string& item);
  // The delay AddRateLimited would use now, counting one more failure of `item` (client-go's
  // RateLimiter.When).
  core::Duration When(const std::string& item);
  // Forgets the item's failures (its next AddRateLimited starts from the base delay).
  void Forget(const std::string& item);
  int NumRequeues(const std::string& item) const;

  // Blocks until an item is ready (returned and marked processing) or the queue shuts down
  // (nullopt). Every returned item must be passed to Done.
  std::optional<std::string> Get();
  void Done(const std::string& item);

  void ShutDown();
  bool ShuttingDown() const;
  size_t Len() const;  // items ready to be handed out

 private:
  void DelayLoop(std::stop_token stop);

  core::Clock& clock_;
  const WorkQueueOptions options_;
  TokenBucket overall_;

  mutable std::mutex mu_;
  std::condition_variable ready_cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // queued or to be re-queued after processing
  std::set<std::string> processing_;
  std::map<std::string, int> failures_;
  std::multimap<core::TimePoint, std::string> waiting_;  // AddAfter, by ready time
  std::condition_variable waiting_cv_;
  std::stop_source wake_delay_;        // interrupts the delay loop's sleep for an earlier item
  bool shutting_down_ = false;
  std::jthread delay_thread_;
};

}  // namespace gpufleet::kube
