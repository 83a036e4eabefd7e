// GetPreferredAllocation: NVLink-aware whole-GPU sets, pairs kept whole for 1-GPU requests,
// must_include honoured, unhealthy devices never chosen, replicas spread over GPUs.
#include "agent/preferred.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "agent/agent_fixture.h"

namespace gpufleet::agent {
namespace {

using ::testing::UnorderedElementsAre;
using testing::Gpus;
using testing::Mig;

// Four GPUs as two NVLink pairs (0-1, 2-3), all on one NUMA node: a bridge-pair board.
std::vector<gpu::DeviceInfo> PairedBoard() {
  std::vector<gpu::DeviceInfo> g(4);
  for (unsigned i = 0; i < 4; ++i) {
    g[i].index = i;
    g[i].uuid = "GPU-" + std::to_string(i);
    g[i].pci_bus_id = "bus" + std::to_string(i);
    g[i].numa_node = 0;
  }
  auto link = [&](unsigned a, unsigned b, int n) {
    for (int k = 0; k < n; ++k) {
      g[a].nvlink_peers.push_back(g[b].pci_bus_id);
      g[b].nvlink_peers.push_back(g[a].pci_bus_id);
    }
  };
  link(0, 1, 4);
  link(2, 3, 4);
  return g;
}

LinkMatrix Links(const std::vector<gpu::DeviceInfo>& g) {
  return LinkMatrix(g, [](unsigned, unsigned) -> Result<gpu::TopologyLevel> { return gpu::TopologyLevel::kSameNumaNode; });
}

PluginResource Resource(const std::vector<gpu::DeviceInfo>& g, AgentConfig c = {}) { return (*BuildResources(c, g, {}))[0]; }

TEST(PreferredAllocation, TwoGpusComeAsAnNvlinkPair) {
  auto g = PairedBoard();
  auto links = Links(g);
  EXPECT_EQ(links.Score(0, 1), 420);
  EXPECT_EQ(links.Score(0, 2), 20);
  auto r = Resource(g);
  EXPECT_THAT(PreferredAllocation(r, links, {"GPU-0", "GPU-1", "GPU-2", "GPU-3"}, {}, 2),
              UnorderedElementsAre("GPU-0", "GPU-1"));
  EXPECT_THAT(PreferredAllocation(r, links, {"GPU-0", "GPU-1", "GPU-2", "GPU-3"}, {"GPU-3"}, 2),
              UnorderedElementsAre("GPU-2", "GPU-3"));
}

TEST(PreferredAllocation, OneGpuDoesNotSplitAFreePair) {
  auto g = PairedBoard();
  auto links = Links(g);
  auto r = Resource(g);
  // GPU 0 is busy: its partner 1 is the one to give away, keeping the 2-3 pair whole.
  EXPECT_THAT(PreferredAllocation(r, links, {"GPU-1", "GPU-2", "GPU-3"}, {}, 1), UnorderedElementsAre("GPU-1"));
  EXPECT_THAT(PreferredAllocation(r, links, {"GPU-3", "GPU-2", "GPU-0"}, {}, 1), UnorderedElementsAre("GPU-0"));
}

TEST(PreferredAllocation, UnhealthyDevicesAreNeverChosen) {
  auto g = PairedBoard();
  auto links = Links(g);
  auto r = Resource(g);
  r.devices[1].healthy = false;
  auto chosen = PreferredAllocation(r, links, {"GPU-0", "GPU-1", "GPU-2", "GPU-3"}, {}, 2);
  EXPECT_THAT(chosen, UnorderedElementsAre("GPU-2", "GPU-3"));
  // Not enough healthy devices: an answer anyway (the kubelet decides), never an error.
  EXPECT_EQ(PreferredAllocation(r, links, {"GPU-0", "GPU-1"}, {}, 2).size(), 1u);
}

TEST(PreferredAllocation, EightGpuHgxBoardFromTheMock) {
  auto m = testing::MockMachine("p5.48xlarge");
  auto g = Gpus(*m);
  LinkMatrix links(g, [&](unsigned a, unsigned b) { return m->CommonAncestor(a, b); });
  auto r = (*BuildResources({}, g, Mig(*m)))[0];
  std::vector<std::string> all;
  for (const auto& d : r.devices) all.push_back(d.id);
  // All-to-all NVLink: 4 GPUs out of 8 stay within one NUMA node.
  auto four = PreferredAllocation(r, links, all, {}, 4);
  ASSERT_EQ(four.size(), 4u);
  std::set<int> numa;
  for (const auto& id : four) numa.insert(*r.Find(id)->numa_node);
  EXPECT_EQ(numa.size(), 1u);
  EXPECT_EQ(PreferredAllocation(r, links, all, {}, 8).size(), 8u);
}

TEST(PreferredAllocation, ReplicasSpreadOverTheLeastUsedGpus) {
  auto g = PairedBoard();
  AgentConfig c;
  c.sharing = SharingStrategy::kTimeSlicing;
  c.replicated = {{.name = "nvidia.com/gpu", .replicas = 2}};
  auto r = Resource(g, c);
  // GPU 0 has one replica in use (GPU-0::0 not offered); the rest are free.
  std::vector<std::string> available = {"GPU-0::1", "GPU-1::0", "GPU-1::1", "GPU-2::0", "GPU-2::1", "GPU-3::0", "GPU-3::1"};
  auto chosen = PreferredAllocation(r, Links(g), available, {}, 3);
  EXPECT_THAT(chosen, UnorderedElementsAre("GPU-1::0", "GPU-2::0", "GPU-3::0"));
}

}  // namespace
}  // namespace gpufleet::agent
