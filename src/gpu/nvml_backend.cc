#include "gpu/nvml_backend.h"

#include <dlfcn.h>

#include <cstring>
#include <filesystem>
#include <mutex>

#include "core/log.h"
#include "gpu/nvml_abi.h"

namespace gpufleet::gpu {

using nvml::Return;

struct NvmlLibrary {
  void* handle = nullptr;
  Return (*init)() = nullptr;
  Return (*shutdown)() = nullptr;
  const char* (*error_string)(Return) = nullptr;
  Return (*driver_version)(char*, unsigned) = nullptr;
  Return (*nvml_version)(char*, unsigned) = nullptr;
  Return (*cuda_driver_version)(int*) = nullptr;
  Return (*process_name)(unsigned, char*, unsigned) = nullptr;
  Return (*count)(unsigned*) = nullptr;
  Return (*handle_by_index)(unsigned, nvml::Device*) = nullptr;
  Return (*name)(nvml::Device, char*, unsigned) = nullptr;
  Return (*uuid)(nvml::Device, char*, unsigned) = nullptr;
  Return (*serial)(nvml::Device, char*, unsigned) = nullptr;
  Return (*vbios)(nvml::Device, char*, unsigned) = nullptr;
  Return (*part_number)(nvml::Device, char*, unsigned) = nullptr;
  Return (*minor)(nvml::Device, unsigned*) = nullptr;
  Return (*brand)(nvml::Device, int*) = nullptr;
  Return (*architecture)(nvml::Device, unsigned*) = nullptr;
  Return (*compute_capability)(nvml::Device, int*, int*) = nullptr;
  Return (*pci)(nvml::Device, nvml::PciInfo*) = nullptr;
  Return (*numa_node)(nvml::Device, unsigned*) = nullptr;
  Return (*memory_v2)(nvml::Device, nvml::MemoryV2*) = nullptr;
  Return (*memory)(nvml::Device, nvml::Memory*) = nullptr;
  Return (*persistence)(nvml::Device, int*) = nullptr;
  Return (*compute_mode)(nvml::Device, int*) = nullptr;
  Return (*display_active)(nvml::Device, int*) = nullptr;
  Return (*mig_mode)(nvml::Device, unsigned*, unsigned*) = nullptr;
  Return (*power_usage)(nvml::Device, unsigned*) = nullptr;
  Return (*power_limit)(nvml::Device, unsigned*) = nullptr;
  Return (*temperature_v)(nvml::Device, nvml::TemperatureV*) = nullptr;
  Return (*temperature)(nvml::Device, int, unsigned*) = nullptr;
  Return (*fan)(nvml::Device, unsigned*) = nullptr;
  Return (*pstate)(nvml::Device, int*) = nullptr;
  Return (*utilization)(nvml::Device, nvml::Utilization*) = nullptr;
  Return (*clock)(nvml::Device, int, unsigned*) = nullptr;
  Return (*max_clock)(nvml::Device, int, unsigned*) = nullptr;
  Return (*pcie_gen)(nvml::Device, unsigned*) = nullptr;
  Return (*max_pcie_gen)(nvml::Device, unsigned*) = nullptr;
  Return (*pcie_width)(nvml::Device, unsigned*) = nullptr;
  Return (*max_pcie_width)(nvml::Device, unsigned*) = nullptr;
  Return (*ecc_mode)(nvml::Device, int*, int*) = nullptr;
  Return (*ecc_errors)(nvml::Device, int, int, unsigned long long*) = nullptr;
  Return (*remapped_rows)(nvml::Device, unsigned*, unsigned*, unsigned*, unsigned*) = nullptr;
  Return (*processes)(nvml::Device, unsigned*, void*) = nullptr;
  size_t process_stride = sizeof(nvml::ProcessInfo);
  Return (*nvlink_state)(nvml::Device, unsigned, int*) = nullptr;
  Return (*nvlink_remote_pci)(nvml::Device, unsigned, nvml::PciInfo*) = nullptr;
  Return (*topology)(nvml::Device, nvml::Device, int*) = nullptr;
  Return (*max_mig_devices)(nvml::Device, unsigned*) = nullptr;
  Return (*mig_handle)(nvml::Device, unsigned, nvml::Device*) = nullptr;
  Return (*gpu_instance_id)(nvml::Device, unsigned*) = nullptr;
  Return (*compute_instance_id)(nvml::Device, unsigned*) = nullptr;
  Return (*attributes)(nvml::Device, nvml::DeviceAttributes*) = nullptr;
  Return (*event_set_create)(nvml::EventSet*) = nullptr;
  Return (*supported_events)(nvml::Device, unsigned long long*) = nullptr;
  Return (*register_events)(nvml::Device, unsigned long long, nvml::EventSet) = nullptr;
  Return (*event_wait)(nvml::EventSet, nvml::EventData*, unsigned) = nullptr;
  Return (*event_set_free)(nvml::EventSet) = nullptr;

