// A stand-in libnvidia-ml.so.1 for the NVML backend's tests: three GPUs (two H100s joined by
// NVLink, the third fallen off the bus), written against the published ABI (src/gpu/nvml_abi.h)
// and exporting NVML's real symbol names. Built twice: "modern" exports today's versioned entry
// points; FAKE_NVML_LEGACY exports only the original ones (v1 process records with their 16-byte
// stride, nvmlDeviceGetMemoryInfo v1), so the loader's fallbacks are exercised.
#include <cstring>

#include "gpu/nvml_abi.h"

using namespace gpufleet::gpu::nvml;

namespace {

struct FakeDevice {
  unsigned index;
  bool lost;
  const char* uuid;
  const char* bus_id;
};
FakeDevice g_devices[3] = {{0, false, "GPU-11111111-2222-4333-8444-555555555555", "00000000:18:00.0"},
                           {1, false, "GPU-66666666-7777-4888-8999-aaaaaaaaaaaa", "00000000:2A:00.0"},
                           {2, true, "GPU-bbbbbbbb-cccc-4ddd-8eee-ffffffffffff", "00000000:3B:00.0"}};
bool g_initialised = false;
int g_events_delivered = 0;

FakeDevice* Dev(Device d) { return reinterpret_cast<FakeDevice*>(d); }
Device Handle(unsigned i) { return reinterpret_cast<Device>(&g_devices[i]); }

Return Check(Device d) {
  if (!g_initialised) return kErrorUninitialized;
  if (d == nullptr) return kErrorInvalidArgument;
  return Dev(d)->lost ? kErrorGpuIsLost : kSuccess;
}

Return Copy(char* out, unsigned len, const char* text) {
  if (std::strlen(text) + 1 > len) return kErrorInsufficientSize;
  std::strcpy(out, text);
  return kSuccess;
}

}  // namespace

