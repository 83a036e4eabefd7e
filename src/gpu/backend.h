// GpuBackend: where GPU facts come from. Three implementations behind one interface:
//   nvml  the driver's libnvidia-ml.so.1, opened with dlopen (nvml_backend.h);
//   mock  GPUs described by a machine description, with faults injected on demand
//         (mock_backend.h) — what `gpufleet up`'s simulated nodes and the tests run;
//   none  a node without NVIDIA GPUs: zero devices, no error.
// Errors are per device: a lost GPU fails Device(i) with kUnavailable and leaves the others
// readable, so one GPU off the bus never takes the agent down with it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "gpu/device.h"

namespace gpufleet::gpu {

class GpuBackend {
 public:
  virtual ~GpuBackend() = default;
  virtual std::string_view Kind() const = 0;  // "nvml", "mock" or "none"

  virtual Result<SystemInfo> System() = 0;
  virtual Result<unsigned> DeviceCount() = 0;
  // Everything about device `index`. kUnavailable when the GPU is lost or needs a reset.
  virtual Result<DeviceInfo> Device(unsigned index) = 0;
  // MIG devices of a MIG-enabled GPU (empty otherwise).
  virtual Result<std::vector<MigDeviceInfo>> MigDevices(unsigned index) = 0;
  // How GPUs a and b are connected over PCIe.
  virtual Result<TopologyLevel> CommonAncestor(unsigned a, unsigned b) = 0;

  // Health events: register the devices to watch (Xid and ECC events), then wait. Returns
  // nullopt on timeout. kNotFound from Watch: the device does not support events.
  virtual Status Watch(unsigned index) = 0;
  virtual Result<std::optional<GpuEvent>> WaitEvent(std::chrono::milliseconds timeout) = 0;
};

struct BackendOptions {
  std::string kind = "auto";  // auto | nvml | mock | none
  // nvml: where the driver lives; libnvidia-ml.so.1 is searched under it (nvml_backend.h).
  std::vector<std::string> driver_roots = {"/", "/run/nvidia/driver", "/home/kubernetes/bin/nvidia"};
  // mock: a built-in profile (an EC2 instance type such as g6e.2xlarge or p5.48xlarge, or a
  // DGX name such as dgxh100) or a path to a machine description JSON file.
  std::string mock_machine = "g6e.2xlarge";
  std::string mock_seed;         // makes UUIDs stable per node (e.g. the instance id)
  std::string gpu_models_path;   // data/gpu-models.json
};

// Opens the backend `options.kind` names. "auto": NVML when the library is found, else none.
Result<std::unique_ptr<GpuBackend>> OpenBackend(const BackendOptions& options);

// The "none" backend on its own.
std::unique_ptr<GpuBackend> NewNoGpuBackend();

}  // namespace gpufleet::gpu
