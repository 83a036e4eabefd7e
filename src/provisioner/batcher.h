// Batcher: Karpenter's provisioning batch window. The first trigger opens a batch; it closes
// once `idle` passes with no further trigger, or `max` after it opened, whichever comes first,
// so a burst of pods is solved together (fewer, better-packed nodes) while a lone pod waits at
// most `idle`. Idle 0 closes at once (every event solves). Time comes from the injected clock.
#pragma once

#include <condition_variable>
#include <mutex>
#include <optional>
#include <stop_token>

#include "core/clock.h"

namespace gpufleet::provisioner {

class Batcher {
 public:
  Batcher(core::Clock& clock, core::Duration idle, core::Duration max);

  // Something to provision for appeared (a pending pod, a deleted NodeClaim, a NodePool).
  void Trigger();
  // Blocks until a batch has opened and closed; false when `stop` was requested first. The
  // returned batch's first trigger time is kept for metrics (BatchOpened).
  bool Wait(std::stop_token stop);
  core::TimePoint BatchOpened() const;

 private:
  core::Clock& clock_;
  const core::Duration idle_, max_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::optional<core::TimePoint> first_, last_;
  core::TimePoint opened_{};
};

}  // namespace gpufleet::provisioner
