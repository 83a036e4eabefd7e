#include "kube/work_queue.h"

#include <algorithm>
#include <cmath>

namespace gpufleet::kube {

WorkQueue::WorkQueue(core::Clock& clock, WorkQueueOptions options)
    : clock_(clock), options_(options), overall_(options.qps, options.burst, clock) {
  delay_thread_ = std::jthread([this](std::stop_token stop) { DelayLoop(stop); });
}

WorkQueue::~WorkQueue() {
  ShutDown();
  delay_thread_.request_stop();
  {
    std::lock_guard lock(mu_);
    wake_delay_.request_stop();
  }
  waiting_cv_.notify_all();
}

void WorkQueue::Add(const std::string& item) {
  std::lock_guard lock(mu_);
  if (shutting_down_ || dirty_.contains(item)) return;
  dirty_.insert(item);
  if (processing_.contains(item)) return;  // Done re-queues it
  queue_.push_back(item);
  ready_cv_.notify_one();
}

void WorkQueue::AddAfter(const std::string& item, core::Duration delay) {
  if (delay <= core::Duration::zero()) return Add(item);
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  core::TimePoint at = clock_.Now() + delay;
  const bool earliest = waiting_.empty() || at < waiting_.begin()->first;
  waiting_.emplace(at, item);
  if (earliest) wake_delay_.request_stop();
  waiting_cv_.notify_all();
}

core::Duration WorkQueue::When(const std::string& item) {
  int failures;
  {
    std::lock_guard lock(mu_);
    failures = failures_[item]++;
  }
  double ms = static_cast<double>(options_.item_base.count()) * std::pow(2.0, std::min(failures, 40));
  auto per_item = std::chrono::duration_cast<core::Duration>(std::chrono::duration<double, std::milli>(
      std::min(ms, static_cast<double>(options_.item_max.count()))));
  return std::max(per_item, overall_.ReserveDelay());
}

void WorkQueue::AddRateLimited(const std::string& item) { AddAfter(item, When(item)); }

void WorkQueue::Forget(const std::string& item) {
  std::lock_guard lock(mu_);
  failures_.erase(item);
}

int WorkQueue::NumRequeues(const std::string& item) const {
  std::lock_guard lock(mu_);
  auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

std::optional<std::string> WorkQueue::Get() {
  std::unique_lock lock(mu_);
  ready_cv_.wait(lock, [&] { return !queue_.empty() || shutting_down_; });
  if (shutting_down_) return std::nullopt;
  std::string item = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(item);
  dirty_.erase(item);
  return item;
}

void WorkQueue::Done(const std::string& item) {
  std::lock_guard lock(mu_);
  processing_.erase(item);
  if (dirty_.contains(item) && !shutting_down_) {
    queue_.push_back(item);
    ready_cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard lock(mu_);
  shutting_down_ = true;
  ready_cv_.notify_all();
  waiting_cv_.notify_all();
}

bool WorkQueue::ShuttingDown() const {
  std::lock_guard lock(mu_);
  return shutting_down_;
}

size_t WorkQueue::Len() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void WorkQueue::DelayLoop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested() && !shutting_down_) {
    if (waiting_.empty()) {
      waiting_cv_.wait(lock, [&] { return !waiting_.empty() || shutting_down_ || stop.stop_requested(); });
      continue;
    }
    core::TimePoint next = waiting_.begin()->first;
    wake_delay_ = std::stop_source();
    std::stop_token interrupted = wake_delay_.get_token();
    lock.unlock();
    clock_.SleepUntil(next, interrupted);  // returns early when an earlier item arrives
    lock.lock();
    core::TimePoint now = clock_.Now();
    while (!waiting_.empty() && waiting_.begin()->first <= now) {
      std::string item = waiting_.begin()->second;
      waiting_.erase(waiting_.begin());
      if (dirty_.contains(item)) continue;
      dirty_.insert(item);
      if (!processing_.contains(item)) {
        queue_.push_back(item);
        ready_cv_.notify_one();
      }
    }
  }
}

}  // namespace gpufleet::kube
