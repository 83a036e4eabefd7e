#include "sim/executor.h"

namespace gpufleet::sim {

Executor::Executor(int workers) {
  for (int i = 0; i < workers; ++i) workers_.emplace_back([this](std::stop_token stop) { Work(stop); });
}

Executor::~Executor() { Stop(); }

void Executor::After(std::chrono::milliseconds delay, std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    tasks_.emplace(std::chrono::steady_clock::now() + delay, std::move(task));
  }
  cv_.notify_one();
}

void Executor::Stop() {
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    tasks_.clear();
  }
  for (auto& w : workers_) w.request_stop();
  cv_.notify_all();
  workers_.clear();  // joins
}

void Executor::Work(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    if (tasks_.empty()) {
      cv_.wait(lock, stop, [&] { return !tasks_.empty(); });
      continue;
    }
    auto first = tasks_.begin();
    if (first->first > std::chrono::steady_clock::now()) {
      const auto due = first->first;
      cv_.wait_until(lock, stop, due, [&] { return !tasks_.empty() && tasks_.begin()->first < due; });
      continue;
    }
    auto task = std::move(first->second);
    tasks_.erase(first);
    lock.unlock();
    task();
    lock.lock();
  }
}

}  // namespace gpufleet::sim
