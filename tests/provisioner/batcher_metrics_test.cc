// The batch window on a fake clock, and the metrics text format.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "provisioner/batcher.h"
#include "provisioner/metrics.h"

namespace gpufleet::provisioner {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Runs Wait on a thread and reports when it returned.
struct Waiter {
  explicit Waiter(Batcher& b) : thread([this, &b](std::stop_token stop) { closed = b.Wait(stop); done = true; }) {}
  std::atomic<bool> done{false}, closed{false};
  std::jthread thread;
};

// Lets the waiter reach its sleep (or return) before the clock moves: the fake clock only wakes
// sleepers already registered.
void Settle() { std::this_thread::sleep_for(milliseconds(30)); }

TEST(BatcherTest, ClosesAfterIdleWindowWithoutNewPods) {
  core::FakeClock clock;
  Batcher batcher(clock, seconds(1), seconds(10));
  Waiter w(batcher);
  batcher.Trigger();
  Settle();
  clock.Advance(milliseconds(900));
  Settle();
  EXPECT_FALSE(w.done);
  clock.Advance(milliseconds(200));
  w.thread.join();
  EXPECT_TRUE(w.closed);
}

TEST(BatcherTest, EachTriggerExtendsIdleWindowUntilMax) {
  core::FakeClock clock;
  Batcher batcher(clock, seconds(1), seconds(10));
  const core::TimePoint opened = clock.Now();
  Waiter w(batcher);
  batcher.Trigger();
  for (int i = 0; i < 12 && !w.done; ++i) {
    Settle();
    clock.Advance(milliseconds(900));
    batcher.Trigger();  // a pod every 0.9 s keeps the idle window open
  }
  w.thread.join();
  EXPECT_TRUE(w.closed);
  EXPECT_GE(clock.Now() - opened, seconds(10));
  EXPECT_LT(clock.Now() - opened, seconds(11));
  EXPECT_EQ(batcher.BatchOpened(), opened);
}

TEST(BatcherTest, ZeroIdleClosesAtOnceAndStopEndsWait) {
  core::FakeClock clock;
  Batcher instant(clock, milliseconds(0), seconds(10));
  instant.Trigger();
  std::stop_source never;
  EXPECT_TRUE(instant.Wait(never.get_token()));

  Batcher idle(clock, seconds(1), seconds(10));
  std::stop_source stop;
  std::atomic<bool> result{true};
  std::thread t([&] { result = idle.Wait(stop.get_token()); });
  Settle();
  stop.request_stop();
  t.join();
  EXPECT_FALSE(result);
}

TEST(BatcherTest, StopWinsOverAPendingTrigger) {
  // A stopping controller must not keep solving because a trigger is pending (with idle 0 that
  // was a busy loop on shutdown).
  core::FakeClock clock;
  Batcher batcher(clock, milliseconds(0), milliseconds(0));
  batcher.Trigger();
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(batcher.Wait(stop.get_token()));
}

TEST(MetricsTest, RendersPrometheusTextFormat) {
  Metrics m;
  m.DeclareCounter("karpenter_nodeclaims_created_total", "Number of nodeclaims created.");
  m.DeclareHistogram("karpenter_scheduler_scheduling_duration_seconds", "Solve time.", {0.01, 0.1});
  m.Inc("karpenter_nodeclaims_created_total", {{"nodepool", "gpu"}, {"reason", "provisioning"}});
  m.Inc("karpenter_nodeclaims_created_total", {{"nodepool", "gpu"}, {"reason", "provisioning"}});
  m.Observe("karpenter_scheduler_scheduling_duration_seconds", {}, 0.005);
  m.Observe("karpenter_scheduler_scheduling_duration_seconds", {}, 0.05);
  m.Inc("undeclared_total");  // ignored, never rendered
  std::string text = m.Render();
  EXPECT_NE(text.find("# TYPE karpenter_nodeclaims_created_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("karpenter_nodeclaims_created_total{nodepool=\"gpu\",reason=\"provisioning\"} 2\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("karpenter_scheduler_scheduling_duration_seconds_bucket{le=\"0.01\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("karpenter_scheduler_scheduling_duration_seconds_bucket{le=\"0.10000000000000001\"} 2\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("karpenter_scheduler_scheduling_duration_seconds_bucket{le=\"+Inf\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("karpenter_scheduler_scheduling_duration_seconds_count 2\n"), std::string::npos);
  EXPECT_EQ(text.find("undeclared_total"), std::string::npos);
  EXPECT_EQ(m.Value("karpenter_nodeclaims_created_total", {{"nodepool", "gpu"}, {"reason", "provisioning"}}), 2);
}

}  // namespace
}  // namespace gpufleet::provisioner
