// WorkQueue semantics with a FakeClock: nothing here sleeps or depends on timing.
#include "kube/work_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace gpufleet::kube {
namespace {

using namespace std::chrono_literals;

TEST(WorkQueue, DeduplicatesAndNeverHandsOneItemToTwoWorkers) {
  core::FakeClock clock;
  WorkQueue q(clock);
  q.Add("a");
  q.Add("a");
  q.Add("b");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.Get(), "a");
  q.Add("a");  // changed while being processed: not handed out again yet
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "b");
  EXPECT_EQ(q.Len(), 0u);
  q.Done("a");  // now it comes back, once
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "a");
  q.Done("a");
  q.Done("b");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueue, AddAfterWaitsForTheClock) {
  core::FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("x", 5s);
  ASSERT_TRUE(clock.AwaitWaiters(1, 10s));
  clock.Advance(4s);
  EXPECT_EQ(q.Len(), 0u);
  clock.Advance(1s);
  EXPECT_EQ(q.Get(), "x");  // blocks until the delay loop moved it
}

TEST(WorkQueue, AnEarlierItemIsNotHeldBehindALaterOne) {
  core::FakeClock clock;
  WorkQueue q(clock);
  q.AddAfter("late", 10min);
  ASSERT_TRUE(clock.AwaitWaiters(1, 10s));
  q.AddAfter("early", 1s);
  clock.Advance(1s);
  EXPECT_EQ(q.Get(), "early");
  EXPECT_EQ(q.Len(), 0u);  // "late" still waits
  q.Done("early");
  clock.Advance(10min);
  EXPECT_EQ(q.Get(), "late");
}

TEST(WorkQueue, RateLimitIsPerItemExponentialAndOverallBucket) {
  core::FakeClock clock;
  WorkQueue q(clock, {.qps = 10, .burst = 3});
  EXPECT_EQ(q.When("a"), 5ms);
  EXPECT_EQ(q.When("a"), 10ms);
  EXPECT_EQ(q.When("a"), 20ms);
  EXPECT_EQ(q.NumRequeues("a"), 3);
  q.Forget("a");
  EXPECT_EQ(q.NumRequeues("a"), 0);
  // The bucket (burst 3) is empty now: the next token is 100 ms away at 10 qps.
  EXPECT_EQ(q.When("b"), 100ms);
  WorkQueue slow(clock, {.item_base = 1s, .item_max = 4s, .qps = 0});
  for (auto want : {1s, 2s, 4s, 4s}) EXPECT_EQ(slow.When("x"), want);  // capped
}

TEST(WorkQueue, ShutDownWakesWorkers) {
  core::FakeClock clock;
  WorkQueue q(clock);
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = q.Get(); });
  q.ShutDown();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
  q.Add("ignored");
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_TRUE(q.ShuttingDown());
}

}  // namespace
}  // namespace gpufleet::kube
