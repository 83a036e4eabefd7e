// Which NodeClaim updates wake the lifecycle controller. Its own condition writes must not:
// a launch failure whose message differs each time (an AWS request id) would otherwise re-run
// the launch at once after every write, bypassing the retry backoff (seen as a hot loop of
// Create calls and 409 conflicts after a crash).
#include "provisioner/lifecycle.h"

#include <gtest/gtest.h>

namespace gpufleet::provisioner {
namespace {

kube::NodeClaim Claim() {
  kube::NodeClaim c;
  c.metadata.name = "gpu-abcde";
  c.metadata.uid = "uid-1";
  c.metadata.generation = 1;
  c.metadata.finalizers = {core::InternedString(kTerminationFinalizer)};
  return c;
}

TEST(LifecycleShouldReconcile, IgnoresItsOwnConditionWrites) {
  kube::NodeClaim before = Claim();
  kube::NodeClaim after = before;
  after.metadata.resource_version = "42";
  after.status.conditions.push_back({.type = "Launched", .status = "False", .reason = "LaunchFailed",
                                     .message = "EC2 CreateFleet: ... (request 1234)"});
  EXPECT_FALSE(LifecycleShouldReconcile(before, after));
  kube::NodeClaim again = after;
  again.status.conditions[0].message = "EC2 CreateFleet: ... (request 5678)";
  EXPECT_FALSE(LifecycleShouldReconcile(after, again));
}

TEST(LifecycleShouldReconcile, ReactsToWhatTheLifecycleActsOn) {
  const kube::NodeClaim before = Claim();
  auto changed = [&](auto edit) {
    kube::NodeClaim after = before;
    edit(after);
    return LifecycleShouldReconcile(before, after);
  };
  EXPECT_TRUE(changed([](kube::NodeClaim& c) { c.metadata.deletion_timestamp = "2026-12-07T00:00:00Z"; }));
  EXPECT_TRUE(changed([](kube::NodeClaim& c) { c.metadata.finalizers.clear(); }));
  EXPECT_TRUE(changed([](kube::NodeClaim& c) { c.metadata.generation = 2; }));
  EXPECT_TRUE(changed([](kube::NodeClaim& c) {
    c.metadata.labels[core::InternedString("node.kubernetes.io/instance-type")] = core::InternedString("g6e.2xlarge");
  }));
  EXPECT_TRUE(changed([](kube::NodeClaim& c) { c.status.provider_id = "aws:///us-west-2a/i-0123"; }));
  EXPECT_TRUE(changed([](kube::NodeClaim& c) { c.status.node_name = "ip-10-0-0-1"; }));
  EXPECT_TRUE(changed([](kube::NodeClaim& c) { c.metadata.uid = "uid-2"; }));  // deleted and created again
}

}  // namespace
}  // namespace gpufleet::provisioner
