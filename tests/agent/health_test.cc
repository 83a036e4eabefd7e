// Health decisions: critical Xids and double-bit ECC mark a GPU unhealthy, NVIDIA's ignored Xids
// and single-bit ECC do not, the DP_* variables work as in NVIDIA's plugin, and a GPU returns
// once it has been quiet long enough and several probes in a row passed (#1014).
#include "agent/health.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace gpufleet::agent {
namespace {

using ::testing::HasSubstr;
using Kind = gpu::GpuEvent::Kind;

core::TimePoint At(int seconds) { return core::TimePoint{} + std::chrono::seconds(seconds); }

TEST(HealthState, CriticalXidsAndDoubleBitErrorsMarkUnhealthy) {
  HealthState h({});
  EXPECT_FALSE(h.OnEvent({.device_index = 0, .kind = Kind::kXid, .xid = 13}, At(0)));  // app error: ignored
  EXPECT_FALSE(h.OnEvent({.device_index = 0, .kind = Kind::kSingleBitEcc}, At(0)));
  EXPECT_TRUE(h.Healthy(0));
  EXPECT_TRUE(h.OnEvent({.device_index = 0, .kind = Kind::kXid, .xid = 79}, At(1)));
  EXPECT_FALSE(h.Healthy(0));
  EXPECT_EQ(h.Reason(0), "Xid 79");
  EXPECT_FALSE(h.OnEvent({.device_index = 0, .kind = Kind::kXid, .xid = 79}, At(2)));  // already unhealthy
  EXPECT_TRUE(h.OnEvent({.device_index = 1, .kind = Kind::kDoubleBitEcc}, At(1)));
  EXPECT_TRUE(h.Healthy(2));
}

TEST(HealthState, RecoversAfterQuietAndConsecutiveGoodProbes) {
  HealthState h({.recovery_quiet = std::chrono::seconds(300), .probes_to_recover = 3});
  ASSERT_TRUE(h.OnEvent({.device_index = 0, .kind = Kind::kXid, .xid = 94}, At(0)));
  EXPECT_FALSE(h.OnProbe(0, OkStatus(), At(100)));
  EXPECT_FALSE(h.OnProbe(0, OkStatus(), At(200)));
  EXPECT_FALSE(h.OnProbe(0, OkStatus(), At(299)));  // three good probes, but not quiet long enough
  EXPECT_TRUE(h.OnProbe(0, OkStatus(), At(301)));
  EXPECT_TRUE(h.Healthy(0));
  EXPECT_EQ(h.Reason(0), "");
}

TEST(HealthState, AFlappingGpuStaysOut) {
  HealthState h({.recovery_quiet = std::chrono::seconds(60), .probes_to_recover = 2});
  ASSERT_TRUE(h.OnEvent({.device_index = 0, .kind = Kind::kXid, .xid = 48}, At(0)));
  EXPECT_FALSE(h.OnProbe(0, OkStatus(), At(70)));
  EXPECT_FALSE(h.OnProbe(0, UnavailableError("GPU is lost"), At(80)));  // fails again: count restarts
  EXPECT_FALSE(h.OnProbe(0, OkStatus(), At(90)));
  EXPECT_FALSE(h.OnProbe(0, OkStatus(), At(100)));  // two good probes, but only 20 s since the failure
  EXPECT_TRUE(h.OnProbe(0, OkStatus(), At(141)));
}

TEST(HealthState, ProbeFailuresMarkUnhealthyEvenWithoutEvents) {
  HealthState h({});
  EXPECT_TRUE(h.OnProbe(3, FailedPreconditionError("row remap pending"), At(0)));
  EXPECT_THAT(h.Reason(3), HasSubstr("row remap pending"));
}

TEST(HealthEnvironment, DisableAndEnableLikeNvidia) {
  std::map<std::string, std::string> env;
  auto getenv = [&](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  HealthOptions o;
  env = {{"DP_DISABLE_HEALTHCHECKS", "48, 94"}, {"DP_ENABLE_HEALTHCHECKS", "13"}};
  ASSERT_TRUE(ApplyHealthEnvironment(o, getenv).ok());
  HealthState h(o);
  EXPECT_FALSE(h.IsCriticalXid(48));
  EXPECT_FALSE(h.IsCriticalXid(94));
  EXPECT_TRUE(h.IsCriticalXid(13));  // forced back on
  EXPECT_FALSE(h.IsCriticalXid(31));
  EXPECT_TRUE(h.IsCriticalXid(79));

  HealthOptions all;
  env = {{"DP_DISABLE_HEALTHCHECKS", "all"}};
  ASSERT_TRUE(ApplyHealthEnvironment(all, getenv).ok());
  HealthState off(all);
  EXPECT_FALSE(off.OnEvent({.device_index = 0, .kind = Kind::kXid, .xid = 79}, At(0)));
  EXPECT_TRUE(off.Healthy(0));

  HealthOptions bad;
  env = {{"DP_DISABLE_HEALTHCHECKS", "48,x9"}};
  Status s = ApplyHealthEnvironment(bad, getenv);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("DP_DISABLE_HEALTHCHECKS: \"x9\" is not an Xid number"));
}

}  // namespace
}  // namespace gpufleet::agent
