#include "kube/rate_limiter.h"

#include <algorithm>

namespace gpufleet::kube {

TokenBucket::TokenBucket(double qps, int burst, core::Clock& clock)
    : qps_(qps), burst_(std::max(1, burst)), clock_(clock), tokens_(burst_), last_(clock.Now()) {}

void TokenBucket::Refill(core::TimePoint now) {
  if (now > last_) {
    tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * qps_);
    last_ = now;
  }
}

core::TimePoint TokenBucket::Reserve() {
  std::lock_guard lock(mu_);
  core::TimePoint now = clock_.Now();
  Refill(now);
  // Tokens may go negative: each waiter owns a slot in the queue and sleeps until its turn.
  tokens_ -= 1;
  if (tokens_ >= 0) return now;
  auto wait = std::chrono::duration<double>(-tokens_ / qps_);
  return last_ + std::chrono::duration_cast<core::Duration>(wait);
}

bool TokenBucket::Wait(std::stop_token stop) {
  if (qps_ <= 0) return true;
  core::TimePoint at = Reserve();
  if (at <= clock_.Now()) return true;
  return clock_.SleepUntil(at, stop);
}

core::Duration TokenBucket::ReserveDelay() {
  if (qps_ <= 0) return core::Duration::zero();
  core::TimePoint now = clock_.Now();
  return std::max(core::Duration::zero(), Reserve() - now);
}

bool TokenBucket::TryTake() {
  if (qps_ <= 0) return true;
  std::lock_guard lock(mu_);
  core::TimePoint now = clock_.Now();
  Refill(now);
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

}  // namespace gpufleet::kube
