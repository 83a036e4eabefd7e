// The GPU catalogue and the mock backend: machines from EC2 instance types, DGX names and
// machine descriptions; NVML-exact facts per model; stable UUIDs; NVLink and NUMA layout; and
// the faults the agent's health checks rely on (Xid, ECC, lost GPUs).
#include "gpu/mock_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

namespace gpufleet::gpu {
namespace {

using ::testing::HasSubstr;

const GpuCatalog& Catalog() {
  static const GpuCatalog catalog = [] {
    auto c = LoadGpuCatalog(std::string(GPUFLEET_DATA_DIR) + "/gpu-models.json");
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : GpuCatalog{};
  }();
  return catalog;
}

MockGpuBackend Machine(const std::string& profile, const std::string& seed = "node-a") {
  auto spec = ResolveMockMachine(Catalog(), profile);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return MockGpuBackend(spec.ok() ? *spec : MockMachineSpec{}, seed);
}

TEST(GpuCatalog, MapsInstanceTypesAndMachinesToModels) {
  ASSERT_EQ(Catalog().models.size(), 10u);
  auto g6e = Catalog().ForInstanceType("g6e.2xlarge");
  ASSERT_TRUE(g6e.has_value());
  EXPECT_EQ(g6e->first->nvml_name, "NVIDIA L40S");
  EXPECT_EQ(g6e->second, 1u);
  auto p5 = Catalog().ForInstanceType("p5.48xlarge");
  ASSERT_TRUE(p5.has_value());
  EXPECT_EQ(p5->first->id, "H100-SXM5-80GB");
  EXPECT_EQ(p5->second, 8u);
  EXPECT_EQ(p5->first->nvlink_links, 18u);
  EXPECT_FALSE(Catalog().ForInstanceType("m7i.large").has_value());
  const MockMachine* dgx = Catalog().FindMachine("dgxh100");
  ASSERT_NE(dgx, nullptr);
  EXPECT_EQ(dgx->model_id, "H100-SXM5-80GB");
  EXPECT_EQ(dgx->cuda_driver_version, 12040);
}

TEST(GpuCatalog, BadEntriesNameTheModelAndField) {
  auto missing = ParseGpuCatalog(R"({"models":[{"id":"X","nvmlName":"X","computeCapability":"9.0"}]})");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("models[0] (X): memoryTotalMiB"));
  auto wrong_type = ParseGpuCatalog(R"({"models":[{"id":"X","nvmlName":"X","computeCapability":"9.0",
      "memoryTotalMiB":1,"nvmlPciDeviceId":"0x1","mig":{"supported":true,"gpuInstanceProfiles":[{"migName":7}]}}]})");
  EXPECT_FALSE(wrong_type.ok());
  EXPECT_FALSE(ParseGpuCatalog("{").ok());
}

TEST(MockGpuBackend, ReportsWhatNvmlReportsForTheModel) {
  MockGpuBackend m = Machine("g6e.2xlarge");
  ASSERT_EQ(*m.DeviceCount(), 1u);
  auto d = m.Device(0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->name, "NVIDIA L40S");
  EXPECT_EQ(d->memory_total_bytes >> 20, 46068u);
  EXPECT_EQ(d->pci_device_id, 0x26B910DEu);
  EXPECT_EQ(d->architecture, 8u);  // Ada
  EXPECT_EQ(d->cuda_cc_major, 8);
  EXPECT_EQ(d->cuda_cc_minor, 9);
  EXPECT_EQ(d->power_limit_mw, 350000u);
  EXPECT_LT(*d->power_usage_mw, *d->power_limit_mw / 5);  // idle
  EXPECT_FALSE(d->mig_mode_current.has_value());         // L40S has no MIG: N/A
  EXPECT_TRUE(d->nvlink_peers.empty());
  EXPECT_TRUE(d->processes.empty());
  EXPECT_EQ(m.System()->CudaVersionString(), "12.8");
}

