// GPU Feature Discovery's labels from the mock, as GFD writes them for the same GPUs, plus
// nvidia.com/gpu.present; the NFD features file.
#include "agent/labels.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/agent_fixture.h"

namespace gpufleet::agent {
namespace {

using ::testing::Contains;
using ::testing::Key;
using ::testing::Not;
using ::testing::Pair;
using testing::Gpus;
using testing::Mig;
using testing::MockMachine;

LabelInputs Inputs(gpu::MockGpuBackend& m, const std::string& machine) {
  return {.system = *m.System(), .gpus = Gpus(m), .mig = Mig(m), .machine = machine, .timestamp = 1765000000};
}

TEST(GfdLabels, SeedNodeG6e) {
  auto m = MockMachine("g6e.2xlarge");
  LabelMap l = GfdLabels({}, Inputs(*m, "g6e.2xlarge"));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.present", "true")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.product", "NVIDIA-L40S")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.count", "1")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.memory", "46068")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.family", "ada-lovelace")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.compute.major", "8")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.compute.minor", "9")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.replicas", "1")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.sharing-strategy", "none")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.machine", "g6e.2xlarge")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/cuda.driver-version.major", "570")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/cuda.driver-version.minor", "172")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/cuda.driver-version.revision", "08")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/cuda.driver-version.full", "570.172.08")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/cuda.runtime-version.full", "12.8")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/mig.capable", "false")));
  EXPECT_THAT(l, Not(Contains(Key("nvidia.com/mig.strategy"))));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gfd.timestamp", "1765000000")));
  for (const auto& [k, v] : l) {
    EXPECT_LE(v.size(), 63u) << k;
    EXPECT_TRUE(k.starts_with("nvidia.com/")) << k;
  }
}

TEST(GfdLabels, HopperSharedAndMig) {
  auto m = MockMachine("p5.48xlarge");
  AgentConfig shared;
  shared.sharing = SharingStrategy::kTimeSlicing;
  shared.replicated = {{.name = "nvidia.com/gpu", .replicas = 4}};
  LabelMap l = GfdLabels(shared, Inputs(*m, ""));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3-SHARED")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.replicas", "32")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.sharing-strategy", "time-slicing")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/gpu.family", "hopper")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/mig.capable", "true")));
  EXPECT_THAT(l, Contains(Pair("nvidia.com/mig.strategy", "none")));

  auto mig = MockMachine(R"({"gpus":[{"model":"H100-SXM5-80GB","count":2}],
                            "mig":{"0":["3g.40gb","3g.40gb"],"1":["3g.40gb","3g.40gb"]}})");
  AgentConfig single;
  single.mig_strategy = MigStrategy::kSingle;
  LabelMap s = GfdLabels(single, Inputs(*mig, ""));
  EXPECT_THAT(s, Contains(Pair("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3-MIG-3g.40gb")));
  EXPECT_THAT(s, Contains(Pair("nvidia.com/gpu.count", "4")));
  EXPECT_THAT(s, Contains(Pair("nvidia.com/gpu.memory", "40960")));
  EXPECT_THAT(s, Contains(Pair("nvidia.com/gpu.multiprocessors", "48")));
  EXPECT_THAT(s, Contains(Pair("nvidia.com/gpu.slices.gi", "3")));

  AgentConfig mixed;
  mixed.mig_strategy = MigStrategy::kMixed;
  LabelMap x = GfdLabels(mixed, Inputs(*mig, ""));
  EXPECT_THAT(x, Contains(Pair("nvidia.com/mig-3g.40gb.count", "4")));
  EXPECT_THAT(x, Contains(Pair("nvidia.com/mig-3g.40gb.product", "NVIDIA-H100-80GB-HBM3-MIG-3g.40gb")));
  EXPECT_THAT(x, Contains(Pair("nvidia.com/gpu.count", "0")));

  auto uneven = MockMachine(R"({"gpus":[{"model":"H100-SXM5-80GB","count":2}],"mig":{"0":["1g.10gb"]}})");
  EXPECT_THAT(GfdLabels(single, Inputs(*uneven, "")), Contains(Pair("nvidia.com/gpu.product", "NVIDIA-H100-80GB-HBM3-MIG-INVALID")));
}

TEST(GfdLabels, NoGpusNoLabels) { EXPECT_TRUE(GfdLabels({}, {}).empty()); }

TEST(GfdLabels, SanitizeAndFamily) {
  EXPECT_EQ(SanitizeLabelValue("Tesla T4"), "Tesla-T4");
  EXPECT_EQ(SanitizeLabelValue("NVIDIA A100-SXM4-40GB (rev 1)"), "NVIDIA-A100-SXM4-40GB-rev-1");
  EXPECT_EQ(GpuFamily(7, 5), "turing");
  EXPECT_EQ(GpuFamily(8, 0), "ampere");
  EXPECT_EQ(GpuFamily(10, 0), "blackwell");
}

TEST(FeatureFile, WrittenWholeAsKeyValueLines) {
  const std::string dir = ::testing::TempDir() + "/features.d-" + std::to_string(getpid());
  const std::string path = dir + "/gfd";
  ASSERT_TRUE(WriteFeatureFile(path, {{"nvidia.com/gpu.count", "8"}, {"nvidia.com/gpu.present", "true"}}).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "nvidia.com/gpu.count=8\nnvidia.com/gpu.present=true\n");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace gpufleet::agent