  std::mutex events_mu;
  nvml::EventSet events = nullptr;
  std::vector<std::pair<nvml::Device, unsigned>> watched;  // handle -> index

  // The first of `names` the library exports.
  template <typename Fn>
  bool Resolve(Fn& fn, std::initializer_list<const char*> names) {
    for (const char* n : names) {
      if (void* sym = dlsym(handle, n)) {
        fn = reinterpret_cast<Fn>(sym);
        return true;
      }
    }
    return false;
  }

  std::string Error(Return r) const {
    const char* s = error_string != nullptr ? error_string(r) : nullptr;
    return std::string(s != nullptr ? s : "NVML error") + " (" + std::to_string(r) + ")";
  }
};

namespace {

const core::log::Logger kLog("gpu.nvml");

bool IsDeviceGone(Return r) {
  return r == nvml::kErrorGpuIsLost || r == nvml::kErrorResetRequired || r == nvml::kErrorUnknown;
}

Status DeviceError(const NvmlLibrary& lib, Return r, unsigned index, std::string_view call) {
  const std::string what = "GPU " + std::to_string(index) + ": " + std::string(call) + ": " + lib.Error(r);
  if (IsDeviceGone(r)) return UnavailableError(what);
  if (r == nvml::kErrorNotFound) return NotFoundError(what);
  return InternalError(what);
}

// Calls an optional query: a value on success; empty when the entry point is missing or the
// device does not support it; kUnavailable when the device is gone (the caller stops).
template <typename T, typename Fn, typename... Args>
Status Query(const NvmlLibrary& lib, std::optional<T>& out, Fn fn, unsigned index, const char* call, nvml::Device dev,
             Args... args) {
  if (fn == nullptr) return OkStatus();
  T value{};
  Return r = fn(dev, args..., &value);
  if (r == nvml::kSuccess) {
    out = value;
  } else if (IsDeviceGone(r)) {
    return DeviceError(lib, r, index, call);
  }
  return OkStatus();
}

std::string CString(const char* buf, size_t size) { return std::string(buf, strnlen(buf, size)); }

}  // namespace

std::vector<std::string> NvmlLibraryCandidates(const std::vector<std::string>& driver_roots) {
  static const char* kDirs[] = {"lib/x86_64-linux-gnu", "lib64", "lib", "usr/lib/x86_64-linux-gnu", "usr/lib64",
                                "usr/lib"};
  std::vector<std::string> out;
  for (const auto& root : driver_roots) {
    for (const char* dir : kDirs) out.push_back((std::filesystem::path(root) / dir / "libnvidia-ml.so.1").string());
  }
  return out;
}

Result<std::unique_ptr<NvmlBackend>> NvmlBackend::Open(const std::vector<std::string>& driver_roots) {
  auto lib = std::make_unique<NvmlLibrary>();
  std::string path, broken;
  for (const auto& candidate : NvmlLibraryCandidates(driver_roots)) {
    std::error_code ec;
    if (!std::filesystem::exists(candidate, ec)) continue;
    lib->handle = dlopen(candidate.c_str(), RTLD_LAZY | RTLD_GLOBAL);
    if (lib->handle != nullptr) {
      path = candidate;
      break;
    }
    const char* error = dlerror();
    broken += (broken.empty() ? "" : "; ") + std::string(error != nullptr ? error : candidate + ": cannot be loaded");
  }
  if (lib->handle == nullptr && !broken.empty()) {
    return FailedPreconditionError("libnvidia-ml.so.1 cannot be loaded: " + broken);
  }
  if (lib->handle == nullptr && driver_roots.empty()) {
    lib->handle = dlopen("libnvidia-ml.so.1", RTLD_LAZY | RTLD_GLOBAL);  // the loader's own search
    path = "libnvidia-ml.so.1";
  }
  if (lib->handle == nullptr) {
    std::string roots;
    for (const auto& r : driver_roots) roots += (roots.empty() ? "" : ", ") + r;
    return NotFoundError("libnvidia-ml.so.1 not found under the driver roots (" + roots +
                         "): is the NVIDIA driver installed, and its root mounted into this container?");
  }
  NvmlLibrary& l = *lib;
  bool required = l.Resolve(l.init, {"nvmlInit_v2", "nvmlInit"}) && l.Resolve(l.shutdown, {"nvmlShutdown"}) &&
                  l.Resolve(l.count, {"nvmlDeviceGetCount_v2", "nvmlDeviceGetCount"}) &&
                  l.Resolve(l.handle_by_index, {"nvmlDeviceGetHandleByIndex_v2", "nvmlDeviceGetHandleByIndex"}) &&
                  l.Resolve(l.name, {"nvmlDeviceGetName"}) && l.Resolve(l.uuid, {"nvmlDeviceGetUUID"}) &&
                  l.Resolve(l.pci, {"nvmlDeviceGetPciInfo_v3", "nvmlDeviceGetPciInfo_v2"});
  l.Resolve(l.error_string, {"nvmlErrorString"});
  if (!required) {
    dlclose(l.handle);
    return FailedPreconditionError(path + " lacks NVML's basic entry points (init, count, handle, name, UUID, PCI info)");
  }
  l.Resolve(l.driver_version, {"nvmlSystemGetDriverVersion"});
  l.Resolve(l.nvml_version, {"nvmlSystemGetNVMLVersion"});
  l.Resolve(l.cuda_driver_version, {"nvmlSystemGetCudaDriverVersion_v2", "nvmlSystemGetCudaDriverVersion"});
  l.Resolve(l.process_name, {"nvmlSystemGetProcessName"});
  l.Resolve(l.serial, {"nvmlDeviceGetSerial"});
  l.Resolve(l.vbios, {"nvmlDeviceGetVbiosVersion"});
  l.Resolve(l.part_number, {"nvmlDeviceGetBoardPartNumber"});
  l.Resolve(l.minor, {"nvmlDeviceGetMinorNumber"});
  l.Resolve(l.brand, {"nvmlDeviceGetBrand"});
  l.Resolve(l.architecture, {"nvmlDeviceGetArchitecture"});
  l.Resolve(l.compute_capability, {"nvmlDeviceGetCudaComputeCapability"});
  l.Resolve(l.numa_node, {"nvmlDeviceGetNumaNodeId"});
  l.Resolve(l.memory_v2, {"nvmlDeviceGetMemoryInfo_v2"});
  l.Resolve(l.memory, {"nvmlDeviceGetMemoryInfo"});
  l.Resolve(l.persistence, {"nvmlDeviceGetPersistenceMode"});
  l.Resolve(l.compute_mode, {"nvmlDeviceGetComputeMode"});
  l.Resolve(l.display_active, {"nvmlDeviceGetDisplayActive"});
  l.Resolve(l.mig_mode, {"nvmlDeviceGetMigMode"});
  l.Resolve(l.power_usage, {"nvmlDeviceGetPowerUsage"});
  l.Resolve(l.power_limit, {"nvmlDeviceGetEnforcedPowerLimit"});
  l.Resolve(l.temperature_v, {"nvmlDeviceGetTemperatureV"});
  l.Resolve(l.temperature, {"nvmlDeviceGetTemperature"});
  l.Resolve(l.fan, {"nvmlDeviceGetFanSpeed"});
  l.Resolve(l.pstate, {"nvmlDeviceGetPerformanceState"});
  l.Resolve(l.utilization, {"nvmlDeviceGetUtilizationRates"});
  l.Resolve(l.clock, {"nvmlDeviceGetClockInfo"});
  l.Resolve(l.max_clock, {"nvmlDeviceGetMaxClockInfo"});
  l.Resolve(l.pcie_gen, {"nvmlDeviceGetCurrPcieLinkGeneration"});
  l.Resolve(l.max_pcie_gen, {"nvmlDeviceGetMaxPcieLinkGeneration"});
  l.Resolve(l.pcie_width, {"nvmlDeviceGetCurrPcieLinkWidth"});
  l.Resolve(l.max_pcie_width, {"nvmlDeviceGetMaxPcieLinkWidth"});
  l.Resolve(l.ecc_mode, {"nvmlDeviceGetEccMode"});
  l.Resolve(l.ecc_errors, {"nvmlDeviceGetTotalEccErrors"});
  l.Resolve(l.remapped_rows, {"nvmlDeviceGetRemappedRows"});
  if (!l.Resolve(l.processes, {"nvmlDeviceGetComputeRunningProcesses_v3", "nvmlDeviceGetComputeRunningProcesses_v2"}) &&
      l.Resolve(l.processes, {"nvmlDeviceGetComputeRunningProcesses"})) {
    l.process_stride = sizeof(nvml::ProcessInfoV1);  // the original entry point's 16-byte records
  }
  l.Resolve(l.nvlink_state, {"nvmlDeviceGetNvLinkState"});
  l.Resolve(l.nvlink_remote_pci, {"nvmlDeviceGetNvLinkRemotePciInfo_v2", "nvmlDeviceGetNvLinkRemotePciInfo"});
  l.Resolve(l.topology, {"nvmlDeviceGetTopologyCommonAncestor"});
  l.Resolve(l.max_mig_devices, {"nvmlDeviceGetMaxMigDeviceCount"});
  l.Resolve(l.mig_handle, {"nvmlDeviceGetMigDeviceHandleByIndex"});
  l.Resolve(l.gpu_instance_id, {"nvmlDeviceGetGpuInstanceId"});
  l.Resolve(l.compute_instance_id, {"nvmlDeviceGetComputeInstanceId"});
  l.Resolve(l.attributes, {"nvmlDeviceGetAttributes_v2", "nvmlDeviceGetAttributes"});
  l.Resolve(l.event_set_create, {"nvmlEventSetCreate"});
  l.Resolve(l.supported_events, {"nvmlDeviceGetSupportedEventTypes"});
  l.Resolve(l.register_events, {"nvmlDeviceRegisterEvents"});
  l.Resolve(l.event_wait, {"nvmlEventSetWait_v2", "nvmlEventSetWait"});
  l.Resolve(l.event_set_free, {"nvmlEventSetFree"});

  if (Return r = l.init(); r != nvml::kSuccess) {
    std::string error = l.Error(r);
    dlclose(l.handle);
    return FailedPreconditionError("NVML (" + path + ") failed to initialise: " + error);
  }
  kLog.Info("NVML loaded", {{"path", path}});
  return std::unique_ptr<NvmlBackend>(new NvmlBackend(std::move(lib), path));
}

NvmlBackend::NvmlBackend(std::unique_ptr<NvmlLibrary> lib, std::string path) : lib_(std::move(lib)), path_(std::move(path)) {}

NvmlBackend::~NvmlBackend() {
  if (lib_->events != nullptr && lib_->event_set_free != nullptr) lib_->event_set_free(lib_->events);
  lib_->shutdown();
  dlclose(lib_->handle);
}

Result<SystemInfo> NvmlBackend::System() {
  SystemInfo out;
  char buf[nvml::kSystemDriverVersionBufferSize] = {};
  if (lib_->driver_version != nullptr && lib_->driver_version(buf, sizeof(buf)) == nvml::kSuccess) {
    out.driver_version = CString(buf, sizeof(buf));
  }
  char version[nvml::kSystemNvmlVersionBufferSize] = {};
  if (lib_->nvml_version != nullptr && lib_->nvml_version(version, sizeof(version)) == nvml::kSuccess) {
    out.nvml_version = CString(version, sizeof(version));
  }
  if (lib_->cuda_driver_version != nullptr) lib_->cuda_driver_version(&out.cuda_driver_version);
  return out;
}

Result<unsigned> NvmlBackend::DeviceCount() {
  unsigned n = 0;
  if (Return r = lib_->count(&n); r != nvml::kSuccess) return InternalError("nvmlDeviceGetCount: " + lib_->Error(r));
  return n;
}

Result<DeviceInfo> NvmlBackend::Device(unsigned index) {
  const NvmlLibrary& l = *lib_;
  nvml::Device dev = nullptr;
  if (Return r = l.handle_by_index(index, &dev); r != nvml::kSuccess) {
    return DeviceError(l, r, index, "nvmlDeviceGetHandleByIndex");
  }
  DeviceInfo d;
  d.index = index;
  char name[nvml::kDeviceNameBufferSize] = {};
  if (Return r = l.name(dev, name, sizeof(name)); r != nvml::kSuccess) return DeviceError(l, r, index, "nvmlDeviceGetName");
  d.name = CString(name, sizeof(name));
  char uuid[nvml::kDeviceUuidBufferSize] = {};
  if (Return r = l.uuid(dev, uuid, sizeof(uuid)); r != nvml::kSuccess) return DeviceError(l, r, index, "nvmlDeviceGetUUID");
  d.uuid = CString(uuid, sizeof(uuid));
  nvml::PciInfo pci{};
  if (Return r = l.pci(dev, &pci); r != nvml::kSuccess) return DeviceError(l, r, index, "nvmlDeviceGetPciInfo");
  d.pci_bus_id = CString(pci.bus_id, sizeof(pci.bus_id));
  d.pci_device_id = pci.pci_device_id;
  d.pci_subsystem_id = pci.pci_sub_system_id;

  auto text = [&](auto fn, unsigned size) -> std::string {
    if (fn == nullptr) return "";
    std::string buf(size, '\0');
    return fn(dev, buf.data(), size) == nvml::kSuccess ? CString(buf.data(), size) : "";
  };
  d.serial = text(l.serial, nvml::kDeviceSerialBufferSize);
  d.vbios_version = text(l.vbios, nvml::kDeviceVbiosVersionBufferSize);
  d.board_part_number = text(l.part_number, nvml::kDevicePartNumberBufferSize);

  std::optional<unsigned> minor, arch, numa;
  std::optional<int> brand, persistence, compute_mode, display, pstate;
  GF_RETURN_IF_ERROR(Query(l, minor, l.minor, index, "nvmlDeviceGetMinorNumber", dev));
  d.minor_number = minor.value_or(index);
  GF_RETURN_IF_ERROR(Query(l, brand, l.brand, index, "nvmlDeviceGetBrand", dev));
  d.brand = brand.value_or(0);
  GF_RETURN_IF_ERROR(Query(l, arch, l.architecture, index, "nvmlDeviceGetArchitecture", dev));
  d.architecture = arch.value_or(0xFFFFFFFFu);
  if (l.compute_capability != nullptr) l.compute_capability(dev, &d.cuda_cc_major, &d.cuda_cc_minor);
  GF_RETURN_IF_ERROR(Query(l, numa, l.numa_node, index, "nvmlDeviceGetNumaNodeId", dev));
  if (numa) d.numa_node = static_cast<int>(*numa);

  // Memory: the v2 call separates what the driver reserves; older drivers only have v1.
  nvml::MemoryV2 mem2{};
  mem2.version = nvml::kMemoryV2Version;
  Return r = l.memory_v2 != nullptr ? l.memory_v2(dev, &mem2) : nvml::kErrorFunctionNotFound;
  if (r == nvml::kSuccess) {
    d.memory_total_bytes = mem2.total;
    d.memory_reserved_bytes = mem2.reserved;
    d.memory_free_bytes = mem2.free;
    d.memory_used_bytes = mem2.used;
  } else if (IsDeviceGone(r)) {
    return DeviceError(l, r, index, "nvmlDeviceGetMemoryInfo_v2");
  } else if (l.memory != nullptr) {
    nvml::Memory mem{};
    if (Return r1 = l.memory(dev, &mem); r1 != nvml::kSuccess) return DeviceError(l, r1, index, "nvmlDeviceGetMemoryInfo");
    d.memory_total_bytes = mem.total;
    d.memory_free_bytes = mem.free;
    d.memory_used_bytes = mem.used;
  }

  GF_RETURN_IF_ERROR(Query(l, persistence, l.persistence, index, "nvmlDeviceGetPersistenceMode", dev));
  if (persistence) d.persistence_mode = *persistence == nvml::kEnableEnabled;
  GF_RETURN_IF_ERROR(Query(l, compute_mode, l.compute_mode, index, "nvmlDeviceGetComputeMode", dev));
  d.compute_mode = compute_mode;
  GF_RETURN_IF_ERROR(Query(l, display, l.display_active, index, "nvmlDeviceGetDisplayActive", dev));
  if (display) d.display_active = *display == nvml::kEnableEnabled;
  if (l.mig_mode != nullptr) {
    unsigned current = 0, pending = 0;
    Return m = l.mig_mode(dev, &current, &pending);
    if (m == nvml::kSuccess) {
      d.mig_mode_current = current;
      d.mig_mode_pending = pending;
    } else if (IsDeviceGone(m)) {
      return DeviceError(l, m, index, "nvmlDeviceGetMigMode");
    }
  }
  GF_RETURN_IF_ERROR(Query(l, d.power_usage_mw, l.power_usage, index, "nvmlDeviceGetPowerUsage", dev));
  GF_RETURN_IF_ERROR(Query(l, d.power_limit_mw, l.power_limit, index, "nvmlDeviceGetEnforcedPowerLimit", dev));
  if (l.temperature_v != nullptr) {
    nvml::TemperatureV t{.version = nvml::kTemperatureVersion, .sensor_type = nvml::kTemperatureGpu, .temperature = 0};
    if (l.temperature_v(dev, &t) == nvml::kSuccess) d.temperature_c = static_cast<unsigned>(t.temperature);
  }
  if (!d.temperature_c) {
    GF_RETURN_IF_ERROR(Query(l, d.temperature_c, l.temperature, index, "nvmlDeviceGetTemperature", dev, nvml::kTemperatureGpu));
  }
  GF_RETURN_IF_ERROR(Query(l, d.fan_percent, l.fan, index, "nvmlDeviceGetFanSpeed", dev));
  GF_RETURN_IF_ERROR(Query(l, pstate, l.pstate, index, "nvmlDeviceGetPerformanceState", dev));
  if (pstate && *pstate != nvml::kPstateUnknown) d.performance_state = pstate;
  std::optional<nvml::Utilization> util;
  GF_RETURN_IF_ERROR(Query(l, util, l.utilization, index, "nvmlDeviceGetUtilizationRates", dev));
  if (util) {
    d.utilization_gpu = util->gpu;
    d.utilization_memory = util->memory;
  }
  GF_RETURN_IF_ERROR(Query(l, d.clock_graphics_mhz, l.clock, index, "nvmlDeviceGetClockInfo", dev, nvml::kClockGraphics));
  GF_RETURN_IF_ERROR(Query(l, d.clock_sm_mhz, l.clock, index, "nvmlDeviceGetClockInfo", dev, nvml::kClockSm));
  GF_RETURN_IF_ERROR(Query(l, d.clock_memory_mhz, l.clock, index, "nvmlDeviceGetClockInfo", dev, nvml::kClockMem));
  GF_RETURN_IF_ERROR(Query(l, d.max_clock_graphics_mhz, l.max_clock, index, "nvmlDeviceGetMaxClockInfo", dev, nvml::kClockGraphics));
  GF_RETURN_IF_ERROR(Query(l, d.max_clock_sm_mhz, l.max_clock, index, "nvmlDeviceGetMaxClockInfo", dev, nvml::kClockSm));
  GF_RETURN_IF_ERROR(Query(l, d.max_clock_memory_mhz, l.max_clock, index, "nvmlDeviceGetMaxClockInfo", dev, nvml::kClockMem));
  GF_RETURN_IF_ERROR(Query(l, d.pcie_gen_current, l.pcie_gen, index, "nvmlDeviceGetCurrPcieLinkGeneration", dev));
  GF_RETURN_IF_ERROR(Query(l, d.pcie_gen_max, l.max_pcie_gen, index, "nvmlDeviceGetMaxPcieLinkGeneration", dev));
  GF_RETURN_IF_ERROR(Query(l, d.pcie_width_current, l.pcie_width, index, "nvmlDeviceGetCurrPcieLinkWidth", dev));
  GF_RETURN_IF_ERROR(Query(l, d.pcie_width_max, l.max_pcie_width, index, "nvmlDeviceGetMaxPcieLinkWidth", dev));
  if (l.ecc_mode != nullptr) {
    int current = 0, pending = 0;
    if (l.ecc_mode(dev, &current, &pending) == nvml::kSuccess) d.ecc_enabled = current == nvml::kEnableEnabled;
  }
  if (d.ecc_enabled.value_or(false)) {
    std::optional<unsigned long long> vol_unc, vol_corr, agg_unc;
    GF_RETURN_IF_ERROR(Query(l, vol_unc, l.ecc_errors, index, "nvmlDeviceGetTotalEccErrors", dev,
                             nvml::kMemoryErrorUncorrected, nvml::kEccCounterVolatile));
    GF_RETURN_IF_ERROR(Query(l, vol_corr, l.ecc_errors, index, "nvmlDeviceGetTotalEccErrors", dev,
                             nvml::kMemoryErrorCorrected, nvml::kEccCounterVolatile));
    GF_RETURN_IF_ERROR(Query(l, agg_unc, l.ecc_errors, index, "nvmlDeviceGetTotalEccErrors", dev,
                             nvml::kMemoryErrorUncorrected, nvml::kEccCounterAggregate));
    d.ecc_volatile_uncorrected = vol_unc;
    d.ecc_volatile_corrected = vol_corr;
    d.ecc_aggregate_uncorrected = agg_unc;
  }
  if (l.remapped_rows != nullptr) {
    unsigned corr = 0, unc = 0, pending = 0, failure = 0;
    if (l.remapped_rows(dev, &corr, &unc, &pending, &failure) == nvml::kSuccess) {
      d.remapped_rows = RemappedRows{.correctable = corr, .uncorrectable = unc, .pending = pending != 0,
                                     .failure = failure != 0};
    }
  }
  if (l.processes != nullptr) {
    // Ask for the count, then the records; the list can grow between the calls, so retry.
    for (int attempt = 0; attempt < 3; ++attempt) {
      unsigned count = 0;
      Return pr = l.processes(dev, &count, nullptr);
      if (pr != nvml::kSuccess && pr != nvml::kErrorInsufficientSize) break;
      std::vector<unsigned char> buf((count + 8) * l.process_stride);
      unsigned capacity = count + 8;
      pr = l.processes(dev, &capacity, buf.data());
      if (pr == nvml::kErrorInsufficientSize) continue;
      if (pr != nvml::kSuccess) break;
      for (unsigned i = 0; i < capacity; ++i) {
        const unsigned char* rec = buf.data() + i * l.process_stride;
        ProcessInfo p;
        if (l.process_stride == sizeof(nvml::ProcessInfoV1)) {
          nvml::ProcessInfoV1 v{};
          std::memcpy(&v, rec, sizeof(v));
          p.pid = v.pid;
          if (v.used_gpu_memory != nvml::kValueNotAvailable) p.used_memory_bytes = v.used_gpu_memory;
        } else {
          nvml::ProcessInfo v{};
          std::memcpy(&v, rec, sizeof(v));
          p.pid = v.pid;
          if (v.used_gpu_memory != nvml::kValueNotAvailable) p.used_memory_bytes = v.used_gpu_memory;
          if (v.gpu_instance_id != nvml::kNoInstance) p.gpu_instance_id = v.gpu_instance_id;
          if (v.compute_instance_id != nvml::kNoInstance) p.compute_instance_id = v.compute_instance_id;
        }
        if (l.process_name != nullptr) {
          char pname[nvml::kProcessNameBufferSize] = {};
          if (l.process_name(p.pid, pname, sizeof(pname)) == nvml::kSuccess) p.name = CString(pname, sizeof(pname));
        }
        d.processes.push_back(std::move(p));
      }
      break;
    }
  }
  if (l.nvlink_state != nullptr && l.nvlink_remote_pci != nullptr) {
    for (unsigned link = 0; link < nvml::kNvlinkMaxLinks; ++link) {
      int active = 0;
      if (l.nvlink_state(dev, link, &active) != nvml::kSuccess) break;  // past the last link, or no NVLink
      if (active != nvml::kEnableEnabled) continue;
      nvml::PciInfo remote{};
      if (l.nvlink_remote_pci(dev, link, &remote) == nvml::kSuccess) {
        d.nvlink_peers.push_back(CString(remote.bus_id, sizeof(remote.bus_id)));
      }
    }
  }
  return d;
}

Result<std::vector<MigDeviceInfo>> NvmlBackend::MigDevices(unsigned index) {
  const NvmlLibrary& l = *lib_;
  std::vector<MigDeviceInfo> out;
  if (l.max_mig_devices == nullptr || l.mig_handle == nullptr || l.mig_mode == nullptr) return out;
  nvml::Device dev = nullptr;
  if (Return r = l.handle_by_index(index, &dev); r != nvml::kSuccess) return DeviceError(l, r, index, "nvmlDeviceGetHandleByIndex");
  unsigned current = 0, pending = 0;
  if (l.mig_mode(dev, &current, &pending) != nvml::kSuccess || current != 1) return out;
  unsigned max = 0;
  if (Return r = l.max_mig_devices(dev, &max); r != nvml::kSuccess) return DeviceError(l, r, index, "nvmlDeviceGetMaxMigDeviceCount");
  for (unsigned i = 0; i < max; ++i) {
    nvml::Device mig = nullptr;
    Return r = l.mig_handle(dev, i, &mig);
    if (r == nvml::kErrorNotFound || r == nvml::kErrorInvalidArgument) continue;  // an empty slot
    if (r != nvml::kSuccess) return DeviceError(l, r, index, "nvmlDeviceGetMigDeviceHandleByIndex");
    MigDeviceInfo m;
    m.parent_index = index;
    char uuid[nvml::kDeviceUuidBufferSize] = {};
    if (l.uuid(mig, uuid, sizeof(uuid)) == nvml::kSuccess) m.uuid = CString(uuid, sizeof(uuid));
    if (l.gpu_instance_id != nullptr) l.gpu_instance_id(mig, &m.gpu_instance_id);
    if (l.compute_instance_id != nullptr) l.compute_instance_id(mig, &m.compute_instance_id);
    if (l.memory != nullptr) {
      nvml::Memory mem{};
      if (l.memory(mig, &mem) == nvml::kSuccess) m.memory_used_bytes = mem.used;
    }
    nvml::DeviceAttributes a{};
    if (l.attributes != nullptr && l.attributes(mig, &a) == nvml::kSuccess) {
      m.multiprocessors = a.multiprocessor_count;
      m.copy_engines = a.shared_copy_engine_count;
      m.decoders = a.shared_decoder_count;
      m.encoders = a.shared_encoder_count;
      m.jpegs = a.shared_jpeg_count;
      m.ofas = a.shared_ofa_count;
      m.gi_slices = a.gpu_instance_slice_count;
      m.ci_slices = a.compute_instance_slice_count;
      m.memory_bytes = a.memory_size_mb << 20;
      m.profile = MigProfileName(a.gpu_instance_slice_count, a.memory_size_mb);
      if (a.compute_instance_slice_count != a.gpu_instance_slice_count) {
        m.profile = std::to_string(a.compute_instance_slice_count) + "c." + m.profile;
      }
    }
    out.push_back(std::move(m));
  }
  return out;
}

Result<TopologyLevel> NvmlBackend::CommonAncestor(unsigned a, unsigned b) {
  const NvmlLibrary& l = *lib_;
  if (l.topology == nullptr) return UnimplementedError("nvmlDeviceGetTopologyCommonAncestor is not available");
  nvml::Device da = nullptr, db = nullptr;
  if (Return r = l.handle_by_index(a, &da); r != nvml::kSuccess) return DeviceError(l, r, a, "nvmlDeviceGetHandleByIndex");
  if (Return r = l.handle_by_index(b, &db); r != nvml::kSuccess) return DeviceError(l, r, b, "nvmlDeviceGetHandleByIndex");
  int level = 0;
  if (Return r = l.topology(da, db, &level); r != nvml::kSuccess) return DeviceError(l, r, a, "nvmlDeviceGetTopologyCommonAncestor");
  switch (level) {
    case nvml::kTopologyInternal: return TopologyLevel::kInternal;
    case nvml::kTopologySingle: return TopologyLevel::kSingleSwitch;
    case nvml::kTopologyMultiple: return TopologyLevel::kMultipleSwitches;
    case nvml::kTopologyHostBridge: return TopologyLevel::kHostBridge;
    case nvml::kTopologyNode: return TopologyLevel::kSameNumaNode;
    default: return TopologyLevel::kCrossNumaNode;
  }
}

Status NvmlBackend::Watch(unsigned index) {
  NvmlLibrary& l = *lib_;
  if (l.event_set_create == nullptr || l.register_events == nullptr || l.event_wait == nullptr) {
    return NotFoundError("this NVML has no event API");
  }
  std::lock_guard lock(l.events_mu);
  if (l.events == nullptr) {
    if (Return r = l.event_set_create(&l.events); r != nvml::kSuccess) return InternalError("nvmlEventSetCreate: " + l.Error(r));
  }
  nvml::Device dev = nullptr;
  if (Return r = l.handle_by_index(index, &dev); r != nvml::kSuccess) return DeviceError(l, r, index, "nvmlDeviceGetHandleByIndex");
  unsigned long long mask = nvml::kEventXidCritical | nvml::kEventDoubleBitEcc | nvml::kEventSingleBitEcc;
  if (l.supported_events != nullptr) {
    unsigned long long supported = 0;
    if (l.supported_events(dev, &supported) == nvml::kSuccess) mask &= supported;
  }
  if (mask == 0) return NotFoundError("GPU " + std::to_string(index) + " supports none of the Xid/ECC events");
  if (Return r = l.register_events(dev, mask, l.events); r != nvml::kSuccess) {
    if (r == nvml::kErrorNotSupported) return NotFoundError("GPU " + std::to_string(index) + ": events not supported");
    return DeviceError(l, r, index, "nvmlDeviceRegisterEvents");
  }
  l.watched.emplace_back(dev, index);
  return OkStatus();
}

Result<std::optional<GpuEvent>> NvmlBackend::WaitEvent(std::chrono::milliseconds timeout) {
  NvmlLibrary& l = *lib_;
  nvml::EventSet set;
  {
    std::lock_guard lock(l.events_mu);
    set = l.events;
  }
  if (set == nullptr) return FailedPreconditionError("no device is watched");
  nvml::EventData data{};
  Return r = l.event_wait(set, &data, static_cast<unsigned>(timeout.count()));
  if (r == nvml::kErrorTimeout) return std::optional<GpuEvent>();
  if (r != nvml::kSuccess) return UnavailableError("nvmlEventSetWait: " + l.Error(r));
  GpuEvent e;
  {
    std::lock_guard lock(l.events_mu);
    for (const auto& [dev, index] : l.watched) {
      if (dev == data.device) e.device_index = index;
    }
  }
  e.kind = data.event_type == nvml::kEventDoubleBitEcc   ? GpuEvent::Kind::kDoubleBitEcc
           : data.event_type == nvml::kEventSingleBitEcc ? GpuEvent::Kind::kSingleBitEcc
                                                         : GpuEvent::Kind::kXid;
  e.xid = data.event_data;
  if (data.gpu_instance_id != nvml::kNoInstance) e.gpu_instance_id = data.gpu_instance_id;
  if (data.compute_instance_id != nvml::kNoInstance) e.compute_instance_id = data.compute_instance_id;
  return std::optional<GpuEvent>(e);
}

}  // namespace gpufleet::gpu
