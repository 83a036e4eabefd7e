#include "gpu/mock_backend.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/json.h"

namespace gpufleet::gpu {
namespace {

uint64_t Fnv1a(std::string_view text, uint64_t h = 0xcbf29ce484222325ull) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// A version-4-shaped UUID derived from (seed, what): the same node gets the same ids after a
// restart (the kubelet checkpoints allocations by device id), different nodes different ones.
std::string StableUuid(const std::string& prefix, const std::string& seed, const std::string& what) {
  uint64_t hi = Fnv1a(seed + "/" + what), lo = Fnv1a(what + "/" + seed, 0x84222325cbf29ce4ull);
  hi = (hi & ~0xF000ull) | 0x4000ull;                          // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // RFC 4122 variant
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s-%08x-%04x-%04x-%04x-%012llx", prefix.c_str(), unsigned(hi >> 32),
                unsigned((hi >> 16) & 0xFFFF), unsigned(hi & 0xFFFF), unsigned(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFull));
  return buf;
}

std::string BusId(unsigned index) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "00000000:%02X:00.0", 0x18 + 0x11 * index);
  return buf;
}

const MigProfile* FindProfile(const GpuModel& model, std::string_view name) {
  for (const auto& p : model.mig_profiles) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A model by a short name: its id in any case ("l40s", "h100-sxm5-80gb") or a unique prefix of it
// that ends where a word or number ends ("h100-sxm" for H100-SXM5-80GB, "a10g").
Result<const GpuModel*> ModelByAlias(const GpuCatalog& catalog, const std::string& alias) {
  std::vector<const GpuModel*> matches;
  for (const auto& m : catalog.models) {
    const std::string id = Lower(m.id);
    if (id == alias) return &m;
    if (id.starts_with(alias) && (std::isdigit(static_cast<unsigned char>(id[alias.size()])) || id[alias.size()] == '-')) {
      matches.push_back(&m);
    }
  }
  if (matches.size() == 1) return matches.front();
  if (matches.empty()) return NotFoundError("no GPU model is called \"" + alias + "\"");
  std::string list;
  for (const auto* m : matches) list += (list.empty() ? "" : ", ") + m->id;
  return InvalidArgumentError("\"" + alias + "\" names several GPU models (" + list + "): say which");
}

Result<MockMachineSpec> FromProfileName(const GpuCatalog& catalog, const std::string& name) {
  MockMachineSpec spec;
  if (auto found = catalog.ForInstanceType(name)) {
    for (unsigned i = 0; i < found->second; ++i) spec.gpus.push_back({.model = *found->first});
  } else if (const MockMachine* m = catalog.FindMachine(name)) {
    const GpuModel* model = catalog.FindById(m->model_id);
    if (model == nullptr) return InvalidArgumentError("mock machine " + name + ": unknown model " + m->model_id);
    spec.driver_version = m->driver_version;
    spec.nvml_version = m->nvml_version;
    spec.cuda_driver_version = m->cuda_driver_version;
    for (unsigned i = 0; i < m->gpu_count; ++i) spec.gpus.push_back({.model = *model});
  } else {
    // MODEL or MODEL-xN: l40s, t4, a10g, h100-sxm-x8.
    std::string alias = Lower(name);
    unsigned count = 1;
    if (auto x = alias.rfind("-x"); x != std::string::npos && x + 2 < alias.size() &&
        alias.find_first_not_of("0123456789", x + 2) == std::string::npos) {
      count = static_cast<unsigned>(std::stoul(alias.substr(x + 2)));
      alias.resize(x);
    }
    auto model = ModelByAlias(catalog, alias);
    if (!model.ok()) {
      if (model.status().code() != StatusCode::kNotFound) return model.status();
      return NotFoundError("mock machine \"" + name +
                           "\": not a GPU model (l40s, h100-sxm-x8, a10g, t4, ...), an EC2 instance type with NVIDIA "
                           "GPUs (g6e.2xlarge), a go-nvml machine (dgxa100, dgxh100, dgxh200, dgxb200) or a machine "
                           "description file");
    }
    if (count < 1 || count > 64) return InvalidArgumentError("mock machine \"" + name + "\": 1 to 64 GPUs");
    for (unsigned i = 0; i < count; ++i) spec.gpus.push_back({.model = **model});
  }
  spec.numa_nodes = spec.gpus.size() >= 8 ? 2 : 1;
  return spec;
}

}  // namespace

