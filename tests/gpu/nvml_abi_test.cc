// The ABI the NVML backend is built on, checked against NVML's documented layouts (API version
// 13, x86-64): sizes, field offsets and version words. A wrong stride here would corrupt a
// process list or a memory reading on a real node. (nvml_abi.h also static_asserts these.)
#include "gpu/nvml_abi.h"

#include <gtest/gtest.h>

namespace gpufleet::gpu::nvml {
namespace {

TEST(NvmlAbi, StructLayoutsMatchTheDocumentedOnes) {
  EXPECT_EQ(sizeof(PciInfo), 68u);
  EXPECT_EQ(offsetof(PciInfo, domain), 16u);
  EXPECT_EQ(offsetof(PciInfo, pci_device_id), 28u);
  EXPECT_EQ(offsetof(PciInfo, bus_id), 36u);
  EXPECT_EQ(sizeof(Memory), 24u);
  EXPECT_EQ(sizeof(MemoryV2), 40u);
  EXPECT_EQ(offsetof(MemoryV2, total), 8u);
  EXPECT_EQ(offsetof(MemoryV2, used), 32u);
  EXPECT_EQ(sizeof(ProcessInfoV1), 16u);  // nvmlDeviceGetComputeRunningProcesses (v1)
  EXPECT_EQ(sizeof(ProcessInfo), 24u);    // the _v2 and _v3 entry points
  EXPECT_EQ(offsetof(ProcessInfo, used_gpu_memory), 8u);
  EXPECT_EQ(offsetof(ProcessInfo, gpu_instance_id), 16u);
  EXPECT_EQ(sizeof(EventData), 32u);
  EXPECT_EQ(offsetof(EventData, event_data), 16u);
  EXPECT_EQ(sizeof(Utilization), 8u);
  EXPECT_EQ(sizeof(TemperatureV), 12u);
  EXPECT_EQ(sizeof(DeviceAttributes), 40u);
  EXPECT_EQ(offsetof(DeviceAttributes, memory_size_mb), 32u);
}

TEST(NvmlAbi, VersionWordsAndCodes) {
  EXPECT_EQ(kMemoryV2Version, 0x02000028u);
  EXPECT_EQ(kTemperatureVersion, 0x0100000Cu);
  EXPECT_EQ(kErrorGpuIsLost, 15);
  EXPECT_EQ(kErrorInsufficientSize, 7);
  EXPECT_EQ(kErrorResetRequired, 16);
  EXPECT_EQ(kEventXidCritical, 0x8u);
  EXPECT_EQ(kEventDoubleBitEcc, 0x2u);
}

}  // namespace
}  // namespace gpufleet::gpu::nvml
