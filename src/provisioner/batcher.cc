#include "provisioner/batcher.h"

#include <algorithm>

namespace gpufleet::provisioner {

Batcher::Batcher(core::Clock& clock, core::Duration idle, core::Duration max) : clock_(clock), idle_(idle), max_(max) {}

void Batcher::Trigger() {
  {
    std::lock_guard lock(mu_);
    core::TimePoint now = clock_.Now();
    if (!first_) first_ = now;
    last_ = now;
  }
  cv_.notify_all();
}

bool Batcher::Wait(std::stop_token stop) {
  std::unique_lock lock(mu_);
  if (!cv_.wait(lock, stop, [&] { return first_.has_value(); }) || stop.stop_requested()) return false;
  while (true) {
    core::TimePoint deadline = std::min(*last_ + idle_, *first_ + max_);
    if (clock_.Now() >= deadline) break;
    lock.unlock();
    bool slept = clock_.SleepUntil(deadline, stop);
    lock.lock();
    if (!slept) return false;
  }
  opened_ = *first_;
  first_.reset();
  last_.reset();
  return true;
}

core::TimePoint Batcher::BatchOpened() const {
  std::lock_guard lock(mu_);
  return opened_;
}

}  // namespace gpufleet::provisioner