Result<MockMachineSpec> ParseMockMachine(const GpuCatalog& catalog, std::string_view json_text) {
  GF_ASSIGN_OR_RETURN(nlohmann::json doc, core::ParseJson(json_text));
  if (!doc.is_object()) return InvalidArgumentError("machine description: expected an object");
  MockMachineSpec spec;
  GF_ASSIGN_OR_RETURN(auto driver, core::GetOptionalString(doc, "driverVersion"));
  GF_ASSIGN_OR_RETURN(auto nvml, core::GetOptionalString(doc, "nvmlVersion"));
  GF_ASSIGN_OR_RETURN(auto cuda, core::GetOptionalInt64(doc, "cudaDriverVersion"));
  GF_ASSIGN_OR_RETURN(auto nvlink, core::GetOptionalBool(doc, "nvlink"));
  GF_ASSIGN_OR_RETURN(auto numa, core::GetOptionalInt64(doc, "numaNodes"));
  if (driver) spec.driver_version = *driver;
  spec.nvml_version = nvml ? *nvml : "12." + spec.driver_version;
  if (cuda) spec.cuda_driver_version = static_cast<int>(*cuda);
  if (nvlink) spec.nvlink = *nvlink;
  GF_ASSIGN_OR_RETURN(const nlohmann::json* gpus, core::GetArray(doc, "gpus"));
  for (size_t i = 0; i < gpus->size(); ++i) {
    const std::string at = "gpus[" + std::to_string(i) + "]";
    GF_ASSIGN_OR_RETURN(std::string model_id, core::GetString((*gpus)[i], "model"));
    GF_ASSIGN_OR_RETURN(auto count, core::GetOptionalInt64((*gpus)[i], "count"));
    const GpuModel* model = catalog.FindById(model_id);
    if (model == nullptr) return InvalidArgumentError(at + ".model: unknown GPU model \"" + model_id + "\"");
    if (count && (*count < 1 || *count > 64)) return InvalidArgumentError(at + ".count: must be 1..64");
    for (int64_t n = 0; n < count.value_or(1); ++n) spec.gpus.push_back({.model = *model});
  }
  if (spec.gpus.empty()) return InvalidArgumentError("gpus: at least one GPU");
  spec.numa_nodes = numa ? static_cast<unsigned>(std::clamp<int64_t>(*numa, 1, 8)) : (spec.gpus.size() >= 8 ? 2 : 1);
  GF_ASSIGN_OR_RETURN(const nlohmann::json* mig, core::GetOptionalObject(doc, "mig"));
  if (mig != nullptr) {
    for (const auto& [key, profiles] : mig->items()) {
      const std::string at = "mig[" + key + "]";
      char* end = nullptr;
      unsigned long index = std::strtoul(key.c_str(), &end, 10);
      if (key.empty() || *end != '\0' || index >= spec.gpus.size()) {
        return InvalidArgumentError(at + ": not the index of a GPU of this machine");
      }
      MockGpu& gpu = spec.gpus[index];
      if (gpu.model.mig_profiles.empty()) return InvalidArgumentError(at + ": " + gpu.model.id + " does not support MIG");
      if (!profiles.is_array()) return InvalidArgumentError(at + ": expected a list of MIG profiles");
      unsigned slices = 0;
      for (const auto& p : profiles) {
        const MigProfile* profile = p.is_string() ? FindProfile(gpu.model, p.get<std::string>()) : nullptr;
        if (profile == nullptr) return InvalidArgumentError(at + ": unknown MIG profile " + p.dump() + " for " + gpu.model.id);
        slices += profile->slices;
        gpu.mig.push_back(profile->name);
      }
      if (slices > 7) return InvalidArgumentError(at + ": the profiles need " + std::to_string(slices) + " of 7 slices");
    }
  }
  return spec;
}

