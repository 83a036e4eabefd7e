#include "sim/wakeup.h"

namespace gpufleet::sim {

void Wakeup::Trigger() {
  {
    std::lock_guard lock(mu_);
    triggered_ = true;
  }
  cv_.notify_all();
}

bool Wakeup::Wait(std::stop_token stop) {
  std::unique_lock lock(mu_);
  if (!cv_.wait(lock, stop, [&] { return triggered_; })) return false;
  triggered_ = false;
  return !stop.stop_requested();
}

}  // namespace gpufleet::sim
