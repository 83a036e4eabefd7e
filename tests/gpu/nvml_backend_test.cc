// NvmlBackend against a stand-in libnvidia-ml.so.1 (fake_nvml.cc) under a driver root: the search,
// the versioned-symbol fallbacks (v1 process records have a 16-byte stride), per-device errors
// (a lost GPU fails only itself), optional queries a GPU does not support, and events.
#include "gpu/nvml_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gpu/smi.h"

namespace gpufleet::gpu {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class NvmlBackendTest : public ::testing::TestWithParam<const char*> {};

TEST_P(NvmlBackendTest, ReadsEveryDeviceAndFailsOnlyTheLostOne) {
  auto backend = NvmlBackend::Open({"/nonexistent-driver-root", GetParam()});
  ASSERT_TRUE(backend.ok()) << backend.status();
  EXPECT_THAT((*backend)->library_path(), HasSubstr("libnvidia-ml.so.1"));
  auto system = (*backend)->System();
  ASSERT_TRUE(system.ok());
  EXPECT_EQ(system->driver_version, "550.54.15");
  EXPECT_EQ(system->CudaVersionString(), "12.4");
  ASSERT_EQ(*(*backend)->DeviceCount(), 3u);

  auto d = (*backend)->Device(0);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(d->uuid, "GPU-11111111-2222-4333-8444-555555555555");
  EXPECT_EQ(d->pci_bus_id, "00000000:18:00.0");
  EXPECT_EQ(d->pci_device_id, 0x233010DEu);
  EXPECT_EQ(d->architecture, 9u);
  EXPECT_EQ(d->cuda_cc_major, 9);
  EXPECT_EQ(d->memory_total_bytes, 81559ull << 20);
  EXPECT_EQ(d->power_usage_mw, 71234u);
  EXPECT_EQ(d->power_limit_mw, 700000u);
  EXPECT_EQ(d->temperature_c, 33u);
  EXPECT_FALSE(d->fan_percent.has_value());  // NOT_SUPPORTED: N/A, not an error
  EXPECT_EQ(d->utilization_gpu, 42u);
  EXPECT_EQ(d->ecc_volatile_uncorrected, 2u);
  ASSERT_TRUE(d->remapped_rows.has_value());
  EXPECT_TRUE(d->remapped_rows->pending);
  EXPECT_EQ(d->max_clock_sm_mhz, 1980u);
  EXPECT_EQ(d->numa_node, 0);
  // Four active NVLinks to the other H100.
  EXPECT_THAT(d->nvlink_peers, ElementsAre("00000000:2A:00.0", "00000000:2A:00.0", "00000000:2A:00.0", "00000000:2A:00.0"));
  // Processes: the record stride must match the entry point that was found.
  ASSERT_EQ(d->processes.size(), 2u);
  EXPECT_EQ(d->processes[0].pid, 1234u);
  EXPECT_EQ(d->processes[0].used_memory_bytes, 1024ull << 20);
  EXPECT_EQ(d->processes[0].name, "/usr/bin/python3");
  EXPECT_FALSE(d->processes[0].gpu_instance_id.has_value());
  EXPECT_EQ(d->processes[1].pid, 5678u);
  EXPECT_FALSE(d->processes[1].used_memory_bytes.has_value());

  auto lost = (*backend)->Device(2);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(lost.status().message(), HasSubstr("GPU is lost"));
  EXPECT_TRUE((*backend)->Device(1).ok());  // the others stay readable

  EXPECT_EQ(*(*backend)->CommonAncestor(0, 1), TopologyLevel::kSameNumaNode);
  EXPECT_FALSE((*backend)->Watch(2).ok());
  ASSERT_TRUE((*backend)->Watch(0).ok());
  ASSERT_TRUE((*backend)->Watch(1).ok());
  auto event = (*backend)->WaitEvent(std::chrono::milliseconds(10));
  ASSERT_TRUE(event.ok());
  ASSERT_TRUE(event->has_value());
  EXPECT_EQ((*event)->device_index, 1u);
  EXPECT_EQ((*event)->xid, 79u);
  auto none = (*backend)->WaitEvent(std::chrono::milliseconds(10));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  // The report shows the readable GPUs and names the lost one; nvidia-smi's exit code 15.
  auto snapshot = TakeSnapshot(**backend);
  ASSERT_TRUE(snapshot.ok());
  EXPECT_THAT(FormatTable(*snapshot), HasSubstr("Unable to determine the device handle for GPU 2"));
  EXPECT_EQ(ExitCode(*snapshot), 15);
}

TEST_P(NvmlBackendTest, MemoryComesFromTheNewestEntryPoint) {
  auto backend = NvmlBackend::Open({GetParam()});
  ASSERT_TRUE(backend.ok()) << backend.status();
  auto d = (*backend)->Device(0);
  ASSERT_TRUE(d.ok());
  if (std::string(GetParam()).find("legacy") != std::string::npos) {
    EXPECT_EQ(d->memory_used_bytes, 1536ull << 20);  // v1: reserved memory counts as used
    EXPECT_EQ(d->memory_reserved_bytes, 0u);
  } else {
    EXPECT_EQ(d->memory_used_bytes, 1024ull << 20);
    EXPECT_EQ(d->memory_reserved_bytes, 512ull << 20);
  }
}

INSTANTIATE_TEST_SUITE_P(Drivers, NvmlBackendTest, ::testing::Values(FAKE_DRIVER_ROOT_MODERN, FAKE_DRIVER_ROOT_LEGACY));

TEST(NvmlBackend, NoLibraryIsNotFoundWithAHint) {
  auto backend = NvmlBackend::Open({"/nonexistent-driver-root"});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(backend.status().message(), HasSubstr("driver root"));
}

TEST(NvmlBackend, BrokenLibraryIsOneClearError) {
  const std::string root = ::testing::TempDir() + "/broken-driver-" + std::to_string(getpid());
  std::filesystem::create_directories(root + "/usr/lib64");
  std::ofstream(root + "/usr/lib64/libnvidia-ml.so.1") << "not an ELF file";
  auto backend = NvmlBackend::Open({root});
  ASSERT_FALSE(backend.ok());
  EXPECT_EQ(backend.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(backend.status().message(), HasSubstr("libnvidia-ml.so.1 cannot be loaded"));
  // auto does not hide a broken driver behind "no GPUs".
  EXPECT_FALSE(OpenBackend({.kind = "auto", .driver_roots = {root}}).ok());
  std::filesystem::remove_all(root);
}

TEST(NvmlBackend, AutoFallsBackToNoGpusWithoutADriver) {
  auto backend = OpenBackend({.kind = "auto", .driver_roots = {"/nonexistent-driver-root"}});
  ASSERT_TRUE(backend.ok()) << backend.status();
  EXPECT_EQ((*backend)->Kind(), "none");
  EXPECT_EQ(*(*backend)->DeviceCount(), 0u);
  auto nvml = OpenBackend({.kind = "nvml", .driver_roots = {"/nonexistent-driver-root"}});
  EXPECT_FALSE(nvml.ok());  // asked for NVML explicitly: its absence is an error
}

}  // namespace
}  // namespace gpufleet::gpu
