#include "gpu/backend.h"

#include "core/data_files.h"
#include "gpu/mock_backend.h"
#include "gpu/nvml_backend.h"

namespace gpufleet::gpu {
namespace {

class NoGpuBackend final : public GpuBackend {
 public:
  std::string_view Kind() const override { return "none"; }
  Result<SystemInfo> System() override { return SystemInfo{}; }
  Result<unsigned> DeviceCount() override { return 0u; }
  Result<DeviceInfo> Device(unsigned index) override { return NoSuchDevice(index); }
  Result<std::vector<MigDeviceInfo>> MigDevices(unsigned index) override { return NoSuchDevice(index); }
  Result<TopologyLevel> CommonAncestor(unsigned a, unsigned) override { return NoSuchDevice(a); }
  Status Watch(unsigned index) override { return NoSuchDevice(index); }
  Result<std::optional<GpuEvent>> WaitEvent(std::chrono::milliseconds) override {
    return FailedPreconditionError("no GPUs to watch");
  }

 private:
  static Status NoSuchDevice(unsigned index) {
    return InvalidArgumentError("GPU index " + std::to_string(index) + ": this node has no NVIDIA GPUs");
  }
};

}  // namespace

std::string SystemInfo::CudaVersionString() const {
  if (cuda_driver_version <= 0) return "N/A";
  return std::to_string(cuda_driver_version / 1000) + "." + std::to_string(cuda_driver_version % 1000 / 10);
}

std::string MigProfileName(unsigned gpu_instance_slices, uint64_t memory_mb) {
  return std::to_string(gpu_instance_slices) + "g." + std::to_string((memory_mb + 1023) / 1024) + "gb";
}

std::unique_ptr<GpuBackend> NewNoGpuBackend() { return std::make_unique<NoGpuBackend>(); }

Result<std::unique_ptr<GpuBackend>> OpenBackend(const BackendOptions& options) {
  if (options.kind == "none") return NewNoGpuBackend();
  if (options.kind == "mock") {
    const std::string path = options.gpu_models_path.empty() ? core::DefaultDataFile("gpu-models.json") : options.gpu_models_path;
    GF_ASSIGN_OR_RETURN(GpuCatalog catalog, LoadGpuCatalog(path));
    GF_ASSIGN_OR_RETURN(MockMachineSpec spec, ResolveMockMachine(catalog, options.mock_machine));
    return std::unique_ptr<GpuBackend>(std::make_unique<MockGpuBackend>(std::move(spec), options.mock_seed));
  }
  if (options.kind != "nvml" && options.kind != "auto") {
    return InvalidArgumentError("GPU backend \"" + options.kind + "\": expected auto, nvml, mock or none");
  }
  auto nvml = NvmlBackend::Open(options.driver_roots);
  if (nvml.ok()) return std::unique_ptr<GpuBackend>(std::move(nvml).value());
  if (options.kind == "auto" && nvml.status().code() == StatusCode::kNotFound) return NewNoGpuBackend();
  return nvml.status();
}

}  // namespace gpufleet::gpu
