#include "scheduling/instance_type.h"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gpufleet::scheduling {
namespace {

// Every EC2 type in Karpenter's published instance-type table (data/aws-instance-types.json:
// the doc's "Resources" column is Karpenter's allocatable): the formulas must reproduce each.
TEST(AwsAllocatableTest, MatchesKarpentersTableForEveryInstanceType) {
  std::ifstream in(std::string(GPUFLEET_DATA_DIR) + "/aws-instance-types.json");
  ASSERT_TRUE(in) << "data/aws-instance-types.json";
  const nlohmann::json data = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto& it : data.at("instanceTypes")) {
    Ec2Shape shape{.arch = it.at("arch"), .vcpu = it.at("vcpu"), .memory_mib = it.at("memoryMiB"), .max_pods = it.at("maxPods")};
    const auto& want = it.at("resources");
    for (const auto& [name, value] : want.items()) {
      if (name == "cpu" || name == "memory" || name == "ephemeral-storage" || name == "pods") continue;
      shape.extended.emplace_back(name, core::Quantity::Parse(value.get<std::string>())->Value());
    }
    const InstanceType type = AwsInstanceType(it.at("name"), shape);
    for (const auto& [name, value] : want.items()) {
      const core::Quantity expected = *core::Quantity::Parse(value.get<std::string>());
      EXPECT_EQ(type.allocatable.Get(name), expected)
          << it.at("name").get<std::string>() << " " << name << ": got " << type.allocatable.Get(name);
    }
    ++checked;
  }
  EXPECT_GT(checked, 1300);
}

TEST(AwsAllocatableTest, G5TwoXlargeWorkedExample) {
  // 8 vCPU: 60 + 10 + 2*5 + 4*2.5 = 90m reserved. 32768Mi - ceil(7.5%) = 30310Mi; minus
  // 11*58+255 = 893Mi kube-reserved and 100Mi eviction = 29317Mi. 20Gi - 1Gi - 2Gi = 17Gi.
  Ec2Shape shape{.vcpu = 8, .memory_mib = 32768, .max_pods = 58, .extended = {{"nvidia.com/gpu", 1}}};
  const InstanceType t = AwsInstanceType("g5.2xlarge", shape);
  EXPECT_EQ(t.allocatable.Get("cpu").String(), "7910m");
  EXPECT_EQ(t.allocatable.Get("memory").String(), "29317Mi");
  EXPECT_EQ(t.allocatable.Get("ephemeral-storage").String(), "17Gi");
  EXPECT_EQ(t.allocatable.Get("nvidia.com/gpu").Value(), 1);
  EXPECT_TRUE(t.HasAccelerators());
}

}  // namespace
}  // namespace gpufleet::scheduling
