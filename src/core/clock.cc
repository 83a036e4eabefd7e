#include "core/clock.h"

#include <thread>

namespace gpufleet::core {
namespace {

class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }

  bool SleepUntil(TimePoint deadline, std::stop_token stop) override {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    // Nothing notifies `cv`: it wakes at the deadline or when `stop` is requested.
    cv.wait_until(lock, stop, deadline, [] { return false; });
    return !stop.stop_requested();
  }
};

// 2026-01-01T00:00:00Z
constexpr auto kFakeEpoch = std::chrono::sys_days{std::chrono::year{2026} / 1 / 1};

}  // namespace

Clock& RealClock() {
  static SystemClock* clock = new SystemClock();  // never destroyed: usable during exit
  return *clock;
}

FakeClock::FakeClock() : FakeClock(TimePoint(kFakeEpoch)) {}
FakeClock::FakeClock(TimePoint start) : now_(start) {}

TimePoint FakeClock::Now() const {
  std::lock_guard lock(mu_);
  return now_;
}

bool FakeClock::SleepUntil(TimePoint deadline, std::stop_token stop) {
  std::unique_lock lock(mu_);
  ++waiters_;
  cv_.notify_all();  // wakes AwaitWaiters
  bool reached = cv_.wait(lock, stop, [&] { return now_ >= deadline; });
  --waiters_;
  return reached;
}

void FakeClock::Advance(Duration d) {
  std::lock_guard lock(mu_);
  now_ += std::chrono::duration_cast<TimePoint::duration>(d);
  cv_.notify_all();
}

void FakeClock::Set(TimePoint t) {
  std::lock_guard lock(mu_);
  now_ = t;
  cv_.notify_all();
}

size_t FakeClock::Waiters() const {
  std::lock_guard lock(mu_);
  return waiters_;
}

bool FakeClock::AwaitWaiters(size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (waiters_ < n) {
    // Polls in short real-time slices: the condition variable is shared with sleepers.
    if (std::chrono::steady_clock::now() >= deadline) return false;
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    lock.lock();
  }
  return true;
}

}  // namespace gpufleet::core