extern "C" {

Return nvmlInit_v2() {
  g_initialised = true;
  return kSuccess;
}
Return nvmlShutdown() {
  g_initialised = false;
  return kSuccess;
}
const char* nvmlErrorString(Return r) {
  switch (r) {
    case kErrorGpuIsLost: return "GPU is lost";
    case kErrorNotSupported: return "Not Supported";
    default: return "Unknown Error";
  }
}
Return nvmlSystemGetDriverVersion(char* v, unsigned len) { return Copy(v, len, "550.54.15"); }
Return nvmlSystemGetNVMLVersion(char* v, unsigned len) { return Copy(v, len, "12.550.54.15"); }
Return nvmlSystemGetCudaDriverVersion(int* v) {
  *v = 12040;
  return kSuccess;
}
Return nvmlSystemGetProcessName(unsigned pid, char* name, unsigned len) {
  return pid == 1234 ? Copy(name, len, "/usr/bin/python3") : kErrorNotFound;
}
Return nvmlDeviceGetCount_v2(unsigned* n) {
  if (!g_initialised) return kErrorUninitialized;
  *n = 3;
  return kSuccess;
}
Return nvmlDeviceGetHandleByIndex_v2(unsigned i, Device* d) {
  if (i >= 3) return kErrorInvalidArgument;
  *d = Handle(i);
  return kSuccess;
}
Return nvmlDeviceGetName(Device d, char* name, unsigned len) {
  if (Return r = Check(d); r != kSuccess) return r;
  return Copy(name, len, "NVIDIA H100 80GB HBM3");
}
Return nvmlDeviceGetUUID(Device d, char* uuid, unsigned len) {
  if (Return r = Check(d); r != kSuccess) return r;
  return Copy(uuid, len, Dev(d)->uuid);
}
Return nvmlDeviceGetMinorNumber(Device d, unsigned* m) {
  if (Return r = Check(d); r != kSuccess) return r;
  *m = Dev(d)->index;
  return kSuccess;
}
Return nvmlDeviceGetBrand(Device d, int* b) {
  if (Return r = Check(d); r != kSuccess) return r;
  *b = 14;
  return kSuccess;
}
Return nvmlDeviceGetArchitecture(Device d, unsigned* a) {
  if (Return r = Check(d); r != kSuccess) return r;
  *a = 9;
  return kSuccess;
}
Return nvmlDeviceGetCudaComputeCapability(Device d, int* major, int* minor) {
  if (Return r = Check(d); r != kSuccess) return r;
  *major = 9;
  *minor = 0;
  return kSuccess;
}
#ifdef FAKE_NVML_LEGACY
Return nvmlDeviceGetPciInfo_v2(Device d, PciInfo* p) {
#else
Return nvmlDeviceGetPciInfo_v3(Device d, PciInfo* p) {
#endif
  if (Return r = Check(d); r != kSuccess) return r;
  std::memset(p, 0, sizeof(*p));
  std::strcpy(p->bus_id, Dev(d)->bus_id);
  p->pci_device_id = 0x233010DE;
  p->pci_sub_system_id = 0x16C110DE;
  return kSuccess;
}
Return nvmlDeviceGetNumaNodeId(Device d, unsigned* n) {
  if (Return r = Check(d); r != kSuccess) return r;
  *n = Dev(d)->index;
  return kSuccess;
}
#ifndef FAKE_NVML_LEGACY
Return nvmlDeviceGetMemoryInfo_v2(Device d, MemoryV2* m) {
  if (Return r = Check(d); r != kSuccess) return r;
  if (m->version != kMemoryV2Version) return kErrorArgumentVersionMismatch;
  m->total = 81559ull << 20;
  m->reserved = 512ull << 20;
  m->used = 1024ull << 20;
  m->free = m->total - m->reserved - m->used;
  return kSuccess;
}
#endif
Return nvmlDeviceGetMemoryInfo(Device d, Memory* m) {
  if (Return r = Check(d); r != kSuccess) return r;
  m->total = 81559ull << 20;
  m->used = 1536ull << 20;
  m->free = m->total - m->used;
  return kSuccess;
}
Return nvmlDeviceGetPersistenceMode(Device d, int* m) {
  if (Return r = Check(d); r != kSuccess) return r;
  *m = kEnableEnabled;
  return kSuccess;
}
Return nvmlDeviceGetComputeMode(Device d, int* m) {
  if (Return r = Check(d); r != kSuccess) return r;
  *m = 0;
  return kSuccess;
}
Return nvmlDeviceGetMigMode(Device d, unsigned* current, unsigned* pending) {
  if (Return r = Check(d); r != kSuccess) return r;
  *current = *pending = 0;
  return kSuccess;
}
Return nvmlDeviceGetPowerUsage(Device d, unsigned* mw) {
  if (Return r = Check(d); r != kSuccess) return r;
  *mw = 71234;
  return kSuccess;
}
Return nvmlDeviceGetEnforcedPowerLimit(Device d, unsigned* mw) {
  if (Return r = Check(d); r != kSuccess) return r;
  *mw = 700000;
  return kSuccess;
}
Return nvmlDeviceGetTemperature(Device d, int sensor, unsigned* t) {
  if (Return r = Check(d); r != kSuccess) return r;
  if (sensor != kTemperatureGpu) return kErrorInvalidArgument;
  *t = 33;
  return kSuccess;
}
Return nvmlDeviceGetFanSpeed(Device d, unsigned*) {
  if (Return r = Check(d); r != kSuccess) return r;
  return kErrorNotSupported;  // passively cooled
}
Return nvmlDeviceGetPerformanceState(Device d, int* p) {
  if (Return r = Check(d); r != kSuccess) return r;
  *p = 0;
  return kSuccess;
}
Return nvmlDeviceGetUtilizationRates(Device d, Utilization* u) {
  if (Return r = Check(d); r != kSuccess) return r;
  u->gpu = 42;
  u->memory = 17;
  return kSuccess;
}
Return nvmlDeviceGetMaxClockInfo(Device d, int type, unsigned* mhz) {
  if (Return r = Check(d); r != kSuccess) return r;
  *mhz = type == kClockMem ? 2619 : 1980;
  return kSuccess;
}
Return nvmlDeviceGetEccMode(Device d, int* current, int* pending) {
  if (Return r = Check(d); r != kSuccess) return r;
  *current = *pending = kEnableEnabled;
  return kSuccess;
}
Return nvmlDeviceGetTotalEccErrors(Device d, int error_type, int counter, unsigned long long* n) {
  if (Return r = Check(d); r != kSuccess) return r;
  *n = error_type == kMemoryErrorUncorrected && counter == kEccCounterVolatile ? 2 : 0;
  return kSuccess;
}
Return nvmlDeviceGetRemappedRows(Device d, unsigned* corr, unsigned* unc, unsigned* pending, unsigned* failure) {
  if (Return r = Check(d); r != kSuccess) return r;
  *corr = 1;
  *unc = 0;
  *pending = 1;
  *failure = 0;
  return kSuccess;
}
#ifdef FAKE_NVML_LEGACY
Return nvmlDeviceGetComputeRunningProcesses(Device d, unsigned* count, ProcessInfoV1* out) {
#else
Return nvmlDeviceGetComputeRunningProcesses_v3(Device d, unsigned* count, ProcessInfo* out) {
#endif
  if (Return r = Check(d); r != kSuccess) return r;
  const unsigned n = Dev(d)->index == 0 ? 2 : 0;
  if (*count < n) {
    *count = n;
    return kErrorInsufficientSize;
  }
  *count = n;
  if (n == 2) {
    out[0].pid = 1234;
    out[0].used_gpu_memory = 1024ull << 20;
    out[1].pid = 5678;
    out[1].used_gpu_memory = kValueNotAvailable;
#ifndef FAKE_NVML_LEGACY
    out[0].gpu_instance_id = out[0].compute_instance_id = kNoInstance;
    out[1].gpu_instance_id = out[1].compute_instance_id = kNoInstance;
#endif
  }
  return kSuccess;
}
Return nvmlDeviceGetNvLinkState(Device d, unsigned link, int* active) {
  if (Return r = Check(d); r != kSuccess) return r;
  if (link >= kNvlinkMaxLinks) return kErrorInvalidArgument;
  *active = link < 4 ? kEnableEnabled : kEnableDisabled;
  return kSuccess;
}
Return nvmlDeviceGetNvLinkRemotePciInfo_v2(Device d, unsigned link, PciInfo* p) {
  if (Return r = Check(d); r != kSuccess) return r;
  if (link >= 4) return kErrorInvalidArgument;
  std::memset(p, 0, sizeof(*p));
  std::strcpy(p->bus_id, g_devices[1 - Dev(d)->index].bus_id);
  return kSuccess;
}
Return nvmlDeviceGetTopologyCommonAncestor(Device a, Device b, int* level) {
  if (Return r = Check(a); r != kSuccess) return r;
  if (Return r = Check(b); r != kSuccess) return r;
  *level = a == b ? kTopologyInternal : kTopologyNode;
  return kSuccess;
}
Return nvmlEventSetCreate(EventSet* set) {
  *set = reinterpret_cast<EventSet>(&g_events_delivered);
  return kSuccess;
}
Return nvmlDeviceGetSupportedEventTypes(Device d, unsigned long long* types) {
  if (Return r = Check(d); r != kSuccess) return r;
  *types = kEventXidCritical | kEventDoubleBitEcc | kEventSingleBitEcc | 0x4;
  return kSuccess;
}
Return nvmlDeviceRegisterEvents(Device d, unsigned long long, EventSet) { return Check(d); }
Return nvmlEventSetWait_v2(EventSet, EventData* data, unsigned) {
  if (g_events_delivered++ > 0) return kErrorTimeout;
  data->device = Handle(1);
  data->event_type = kEventXidCritical;
  data->event_data = 79;
  data->gpu_instance_id = data->compute_instance_id = kNoInstance;
  return kSuccess;
}
Return nvmlEventSetFree(EventSet) { return kSuccess; }

}  // extern "C"