TEST(MockGpuBackend, UuidsAreStablePerNodeAndDistinctAcrossNodes) {
  MockGpuBackend a = Machine("p5.48xlarge", "i-0abc");
  MockGpuBackend again = Machine("p5.48xlarge", "i-0abc");
  MockGpuBackend other = Machine("p5.48xlarge", "i-0def");
  std::set<std::string> seen;
  for (unsigned i = 0; i < 8; ++i) {
    const std::string uuid = a.Device(i)->uuid;
    EXPECT_EQ(uuid, again.Device(i)->uuid);
    EXPECT_NE(uuid, other.Device(i)->uuid);
    EXPECT_TRUE(seen.insert(uuid).second);
    EXPECT_THAT(uuid, ::testing::MatchesRegex("GPU-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  }
}

TEST(MockGpuBackend, HgxBoardsHaveAllToAllNvlinkAndTwoNumaNodes) {
  MockGpuBackend m = Machine("p5.48xlarge");
  ASSERT_EQ(*m.DeviceCount(), 8u);
  for (unsigned i = 0; i < 8; ++i) {
    auto d = m.Device(i);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->nvlink_peers.size(), 18u);
    std::set<std::string> peers(d->nvlink_peers.begin(), d->nvlink_peers.end());
    EXPECT_EQ(peers.size(), 7u) << "GPU " << i << " reaches every other GPU";
    EXPECT_FALSE(peers.contains(d->pci_bus_id));
    EXPECT_EQ(d->numa_node, i < 4 ? 0 : 1);
  }
  EXPECT_EQ(*m.CommonAncestor(0, 3), TopologyLevel::kSameNumaNode);
  EXPECT_EQ(*m.CommonAncestor(0, 4), TopologyLevel::kCrossNumaNode);
  EXPECT_FALSE(m.CommonAncestor(0, 8).ok());
}

TEST(MockGpuBackend, MachineDescriptionsWithMig) {
  auto spec = ParseMockMachine(Catalog(), R"({"driverVersion":"550.54.15","cudaDriverVersion":12040,
      "gpus":[{"model":"H100-SXM5-80GB","count":2}],"mig":{"1":["3g.40gb","2g.20gb","1g.10gb"]}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  MockGpuBackend m(*spec, "n");
  EXPECT_EQ(m.System()->nvml_version, "12.550.54.15");
  EXPECT_EQ(m.Device(0)->mig_mode_current, 0u);
  EXPECT_EQ(m.Device(1)->mig_mode_current, 1u);
  auto mig = m.MigDevices(1);
  ASSERT_TRUE(mig.ok());
  ASSERT_EQ(mig->size(), 3u);
  EXPECT_EQ((*mig)[0].profile, "3g.40gb");
  EXPECT_EQ((*mig)[0].memory_bytes >> 20, 40960u);
  EXPECT_EQ((*mig)[2].multiprocessors, 16u);
  EXPECT_NE((*mig)[0].uuid, (*mig)[1].uuid);
  EXPECT_TRUE(m.MigDevices(0)->empty());
}

TEST(MockGpuBackend, BadMachineDescriptionsSayWhatIsWrong) {
  auto expect_error = [](const char* json, const char* what) {
    auto spec = ParseMockMachine(Catalog(), json);
    ASSERT_FALSE(spec.ok()) << json;
    EXPECT_THAT(spec.status().message(), HasSubstr(what)) << json;
  };
  expect_error(R"({"gpus":[{"model":"H900"}]})", "gpus[0].model: unknown GPU model \"H900\"");
  expect_error(R"({"gpus":[]})", "at least one GPU");
  expect_error(R"({"gpus":[{"model":"L40S"}],"mig":{"0":["1g.10gb"]}})", "L40S does not support MIG");
  expect_error(R"({"gpus":[{"model":"H100-SXM5-80GB"}],"mig":{"0":["7g.80gb","1g.10gb"]}})", "8 of 7 slices");
  expect_error(R"({"gpus":[{"model":"H100-SXM5-80GB"}],"mig":{"3":["1g.10gb"]}})", "mig[3]");
  expect_error(R"({"gpus":[{"model":"L40S","count":0}]})", "gpus[0].count");
  auto unknown = ResolveMockMachine(Catalog(), "z9.metal");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST(MockGpuBackend, FaultsShowAsNvmlWouldShowThem) {
  MockGpuBackend m = Machine("p4d.24xlarge");
  ASSERT_TRUE(m.Watch(0).ok());
  ASSERT_TRUE(m.Watch(1).ok());
  m.InjectXid(1, 94);
  m.InjectXid(2, 31);  // not watched: not delivered
  auto e = m.WaitEvent(std::chrono::milliseconds(0));
  ASSERT_TRUE(e.ok() && e->has_value());
  EXPECT_EQ((*e)->device_index, 1u);
  EXPECT_EQ((*e)->xid, 94u);
  EXPECT_FALSE(m.WaitEvent(std::chrono::milliseconds(0))->has_value());

  m.InjectEccError(0, /*double_bit=*/true);
  EXPECT_EQ((*m.WaitEvent(std::chrono::milliseconds(0)))->kind, GpuEvent::Kind::kDoubleBitEcc);
  auto xid48 = *m.WaitEvent(std::chrono::milliseconds(0));
  EXPECT_EQ(xid48->xid, 48u);  // a DBE also arrives as Xid 48
  EXPECT_EQ(m.Device(0)->ecc_volatile_uncorrected, 1u);
  m.ClearEccErrors(0);
  EXPECT_EQ(m.Device(0)->ecc_volatile_uncorrected, 0u);
  EXPECT_EQ(m.Device(0)->ecc_aggregate_uncorrected, 1u);

  m.SetRemappedRows(0, {.uncorrectable = 1, .pending = true});
  EXPECT_TRUE(m.Device(0)->remapped_rows->pending);

  m.SetLost(1, true);
  auto lost = m.Device(1);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(m.Device(0).ok());
  EXPECT_EQ((*m.WaitEvent(std::chrono::milliseconds(0)))->xid, 79u);  // fallen off the bus
  m.SetLost(1, false);
  EXPECT_TRUE(m.Device(1).ok());

  m.AddProcess(0, {.pid = 4242, .used_memory_bytes = 2048ull << 20, .name = "vllm"}, 87);
  auto busy = m.Device(0);
  EXPECT_EQ(busy->utilization_gpu, 87u);
  EXPECT_EQ(busy->memory_used_bytes >> 20, 2048u);
  EXPECT_GT(*busy->power_usage_mw, *m.Device(1)->power_usage_mw);
  m.RemoveProcess(0, 4242);
  EXPECT_TRUE(m.Device(0)->processes.empty());
}

TEST(GpuBackend, NoneHasNoDevicesAndSaysSo) {
  auto none = OpenBackend({.kind = "none"});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*(*none)->DeviceCount(), 0u);
  EXPECT_FALSE((*none)->Device(0).ok());
  auto bad = OpenBackend({.kind = "cuda"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("expected auto, nvml, mock or none"));
  auto mock = OpenBackend({.kind = "mock", .mock_machine = "dgxh100",
                           .gpu_models_path = std::string(GPUFLEET_DATA_DIR) + "/gpu-models.json"});
  ASSERT_TRUE(mock.ok()) << mock.status();
  EXPECT_EQ(*(*mock)->DeviceCount(), 8u);
}

}  // namespace
}  // namespace gpufleet::gpu