Result<MockMachineSpec> ResolveMockMachine(const GpuCatalog& catalog, const std::string& profile_or_path) {
  if (profile_or_path.find('/') == std::string::npos && !profile_or_path.ends_with(".json")) {
    return FromProfileName(catalog, profile_or_path);
  }
  std::ifstream in(profile_or_path);
  if (!in) return NotFoundError("machine description " + profile_or_path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  auto spec = ParseMockMachine(catalog, text.str());
  if (!spec.ok()) return Status(spec.status().code(), profile_or_path + ": " + std::string(spec.status().message()));
  return spec;
}

MockGpuBackend::MockGpuBackend(MockMachineSpec spec, std::string seed) : spec_(std::move(spec)) {
  state_.resize(spec_.gpus.size());
  for (size_t i = 0; i < spec_.gpus.size(); ++i) uuids_.push_back(StableUuid("GPU", seed, std::to_string(i)));
}

Status MockGpuBackend::CheckIndex(unsigned index) const {
  if (index >= spec_.gpus.size()) {
    return InvalidArgumentError("GPU index " + std::to_string(index) + " out of range (" +
                                std::to_string(spec_.gpus.size()) + " GPUs)");
  }
  return OkStatus();
}

Result<SystemInfo> MockGpuBackend::System() {
  return SystemInfo{.driver_version = spec_.driver_version, .nvml_version = spec_.nvml_version,
                    .cuda_driver_version = spec_.cuda_driver_version};
}

Result<unsigned> MockGpuBackend::DeviceCount() { return static_cast<unsigned>(spec_.gpus.size()); }

Result<DeviceInfo> MockGpuBackend::Device(unsigned index) {
  GF_RETURN_IF_ERROR(CheckIndex(index));
  const MockGpu& gpu = spec_.gpus[index];
  const GpuModel& m = gpu.model;
  std::lock_guard lock(mu_);
  const State& s = state_[index];
  if (s.lost) return UnavailableError("GPU " + BusId(index) + " is lost (NVML GPU_IS_LOST)");
  DeviceInfo d;
  d.index = index;
  d.minor_number = index;
  d.uuid = uuids_[index];
  d.name = m.nvml_name;
  d.serial = std::to_string(1650000000000ull + Fnv1a(d.uuid) % 100000000ull);
  d.vbios_version = "96.00.99.00.01";
  d.brand = m.brand;
  d.architecture = m.architecture;
  d.cuda_cc_major = m.cc_major;
  d.cuda_cc_minor = m.cc_minor;
  d.pci_bus_id = BusId(index);
  d.pci_device_id = m.nvml_pci_device_id;
  d.pci_subsystem_id = (m.nvml_pci_device_id & 0xFFFF0000u) | 0x10DE;
  d.numa_node = static_cast<int>(index * spec_.numa_nodes / spec_.gpus.size());
  d.memory_total_bytes = m.memory_total_mib << 20;
  uint64_t used = 0;
  for (const auto& p : s.processes) used += p.used_memory_bytes.value_or(0);
  d.memory_used_bytes = std::min(used, d.memory_total_bytes);
  d.memory_free_bytes = d.memory_total_bytes - d.memory_used_bytes;
  d.persistence_mode = true;
  d.compute_mode = 0;
  d.display_active = false;
  if (!m.mig_profiles.empty()) {
    d.mig_mode_current = gpu.mig.empty() ? 0 : 1;
    d.mig_mode_pending = d.mig_mode_current;
  }
  // Idle readings unless a workload runs: about a tenth of the power cap, low 30s °C.
  const unsigned util = s.processes.empty() ? 0 : s.utilization;
  d.power_limit_mw = m.tdp_watts * 1000;
  d.power_usage_mw = m.tdp_watts * (100 + 8 * util) + 1000 * (index % 3);
  d.temperature_c = 30 + index % 4 + util / 4;
  d.performance_state = 0;
  d.utilization_gpu = util;
  d.utilization_memory = util / 2;
  d.max_clock_graphics_mhz = m.max_graphics_mhz;
  d.max_clock_sm_mhz = m.max_sm_mhz;
  d.max_clock_memory_mhz = m.max_memory_mhz;
  d.clock_graphics_mhz = util > 0 ? m.max_graphics_mhz : m.max_graphics_mhz / 5;
  d.clock_sm_mhz = d.clock_graphics_mhz;
  d.clock_memory_mhz = m.max_memory_mhz;
  d.pcie_gen_max = m.pcie_gen;
  d.pcie_gen_current = m.pcie_gen;
  d.pcie_width_max = m.pcie_width;
  d.pcie_width_current = m.pcie_width;
  d.ecc_enabled = true;
  d.ecc_volatile_uncorrected = s.ecc_volatile_uncorrected;
  d.ecc_volatile_corrected = s.ecc_volatile_corrected;
  d.ecc_aggregate_uncorrected = s.ecc_aggregate_uncorrected;
  if (m.architecture >= 7) d.remapped_rows = s.remapped;  // row remapping: Ampere and later
  d.processes = s.processes;
  if (spec_.nvlink && m.nvlink_links > 0 && spec_.gpus.size() > 1) {
    // All-to-all through NVSwitches, as on HGX boards: each link reaches some peer; the links
    // are spread evenly over the other GPUs.
    const unsigned peers = static_cast<unsigned>(spec_.gpus.size()) - 1;
    for (unsigned l = 0; l < m.nvlink_links; ++l) {
      unsigned peer = l % peers;
      if (peer >= index) ++peer;
      d.nvlink_peers.push_back(BusId(peer));
    }
  }
  return d;
}

Result<std::vector<MigDeviceInfo>> MockGpuBackend::MigDevices(unsigned index) {
  GF_RETURN_IF_ERROR(CheckIndex(index));
  {
    std::lock_guard lock(mu_);
    if (state_[index].lost) return UnavailableError("GPU " + BusId(index) + " is lost (NVML GPU_IS_LOST)");
  }
  const MockGpu& gpu = spec_.gpus[index];
  std::vector<MigDeviceInfo> out;
  unsigned gi = 1;
  for (const auto& name : gpu.mig) {
    const MigProfile* p = FindProfile(gpu.model, name);
    if (p == nullptr) continue;
    out.push_back({.parent_index = index, .gpu_instance_id = gi, .compute_instance_id = 0,
                   .uuid = StableUuid("MIG", uuids_[index], std::to_string(gi)), .profile = p->name,
                   .multiprocessors = p->multiprocessors, .gi_slices = p->slices, .ci_slices = p->slices,
                   .copy_engines = p->copy_engines, .decoders = p->decoders, .encoders = p->encoders,
                   .jpegs = p->jpegs, .ofas = p->ofas, .memory_bytes = p->memory_mb << 20});
    ++gi;
  }
  return out;
}

Result<TopologyLevel> MockGpuBackend::CommonAncestor(unsigned a, unsigned b) {
  GF_RETURN_IF_ERROR(CheckIndex(a));
  GF_RETURN_IF_ERROR(CheckIndex(b));
  if (a == b) return TopologyLevel::kInternal;
  const size_t n = spec_.gpus.size();
  const bool same_numa = a * spec_.numa_nodes / n == b * spec_.numa_nodes / n;
  return same_numa ? TopologyLevel::kSameNumaNode : TopologyLevel::kCrossNumaNode;
}

Status MockGpuBackend::Watch(unsigned index) {
  GF_RETURN_IF_ERROR(CheckIndex(index));
  std::lock_guard lock(mu_);
  if (state_[index].lost) return UnavailableError("GPU " + BusId(index) + " is lost (NVML GPU_IS_LOST)");
  state_[index].watched = true;
  return OkStatus();
}

Result<std::optional<GpuEvent>> MockGpuBackend::WaitEvent(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return !events_.empty(); });
  if (events_.empty()) return std::optional<GpuEvent>();
  GpuEvent e = events_.front();
  events_.pop_front();
  return std::optional<GpuEvent>(e);
}

