// TokenBucket: client-go's client-side rate limiter (flowcontrol.NewTokenBucketRateLimiter).
// `qps` tokens are added per second up to `burst`; Wait() takes one, sleeping on the injected
// clock until one is available, so a controller cannot flood the API server.
#pragma once

#include <mutex>
#include <stop_token>

#include "core/clock.h"
#include "core/thread_annotations.h"

namespace gpufleet::kube {

class TokenBucket {
 public:
  // qps <= 0 disables limiting. The bucket starts full.
  TokenBucket(double qps, int burst, core::Clock& clock);

  // Takes a token, waiting for it if needed. False if `stop` was requested while waiting.
  bool Wait(std::stop_token stop = {});
  // Takes a token only if one is available now.
  bool TryTake();
  // Reserves a token and returns how long until it may be used (zero if available now).
  core::Duration ReserveDelay();

 private:
  void Refill(core::TimePoint now) GF_REQUIRES(mu_);
  // Reserves the next token and returns when it becomes available.
  core::TimePoint Reserve() GF_EXCLUDES(mu_);

  const double qps_;
  const double burst_;
  core::Clock& clock_;
  std::mutex mu_;
  double tokens_ GF_GUARDED_BY(mu_);
  core::TimePoint last_ GF_GUARDED_BY(mu_);
};

}  // namespace gpufleet::kube
