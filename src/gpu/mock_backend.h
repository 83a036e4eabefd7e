// MockGpuBackend: GPUs from the catalogue (models.h), arranged as a machine description says,
// reporting what NVML reports for that GPU (name, memory, PCI ids, clocks, power cap, MIG
// profiles) with idle readings, and faults injected on demand: Xid events, ECC errors, remapped
// rows, lost GPUs. `gpufleet up` runs the real agent against it on every simulated node.
//
// Machine description (JSON; every field but "gpus" optional):
//   {"driverVersion": "570.172.08", "nvmlVersion": "12.570.172.08", "cudaDriverVersion": 12080,
//    "gpus": [{"model": "H100-SXM5-80GB", "count": 8}],
//    "nvlink": true,            // all-to-all NVLink when the model has links (default)
//    "numaNodes": 2,            // GPUs split evenly across NUMA nodes (default 1, 2 for 8 GPUs)
//    "mig": {"0": ["3g.40gb", "3g.40gb"]}}   // MIG devices per GPU index (MIG mode on)
// Built-in profiles: a GPU model with a count (l40s, t4, a10g, h100-sxm-x8: the model's id or a
// unique prefix of it, "-xN" for N GPUs), every EC2 instance type the catalogue lists
// (g6e.2xlarge -> 1x L40S, p5.48xlarge -> 8x H100 80GB HBM3) and the go-nvml mock machines
// (dgxa100, dgxh100, ...).
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>

#include "gpu/backend.h"
#include "gpu/models.h"

namespace gpufleet::gpu {

struct MockGpu {
  GpuModel model;
  std::vector<std::string> mig;  // MIG device profiles; non-empty: MIG mode on
};

struct MockMachineSpec {
  std::string driver_version = "570.172.08";
  std::string nvml_version = "12.570.172.08";
  int cuda_driver_version = 12080;
  std::vector<MockGpu> gpus;
  bool nvlink = true;
  unsigned numa_nodes = 1;
};

// A built-in profile name or a machine description file -> the machine.
Result<MockMachineSpec> ResolveMockMachine(const GpuCatalog& catalog, const std::string& profile_or_path);
// Parses a machine description (see above).
Result<MockMachineSpec> ParseMockMachine(const GpuCatalog& catalog, std::string_view json_text);

class MockGpuBackend final : public GpuBackend {
 public:
  // `seed` makes the UUIDs stable for one node and distinct between nodes.
  MockGpuBackend(MockMachineSpec spec, std::string seed);

  std::string_view Kind() const override { return "mock"; }
  Result<SystemInfo> System() override;
  Result<unsigned> DeviceCount() override;
  Result<DeviceInfo> Device(unsigned index) override;
  Result<std::vector<MigDeviceInfo>> MigDevices(unsigned index) override;
  Result<TopologyLevel> CommonAncestor(unsigned a, unsigned b) override;
  Status Watch(unsigned index) override;
  Result<std::optional<GpuEvent>> WaitEvent(std::chrono::milliseconds timeout) override;

  // Faults, as a real GPU would show them.
  void InjectXid(unsigned index, uint64_t xid, std::optional<unsigned> gpu_instance = std::nullopt,
                 std::optional<unsigned> compute_instance = std::nullopt);
  void InjectEccError(unsigned index, bool double_bit);  // counts it and raises the event
  void SetRemappedRows(unsigned index, RemappedRows rows);
  void SetLost(unsigned index, bool lost);  // GPU_IS_LOST until cleared
  void ClearEccErrors(unsigned index);      // a reset clears the volatile counters
  // A workload: shows in processes, memory used and utilisation.
  void AddProcess(unsigned index, ProcessInfo process, unsigned utilization_percent);
  void RemoveProcess(unsigned index, unsigned pid);

  const MockMachineSpec& spec() const { return spec_; }

 private:
  struct State {
    bool lost = false;
    bool watched = false;
    uint64_t ecc_volatile_uncorrected = 0, ecc_volatile_corrected = 0, ecc_aggregate_uncorrected = 0;
    RemappedRows remapped;
    std::vector<ProcessInfo> processes;
    unsigned utilization = 0;
  };
  Status CheckIndex(unsigned index) const;
  void Raise(GpuEvent event);

  MockMachineSpec spec_;
  std::vector<std::string> uuids_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<State> state_;
  std::deque<GpuEvent> events_;
};

}  // namespace gpufleet::gpu