void MockGpuBackend::Raise(GpuEvent event) {
  // Caller holds mu_.
  if (!state_[event.device_index].watched) return;
  events_.push_back(event);
  cv_.notify_all();
}

void MockGpuBackend::InjectXid(unsigned index, uint64_t xid, std::optional<unsigned> gpu_instance,
                               std::optional<unsigned> compute_instance) {
  if (!CheckIndex(index).ok()) return;
  std::lock_guard lock(mu_);
  Raise({.device_index = index, .kind = GpuEvent::Kind::kXid, .xid = xid, .gpu_instance_id = gpu_instance,
         .compute_instance_id = compute_instance});
}

void MockGpuBackend::InjectEccError(unsigned index, bool double_bit) {
  if (!CheckIndex(index).ok()) return;
  std::lock_guard lock(mu_);
  State& s = state_[index];
  if (double_bit) {
    ++s.ecc_volatile_uncorrected;
    ++s.ecc_aggregate_uncorrected;
    Raise({.device_index = index, .kind = GpuEvent::Kind::kDoubleBitEcc});
    Raise({.device_index = index, .kind = GpuEvent::Kind::kXid, .xid = 48});  // a DBE also arrives as Xid 48
  } else {
    ++s.ecc_volatile_corrected;
    Raise({.device_index = index, .kind = GpuEvent::Kind::kSingleBitEcc});
  }
}

void MockGpuBackend::SetRemappedRows(unsigned index, RemappedRows rows) {
  if (!CheckIndex(index).ok()) return;
  std::lock_guard lock(mu_);
  state_[index].remapped = rows;
}

void MockGpuBackend::SetLost(unsigned index, bool lost) {
  if (!CheckIndex(index).ok()) return;
  std::lock_guard lock(mu_);
  state_[index].lost = lost;
  if (lost) Raise({.device_index = index, .kind = GpuEvent::Kind::kXid, .xid = 79});  // fallen off the bus
}

void MockGpuBackend::ClearEccErrors(unsigned index) {
  if (!CheckIndex(index).ok()) return;
  std::lock_guard lock(mu_);
  state_[index].ecc_volatile_uncorrected = 0;
  state_[index].ecc_volatile_corrected = 0;
}

void MockGpuBackend::AddProcess(unsigned index, ProcessInfo process, unsigned utilization_percent) {
  if (!CheckIndex(index).ok()) return;
  std::lock_guard lock(mu_);
  state_[index].processes.push_back(std::move(process));
  state_[index].utilization = std::min(utilization_percent, 100u);
}

void MockGpuBackend::RemoveProcess(unsigned index, unsigned pid) {
  if (!CheckIndex(index).ok()) return;
  std::lock_guard lock(mu_);
  std::erase_if(state_[index].processes, [&](const ProcessInfo& p) { return p.pid == pid; });
}

}  // namespace gpufleet::gpu
