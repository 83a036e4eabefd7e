// Every instance type the emulator serves, read back through DescribeInstanceTypes and turned into
// labels and allocatable by the provider, matches Karpenter's published table
// (data/aws-instance-types.json): the emulator speaks EC2's shapes faithfully and the provider
// computes Karpenter's labels and resources from them.
#include "cloud/aws/instance_types.h"

#include <gtest/gtest.h>

#include <fstream>

#include "cloud/emulator_fixture.h"

namespace gpufleet::cloud::aws {
namespace {

class InstanceTypesTest : public testing::EmulatorFixture {};

TEST_F(InstanceTypesTest, LabelsAndAllocatableMatchKarpentersTable) {
  std::ifstream in(testing::InstanceData());
  auto data = nlohmann::json::parse(in);
  std::map<std::string, nlohmann::json> table;
  for (const auto& t : data["instanceTypes"]) table[t["name"].get<std::string>()] = t;

  auto types = DescribeInstanceTypes(*ec2_);
  ASSERT_TRUE(types.ok()) << types.status();
  ASSERT_GT(types->size(), 1300u);
  int checked = 0;
  for (const auto& ec2_type : *types) {
    SCOPED_TRACE(ec2_type.name);
    const auto& row = table.at(ec2_type.name);
    const core::Labels labels = InstanceTypeLabels(ec2_type);
    for (auto it = row["labels"].begin(); it != row["labels"].end(); ++it) {
      auto got = labels.find(core::InternedString(it.key()));
      ASSERT_NE(got, labels.end()) << it.key();
      EXPECT_EQ(got->second.view(), it->get<std::string>()) << it.key();
    }
    EXPECT_EQ(EniLimitedPods(ec2_type), row["maxPods"].get<int64_t>());
    const scheduling::InstanceType t = ToSchedulingType(ec2_type);
    for (const char* resource : {"cpu", "memory", "pods", "nvidia.com/gpu", "ephemeral-storage"}) {
      if (!row["resources"].contains(resource)) continue;
      auto want = core::Quantity::Parse(row["resources"][resource].get<std::string>());
      ASSERT_TRUE(want.ok());
      EXPECT_EQ(t.allocatable.Get(resource).MilliValue(), want->MilliValue()) << resource;
    }
    ++checked;
  }
  EXPECT_EQ(checked, int(types->size()));
}

TEST(EniLimitedPodsTest, DefaultNetworkCardAndAddresses) {
  EXPECT_EQ(EniLimitedPods({.enis = 4, .ipv4_per_eni = 15}), 58);   // g6e.2xlarge
  EXPECT_EQ(EniLimitedPods({.enis = 2, .ipv4_per_eni = 50}), 100);  // p5.48xlarge's card 0
  EXPECT_EQ(EniLimitedPods({}), 110);                               // unknown: kubelet's default
}

TEST(InstanceTypeLabelsTest, FamilyCategoryGenerationAndGpuNames) {
  Ec2InstanceType t{.name = "g4ad.16xlarge", .arch = "amd64", .vcpu = 64, .memory_mib = 262144};
  t.gpu = Ec2Gpu{.name = "Radeon Pro V520", .manufacturer = "AMD", .count = 4, .memory_mib = 8192};
  const core::Labels l = InstanceTypeLabels(t);
  EXPECT_EQ(l.at(core::InternedString("karpenter.k8s.aws/instance-family")).view(), "g4ad");
  EXPECT_EQ(l.at(core::InternedString("karpenter.k8s.aws/instance-category")).view(), "g");
  EXPECT_EQ(l.at(core::InternedString("karpenter.k8s.aws/instance-generation")).view(), "4");
  EXPECT_EQ(l.at(core::InternedString("karpenter.k8s.aws/instance-size")).view(), "16xlarge");
  EXPECT_EQ(l.at(core::InternedString("karpenter.k8s.aws/instance-gpu-name")).view(), "radeon-pro-v520");
  EXPECT_EQ(l.at(core::InternedString("karpenter.k8s.aws/instance-gpu-manufacturer")).view(), "amd");
  EXPECT_EQ(ToSchedulingType(t).capacity.Get("amd.com/gpu").Value(), 4);
}

}  // namespace
}  // namespace gpufleet::cloud::aws
