#include "provisioner/drain.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace gpufleet::provisioner {
namespace {

CachedPod BoundPod() {
  CachedPod p;
  p.metadata.name = "vllm-0";
  p.metadata.ns = core::InternedString("llm");
  p.node_name = core::InternedString("ip-10-0-0-1");
  p.holds_resources = true;
  return p;
}

core::TimePoint At(const char* rfc3339) { return *core::ParseRfc3339(rfc3339); }

TEST(DrainTest, EvictsWhatWouldBeLostAndLeavesTheRest) {
  const auto now = At("2026-12-07T10:00:00Z");
  EXPECT_EQ(DrainActionFor(BoundPod(), now, std::nullopt), DrainAction::kEvict);

  CachedPod daemon = BoundPod();
  daemon.daemon_set = true;
  EXPECT_EQ(DrainActionFor(daemon, now, std::nullopt), DrainAction::kIgnore) << "goes with the node";
  CachedPod mirror = BoundPod();
  mirror.mirror = true;
  EXPECT_EQ(DrainActionFor(mirror, now, std::nullopt), DrainAction::kIgnore) << "a static pod's mirror";
  CachedPod tolerating = BoundPod();
  tolerating.tolerates_disruption = true;
  EXPECT_EQ(DrainActionFor(tolerating, now, std::nullopt), DrainAction::kIgnore) << "it asked to stay";
  CachedPod finished = BoundPod();
  finished.holds_resources = false;
  EXPECT_EQ(DrainActionFor(finished, now, std::nullopt), DrainAction::kIgnore);
}

TEST(DrainTest, CriticalPodsAreMarkedFromTheirPriorityClass) {
  kube::Pod pod;
  pod.metadata.name = "coredns-0";
  pod.metadata.ns = core::InternedString("kube-system");
  pod.spec.node_name = core::InternedString("ip-10-0-0-1");
  EXPECT_FALSE(ToCachedPod(pod).critical);
  pod.spec.priority_class_name = core::InternedString("system-cluster-critical");
  EXPECT_TRUE(ToCachedPod(pod).critical);
  pod.spec.priority_class_name = core::InternedString("system-node-critical");
  EXPECT_TRUE(ToCachedPod(pod).critical);
  pod.spec.priority_class_name = core::InternedString("high-priority");
  EXPECT_FALSE(ToCachedPod(pod).critical);
}

TEST(DrainTest, TerminatingPodsAreWaitedForUntilStuck) {
  CachedPod terminating = BoundPod();
  terminating.deleting_at = At("2026-12-07T10:00:30Z");  // evicted with 30 s of grace
  EXPECT_EQ(DrainActionFor(terminating, At("2026-12-07T10:00:10Z"), std::nullopt), DrainAction::kWait);
  EXPECT_EQ(DrainActionFor(terminating, At("2026-12-07T10:01:20Z"), std::nullopt), DrainAction::kWait);
  EXPECT_EQ(DrainActionFor(terminating, At("2026-12-07T10:01:31Z"), std::nullopt), DrainAction::kIgnore)
      << "a minute past its deadline no kubelet is going to confirm it";
  EXPECT_EQ(DrainActionFor(terminating, At("2026-12-07T10:00:10Z"), At("2026-12-07T10:00:05Z")), DrainAction::kDelete)
      << "the NodeClaim's grace period ends before the pod's";
}

TEST(DrainTest, TheGracePeriodTurnsEvictionsIntoDeletions) {
  kube::NodeClaim claim;
  EXPECT_FALSE(DrainDeadline(claim).has_value()) << "not being deleted";
  claim.metadata.deletion_timestamp = "2026-12-07T10:00:00Z";
  EXPECT_FALSE(DrainDeadline(claim).has_value()) << "no terminationGracePeriod: evictions may wait forever";
  claim.spec.termination_grace_period = "1h30m";
  ASSERT_TRUE(DrainDeadline(claim).has_value());
  EXPECT_EQ(*DrainDeadline(claim), At("2026-12-07T11:30:00Z"));
  EXPECT_EQ(DrainActionFor(BoundPod(), At("2026-12-07T11:29:59Z"), DrainDeadline(claim)), DrainAction::kEvict);
  EXPECT_EQ(DrainActionFor(BoundPod(), At("2026-12-07T11:30:00Z"), DrainDeadline(claim)), DrainAction::kDelete);
}

}  // namespace
}  // namespace gpufleet::provisioner
