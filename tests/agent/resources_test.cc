// Resources and allocation as NVIDIA's plugin names and fills them: MIG strategies, sharing
// replicas, device ID strategies, and the AllocateResponse of every device list strategy.
#include "agent/resources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/allocate.h"
#include "agent/agent_fixture.h"

namespace gpufleet::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Gpus;
using testing::Mig;
using testing::MockMachine;

TEST(Resources, WholeGpusByUuidWithNumaTopology) {
  auto m = MockMachine("p5.48xlarge");
  auto r = BuildResources({}, Gpus(*m), Mig(*m));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  const PluginResource& gpu = (*r)[0];
  EXPECT_EQ(gpu.name, "nvidia.com/gpu");
  EXPECT_EQ(gpu.SocketName(), "nvidia-gpu.sock");
  ASSERT_EQ(gpu.devices.size(), 8u);
  EXPECT_EQ(gpu.devices[0].id, m->Device(0)->uuid);
  EXPECT_EQ(gpu.devices[7].device_path, "/dev/nvidia7");
  EXPECT_EQ(gpu.devices[7].numa_node, 1);
  AgentConfig by_index;
  by_index.device_id_strategy = "index";
  EXPECT_EQ((*BuildResources(by_index, Gpus(*m), Mig(*m)))[0].devices[3].id, "3");
}

TEST(Resources, TimeSlicingReplicasAndRename) {
  auto m = MockMachine("g6e.12xlarge");  // 4x L40S
  AgentConfig c;
  c.sharing = SharingStrategy::kTimeSlicing;
  c.replicated = {{.name = "nvidia.com/gpu", .replicas = 3}};
  auto r = BuildResources(c, Gpus(*m), Mig(*m));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].name, "nvidia.com/gpu");
  EXPECT_TRUE((*r)[0].shared);
  ASSERT_EQ((*r)[0].devices.size(), 12u);
  EXPECT_EQ((*r)[0].devices[1].id, m->Device(0)->uuid + "::1");
  c.rename_by_default = true;
  EXPECT_EQ((*BuildResources(c, Gpus(*m), Mig(*m)))[0].name, "nvidia.com/gpu.shared");
}

TEST(Resources, MigMixedAndSingle) {
  auto mixed_machine = MockMachine(R"({"gpus":[{"model":"H100-SXM5-80GB","count":2}],
                                      "mig":{"1":["3g.40gb","1g.10gb+me","1g.10gb"]}})");
  AgentConfig mixed;
  mixed.mig_strategy = MigStrategy::kMixed;
  auto r = BuildResources(mixed, Gpus(*mixed_machine), Mig(*mixed_machine));
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> names;
  for (const auto& res : *r) names.push_back(res.name + "=" + std::to_string(res.devices.size()));
  EXPECT_THAT(names, ElementsAre("nvidia.com/gpu=1", "nvidia.com/mig-1g.10gb=1", "nvidia.com/mig-1g.10gb.me=1",
                                 "nvidia.com/mig-3g.40gb=1"));
  EXPECT_EQ((*r)[3].devices[0].index, "1:0");
  EXPECT_EQ((*r)[3].SocketName(), "nvidia-mig-3g.40gb.sock");

  AgentConfig single;
  single.mig_strategy = MigStrategy::kSingle;
  auto invalid = BuildResources(single, Gpus(*mixed_machine), Mig(*mixed_machine));
  ASSERT_FALSE(invalid.ok());
  EXPECT_THAT(invalid.status().message(), HasSubstr("GPU 0 does not have MIG enabled"));
  auto uniform = MockMachine(R"({"gpus":[{"model":"A100-SXM4-40GB","count":2}],
                                "mig":{"0":["3g.20gb","3g.20gb"],"1":["3g.20gb","3g.20gb"]}})");
  auto ok = BuildResources(single, Gpus(*uniform), Mig(*uniform));
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)[0].name, "nvidia.com/gpu");
  EXPECT_EQ((*ok)[0].devices.size(), 4u);
  EXPECT_THAT((*ok)[0].devices[0].id, HasSubstr("MIG-"));
}

class AllocateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    machine_ = MockMachine("g6e.12xlarge");
    resource_ = (*BuildResources({}, Gpus(*machine_), Mig(*machine_)))[0];
  }
  std::string Uuid(unsigned i) { return machine_->Device(i)->uuid; }
  std::unique_ptr<gpu::MockGpuBackend> machine_;
  PluginResource resource_;
};

TEST_F(AllocateTest, EnvvarListsTheDevices) {
  auto a = AllocateContainer({}, resource_, {Uuid(2), Uuid(0)}, {});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->envs.at("NVIDIA_VISIBLE_DEVICES"), Uuid(2) + "," + Uuid(0));
  EXPECT_TRUE(a->mounts.empty());
  EXPECT_TRUE(a->devices.empty());
}

TEST_F(AllocateTest, VolumeMountsCdiAndDeviceSpecs) {
  AgentConfig c;
  c.device_list_strategy = {"volume-mounts", "cdi-annotations", "cdi-cri"};
  c.pass_device_specs = true;
  auto a = AllocateContainer(c, resource_, {Uuid(1)}, {"/dev/nvidiactl", "/dev/nvidia-uvm"});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->envs.at("NVIDIA_VISIBLE_DEVICES"), "/var/run/nvidia-container-devices");
  ASSERT_EQ(a->mounts.size(), 1u);
  EXPECT_EQ(a->mounts[0].container_path, "/var/run/nvidia-container-devices/" + Uuid(1));
  EXPECT_EQ(a->mounts[0].host_path, "/dev/null");
  ASSERT_EQ(a->annotations.size(), 1u);
  EXPECT_THAT(a->annotations.begin()->first, HasSubstr("cdi.k8s.io/nvidia-device-plugin_"));
  EXPECT_EQ(a->annotations.begin()->second, "nvidia.com/gpu=" + Uuid(1));
  EXPECT_THAT(a->cdi_devices, ElementsAre("nvidia.com/gpu=" + Uuid(1)));
  ASSERT_EQ(a->devices.size(), 3u);
  EXPECT_EQ(a->devices[0].host_path, "/dev/nvidia1");
  EXPECT_EQ(a->devices[0].permissions, "rw");
  EXPECT_EQ(a->devices[2].container_path, "/dev/nvidia-uvm");
}

TEST_F(AllocateTest, IndexStrategyAndReplicasResolveToTheGpu) {
  AgentConfig c;
  c.device_id_strategy = "index";
  c.sharing = SharingStrategy::kTimeSlicing;
  c.replicated = {{.name = "nvidia.com/gpu", .replicas = 2}};
  auto shared = (*BuildResources(c, Gpus(*machine_), Mig(*machine_)))[0];
  auto a = AllocateContainer(c, shared, {"3::0", "3::1", "1::0"}, {});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->envs.at("NVIDIA_VISIBLE_DEVICES"), "3,1");
  c.fail_requests_greater_than_one = true;
  auto refused = AllocateContainer(c, shared, {"3::0", "1::0"}, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(), HasSubstr("failRequestsGreaterThanOne"));
}

TEST_F(AllocateTest, UnknownOrUnhealthyDevicesAreRefused) {
  auto unknown = AllocateContainer({}, resource_, {"GPU-not-here"}, {});
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.status().message(), HasSubstr("unknown device id \"GPU-not-here\""));
  resource_.devices[0].healthy = false;
  resource_.devices[0].unhealthy_reason = "Xid 79";
  auto sick = AllocateContainer({}, resource_, {Uuid(0)}, {});
  ASSERT_FALSE(sick.ok());
  EXPECT_THAT(sick.status().message(), HasSubstr("Xid 79"));
}

}  // namespace
}  // namespace gpufleet::agent
