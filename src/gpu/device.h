// What gpufleet knows about a node's GPUs: plain values filled by a backend (backend.h) from NVML,
// the mock, or nothing. A field the device cannot report is an empty optional ("N/A" in smi),
// never a made-up number.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gpufleet::gpu {

struct SystemInfo {
  std::string driver_version;      // nvmlSystemGetDriverVersion, e.g. "550.54.15"
  std::string nvml_version;        // e.g. "12.550.54.15"
  int cuda_driver_version = 0;     // nvmlSystemGetCudaDriverVersion, e.g. 12040 (= CUDA 12.4)
  std::string CudaVersionString() const;  // "12.4"
};

struct ProcessInfo {
  unsigned pid = 0;
  std::optional<uint64_t> used_memory_bytes;
  std::optional<unsigned> gpu_instance_id, compute_instance_id;  // MIG only
  std::string name;  // nvmlSystemGetProcessName, or empty
};

struct RemappedRows {
  unsigned correctable = 0, uncorrectable = 0;
  bool pending = false, failure = false;
};

// The device plugin's name for a MIG profile: "<slices>g.<GB, rounded up>gb" (1g.10gb).
std::string MigProfileName(unsigned gpu_instance_slices, uint64_t memory_mb);

// A MIG device (a GPU instance + compute instance) of a MIG-enabled GPU.
struct MigDeviceInfo {
  unsigned parent_index = 0;
  unsigned gpu_instance_id = 0, compute_instance_id = 0;
  std::string uuid;            // "MIG-..."
  std::string profile;         // "1g.10gb"
  unsigned multiprocessors = 0;
  unsigned gi_slices = 0, ci_slices = 0;
  unsigned copy_engines = 0, decoders = 0, encoders = 0, jpegs = 0, ofas = 0;
  uint64_t memory_bytes = 0;
  uint64_t memory_used_bytes = 0;
};

struct DeviceInfo {
  unsigned index = 0;
  unsigned minor_number = 0;  // /dev/nvidiaN
  std::string uuid;           // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
  std::string name;           // nvmlDeviceGetName, e.g. "NVIDIA H100 80GB HBM3"
  std::string serial, vbios_version, board_part_number;
  int brand = 0;              // nvmlBrandType_t
  unsigned architecture = 0;  // nvmlDeviceArchitecture_t
  int cuda_cc_major = 0, cuda_cc_minor = 0;
  std::string pci_bus_id;     // "00000000:18:00.0"
  uint32_t pci_device_id = 0;  // device << 16 | vendor
  uint32_t pci_subsystem_id = 0;
  std::optional<int> numa_node;
  uint64_t memory_total_bytes = 0, memory_used_bytes = 0, memory_free_bytes = 0, memory_reserved_bytes = 0;
  std::optional<bool> persistence_mode;
  std::optional<int> compute_mode;  // 0 Default, 2 Prohibited, 3 Exclusive_Process
  std::optional<bool> display_active;
  std::optional<unsigned> mig_mode_current, mig_mode_pending;  // 1 enabled
  std::optional<unsigned> power_usage_mw, power_limit_mw;
  std::optional<unsigned> temperature_c, fan_percent;
  std::optional<int> performance_state;  // P0..P15
  std::optional<unsigned> utilization_gpu, utilization_memory;
  std::optional<unsigned> clock_graphics_mhz, clock_sm_mhz, clock_memory_mhz;
  std::optional<unsigned> max_clock_graphics_mhz, max_clock_sm_mhz, max_clock_memory_mhz;
  std::optional<unsigned> pcie_gen_current, pcie_gen_max, pcie_width_current, pcie_width_max;
  std::optional<bool> ecc_enabled;
  std::optional<uint64_t> ecc_volatile_uncorrected, ecc_aggregate_uncorrected, ecc_volatile_corrected;
  std::optional<RemappedRows> remapped_rows;
  std::vector<ProcessInfo> processes;
  // The PCI bus id at the far end of each active NVLink (repeated once per link).
  std::vector<std::string> nvlink_peers;

  bool MigEnabled() const { return mig_mode_current.value_or(0) == 1; }
};

// A health event: an Xid, or an ECC error (nvmlEventData_t).
struct GpuEvent {
  unsigned device_index = 0;
  enum class Kind { kXid, kSingleBitEcc, kDoubleBitEcc } kind = Kind::kXid;
  uint64_t xid = 0;
  std::optional<unsigned> gpu_instance_id, compute_instance_id;  // MIG: which instance
};

// How two GPUs are connected (nvmlGpuTopologyLevel_t), best first.
enum class TopologyLevel { kInternal = 0, kSingleSwitch = 10, kMultipleSwitches = 20, kHostBridge = 30,
                           kSameNumaNode = 40, kCrossNumaNode = 50 };

}  // namespace gpufleet::gpu
