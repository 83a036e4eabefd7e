// Clock: the injected source of time. Everything that waits or stamps a time takes a Clock&, so
// tests drive time with FakeClock instead of sleeping.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <stop_token>

#include "core/thread_annotations.h"

namespace gpufleet::core {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock now. Thread-safe.
  virtual TimePoint Now() const = 0;
  // Blocks until Now() >= deadline. Returns false if `stop` was requested first. Thread-safe.
  virtual bool SleepUntil(TimePoint deadline, std::stop_token stop = {}) = 0;
  bool SleepFor(Duration d, std::stop_token stop = {}) { return SleepUntil(Now() + d, stop); }
  Duration Since(TimePoint t) const { return Now() - t; }
};

// The process's real clock (system_clock). Stateless; lives for the whole program.
Clock& RealClock();

// A clock that moves only when told. Sleepers wake when Advance/Set passes their deadline.
class FakeClock final : public Clock {
 public:
  // Starts at 2026-01-01T00:00:00Z unless told otherwise.
  FakeClock();
  explicit FakeClock(TimePoint start);

  TimePoint Now() const override;
  bool SleepUntil(TimePoint deadline, std::stop_token stop = {}) override;

  void Advance(Duration d);
  void Set(TimePoint t);
  // Number of threads blocked in SleepUntil.
  size_t Waiters() const;
  // Blocks (in real time, up to `timeout`) until at least `n` threads sleep on this clock, so a
  // test can advance time only once the code under test is waiting. True if reached.
  bool AwaitWaiters(size_t n, std::chrono::milliseconds timeout);

 private:
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  TimePoint now_ GF_GUARDED_BY(mu_);
  size_t waiters_ GF_GUARDED_BY(mu_) = 0;
};

}  // namespace gpufleet::core
