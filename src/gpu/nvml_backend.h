// NvmlBackend: the driver's NVML, opened with dlopen so the binary has no link-time dependency on
// it. libnvidia-ml.so.1 is looked for under each driver root (lib/x86_64-linux-gnu, lib64, lib,
// usr/lib/x86_64-linux-gnu, usr/lib64, usr/lib), then by the dynamic loader's own search.
// Entry points are resolved by their newest versioned name with fallbacks to older ones (the
// process list: _v3 → _v2 → v1 with its 16-byte stride; PCI info _v3 → _v2; ...), so one binary
// works across driver generations. Per-device failures (GPU_IS_LOST, RESET_REQUIRED, UNKNOWN)
// fail only that device; an optional query a GPU does not support is left empty.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gpu/backend.h"

namespace gpufleet::gpu {

struct NvmlLibrary;  // the resolved entry points (nvml_backend.cc)

class NvmlBackend final : public GpuBackend {
 public:
  // Loads and initialises NVML. kNotFound when no libnvidia-ml.so.1 is found; kFailedPrecondition
  // when it is found but the driver is not loaded.
  static Result<std::unique_ptr<NvmlBackend>> Open(const std::vector<std::string>& driver_roots);
  ~NvmlBackend() override;

  std::string_view Kind() const override { return "nvml"; }
  Result<SystemInfo> System() override;
  Result<unsigned> DeviceCount() override;
  Result<DeviceInfo> Device(unsigned index) override;
  Result<std::vector<MigDeviceInfo>> MigDevices(unsigned index) override;
  Result<TopologyLevel> CommonAncestor(unsigned a, unsigned b) override;
  Status Watch(unsigned index) override;
  Result<std::optional<GpuEvent>> WaitEvent(std::chrono::milliseconds timeout) override;

  const std::string& library_path() const { return path_; }

 private:
  NvmlBackend(std::unique_ptr<NvmlLibrary> lib, std::string path);
  std::unique_ptr<NvmlLibrary> lib_;
  std::string path_;
};

// The paths NvmlBackend::Open tries for `driver_roots`, in order.
std::vector<std::string> NvmlLibraryCandidates(const std::vector<std::string>& driver_roots);

}  // namespace gpufleet::gpu
