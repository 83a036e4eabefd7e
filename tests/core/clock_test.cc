#include "core/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "core/time_format.h"

namespace gpufleet::core {
namespace {

using namespace std::chrono_literals;

TEST(FakeClock, StartsAtFixedEpochAndAdvances) {
  FakeClock clock;
  EXPECT_EQ(FormatRfc3339(clock.Now()), "2026-01-01T00:00:00Z");
  clock.Advance(90s);
  EXPECT_EQ(FormatRfc3339(clock.Now()), "2026-01-01T00:01:30Z");
  EXPECT_EQ(clock.Since(clock.Now() - 5s), 5s);
}

TEST(FakeClock, SleeperWakesOnlyWhenTimePassesDeadline) {
  FakeClock clock;
  std::atomic<bool> woke{false};
  std::thread sleeper([&] {
    EXPECT_TRUE(clock.SleepFor(10s));
    woke = true;
  });
  ASSERT_TRUE(clock.AwaitWaiters(1, 10s));
  clock.Advance(9s);
  // Still asleep: the deadline is one second away. Waiters() is exact, not timing based.
  EXPECT_EQ(clock.Waiters(), 1u);
  EXPECT_FALSE(woke);
  clock.Advance(1s);
  sleeper.join();
  EXPECT_TRUE(woke);
  EXPECT_EQ(clock.Waiters(), 0u);
}

TEST(FakeClock, StopTokenCancelsSleep) {
  FakeClock clock;
  std::stop_source stop;
  bool result = true;
  std::thread sleeper([&] { result = clock.SleepFor(1h, stop.get_token()); });
  ASSERT_TRUE(clock.AwaitWaiters(1, 10s));
  stop.request_stop();
  sleeper.join();
  EXPECT_FALSE(result);
}

TEST(FakeClock, SetMovesTimeBothWays) {
  FakeClock clock;
  auto start = clock.Now();
  clock.Set(start - 1h);
  EXPECT_EQ(clock.Now(), start - 1h);
}

TEST(RealClock, StopTokenCancelsSleep) {
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(RealClock().SleepFor(1h, stop.get_token()));
  EXPECT_TRUE(RealClock().SleepFor(0s));
}

}  // namespace
}  // namespace gpufleet::core
