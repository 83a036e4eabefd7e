// The part of NVML's C ABI gpufleet uses, declared by the project from the published API
// (NVML API version 13, x86-64). gpufleet never includes nvml.h: the library is opened with
// dlopen (nvml_backend.h) so one binary runs on nodes with and without a driver, and the
// layouts below are pinned by static_asserts so a wrong stride fails the build, not a node.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gpufleet::gpu::nvml {

using Return = int;  // nvmlReturn_t
inline constexpr Return kSuccess = 0;
inline constexpr Return kErrorUninitialized = 1;
inline constexpr Return kErrorInvalidArgument = 2;
inline constexpr Return kErrorNotSupported = 3;
inline constexpr Return kErrorNoPermission = 4;
inline constexpr Return kErrorNotFound = 6;
inline constexpr Return kErrorInsufficientSize = 7;
inline constexpr Return kErrorDriverNotLoaded = 9;
inline constexpr Return kErrorTimeout = 10;
inline constexpr Return kErrorLibraryNotFound = 12;
inline constexpr Return kErrorFunctionNotFound = 13;
inline constexpr Return kErrorGpuIsLost = 15;
inline constexpr Return kErrorResetRequired = 16;
inline constexpr Return kErrorArgumentVersionMismatch = 25;
inline constexpr Return kErrorUnknown = 999;

struct DeviceSt;
using Device = DeviceSt*;  // nvmlDevice_t
struct EventSetSt;
using EventSet = EventSetSt*;  // nvmlEventSet_t

inline constexpr unsigned kInitFlagNoGpus = 1;
inline constexpr unsigned kDeviceNameBufferSize = 96;
inline constexpr unsigned kDeviceUuidBufferSize = 96;
inline constexpr unsigned kDeviceSerialBufferSize = 30;
inline constexpr unsigned kSystemDriverVersionBufferSize = 80;
inline constexpr unsigned kSystemNvmlVersionBufferSize = 80;
inline constexpr unsigned kDeviceVbiosVersionBufferSize = 32;
inline constexpr unsigned kDevicePartNumberBufferSize = 80;
inline constexpr unsigned kNvlinkMaxLinks = 18;
inline constexpr unsigned kProcessNameBufferSize = 1024;

// nvmlPciInfo_t (as filled by nvmlDeviceGetPciInfo_v2/_v3).
struct PciInfo {
  char bus_id_legacy[16];
  unsigned domain;
  unsigned bus;
  unsigned device;
  unsigned pci_device_id;  // device << 16 | vendor
  unsigned pci_sub_system_id;
  char bus_id[32];
};
static_assert(sizeof(PciInfo) == 68 && offsetof(PciInfo, bus_id) == 36);

struct Memory {  // nvmlMemory_t
  unsigned long long total, free, used;
};
static_assert(sizeof(Memory) == 24);

struct MemoryV2 {  // nvmlMemory_v2_t
  unsigned version;
  unsigned long long total, reserved, free, used;
};
static_assert(sizeof(MemoryV2) == 40);
inline constexpr unsigned kMemoryV2Version = sizeof(MemoryV2) | (2u << 24);
static_assert(kMemoryV2Version == 0x02000028);

struct ProcessInfoV1 {  // nvmlProcessInfo_v1_t: nvmlDeviceGetComputeRunningProcesses (v1)
  unsigned pid;
  unsigned long long used_gpu_memory;
};
static_assert(sizeof(ProcessInfoV1) == 16);

struct ProcessInfo {  // nvmlProcessInfo_t (= v2): the _v2 and _v3 entry points
  unsigned pid;
  unsigned long long used_gpu_memory;
  unsigned gpu_instance_id;      // 0xFFFFFFFF when not MIG
  unsigned compute_instance_id;  // 0xFFFFFFFF when not MIG
};
static_assert(sizeof(ProcessInfo) == 24);
inline constexpr unsigned kNoInstance = 0xFFFFFFFFu;
// nvmlProcessInfo_t.usedGpuMemory when the driver cannot say (NVML_VALUE_NOT_AVAILABLE).
inline constexpr unsigned long long kValueNotAvailable = ~0ull;

struct EventData {  // nvmlEventData_t
  Device device;
  unsigned long long event_type;
  unsigned long long event_data;  // the Xid for Xid events
  unsigned gpu_instance_id;
  unsigned compute_instance_id;
};
static_assert(sizeof(EventData) == 32);

struct Utilization {  // nvmlUtilization_t
  unsigned gpu, memory;
};
static_assert(sizeof(Utilization) == 8);

struct TemperatureV {  // nvmlTemperature_t (nvmlDeviceGetTemperatureV)
  unsigned version;
  int sensor_type;
  int temperature;
};
static_assert(sizeof(TemperatureV) == 12);
inline constexpr unsigned kTemperatureVersion = sizeof(TemperatureV) | (1u << 24);
static_assert(kTemperatureVersion == 0x0100000C);

struct DeviceAttributes {  // nvmlDeviceAttributes_t (nvmlDeviceGetAttributes_v2)
  unsigned multiprocessor_count;
  unsigned shared_copy_engine_count;
  unsigned shared_decoder_count;
  unsigned shared_encoder_count;
  unsigned shared_jpeg_count;
  unsigned shared_ofa_count;
  unsigned gpu_instance_slice_count;
  unsigned compute_instance_slice_count;
  unsigned long long memory_size_mb;
};
static_assert(sizeof(DeviceAttributes) == 40);

// Event types (nvmlEventType*).
inline constexpr unsigned long long kEventSingleBitEcc = 0x1;
inline constexpr unsigned long long kEventDoubleBitEcc = 0x2;
inline constexpr unsigned long long kEventXidCritical = 0x8;

// Enumerations passed by value.
inline constexpr int kEnableDisabled = 0, kEnableEnabled = 1;  // nvmlEnableState_t
inline constexpr int kTemperatureGpu = 0;                       // nvmlTemperatureSensors_t
inline constexpr int kClockGraphics = 0, kClockSm = 1, kClockMem = 2;
inline constexpr int kMemoryErrorCorrected = 0, kMemoryErrorUncorrected = 1;
inline constexpr int kEccCounterVolatile = 0, kEccCounterAggregate = 1;
inline constexpr int kPstateUnknown = 32;
// nvmlGpuTopologyLevel_t: how two GPUs are connected over PCIe.
inline constexpr int kTopologyInternal = 0, kTopologySingle = 10, kTopologyMultiple = 20,
                     kTopologyHostBridge = 30, kTopologyNode = 40, kTopologySystem = 50;

}  // namespace gpufleet::gpu::nvml
