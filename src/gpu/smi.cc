#include "gpu/smi.h"

#include <cstdarg>
#include <cstdio>
#include <ctime>
#include <functional>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

namespace gpufleet::gpu {
namespace {

std::string Printf(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof(buf), format, args);
  va_end(args);
  return buf;
}

std::string Asctime(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm);
  return buf;
}

uint64_t MiB(uint64_t bytes) { return bytes >> 20; }

std::string OnOff(const std::optional<bool>& v) { return v ? (*v ? "On" : "Off") : "N/A"; }
std::string EnabledDisabled(const std::optional<bool>& v) { return v ? (*v ? "Enabled" : "Disabled") : "N/A"; }

std::string ComputeModeName(const std::optional<int>& m) {
  if (!m) return "N/A";
  switch (*m) {
    case 0: return "Default";
    case 1: return "E. Thread";
    case 2: return "Prohibited";
    case 3: return "E. Process";
    default: return "Unknown";
  }
}

std::string ComputeModeLong(const std::optional<int>& m) {
  if (!m) return "N/A";
  switch (*m) {
    case 0: return "Default";
    case 1: return "Exclusive_Thread";
    case 2: return "Prohibited";
    case 3: return "Exclusive_Process";
    default: return "Unknown";
  }
}

std::string ArchitectureName(unsigned arch) {
  switch (arch) {
    case 2: return "Kepler";
    case 3: return "Maxwell";
    case 4: return "Pascal";
    case 5: return "Volta";
    case 6: return "Turing";
    case 7: return "Ampere";
    case 8: return "Ada Lovelace";
    case 9: return "Hopper";
    case 10: return "Blackwell";
    case 13: return "Rubin";
    default: return "Unknown";
  }
}

std::string BrandName(int brand) {
  switch (brand) {
    case 2: return "Tesla";
    case 14: return "NVIDIA";
    default: return "Unknown";
  }
}

std::string MigMode(const std::optional<unsigned>& m) { return m ? (*m == 1 ? "Enabled" : "Disabled") : "N/A"; }

// The table's name column holds 27 characters; longer names end in "...".
std::string TableName(const std::string& name) { return name.size() > 27 ? name.substr(0, 24) + "..." : name; }

const std::string kRule = "+" + std::string(89, '-') + "+";
const std::string kGpuRule = "+" + std::string(41, '-') + "+" + std::string(24, '-') + "+" + std::string(22, '-') + "+";

void TableRows(std::ostringstream& out, const SmiDevice& dev) {
  const DeviceInfo& d = *dev.info;
  // With MIG on, errors and utilisation are per MIG device (the MIG table); the GPU row says On / N/A.
  const bool mig = d.MigEnabled();
  const std::string ecc = !d.ecc_enabled ? "N/A"
                          : !*d.ecc_enabled ? "Off"
                          : mig ? "On" : std::to_string(d.ecc_volatile_uncorrected.value_or(0));
  out << "|" << Printf("%4u  %-30s %-3s ", d.index, TableName(d.name).c_str(), OnOff(d.persistence_mode).c_str()) << "|"
      << Printf("%19s %3s ", d.pci_bus_id.c_str(), OnOff(d.display_active).c_str()) << "|"
      << Printf("%21s ", ecc.c_str()) << "|\n";
  const std::string fan = d.fan_percent ? std::to_string(*d.fan_percent) + "%" : "N/A";
  const std::string temp = d.temperature_c ? std::to_string(*d.temperature_c) + "C" : "N/A";
  const std::string perf = d.performance_state ? "P" + std::to_string(*d.performance_state) : "N/A";
  const std::string usage = d.power_usage_mw ? std::to_string((*d.power_usage_mw + 500) / 1000) + "W" : "N/A";
  const std::string cap = d.power_limit_mw ? std::to_string((*d.power_limit_mw + 500) / 1000) + "W" : "N/A";
  const std::string util = d.utilization_gpu && !mig ? std::to_string(*d.utilization_gpu) + "%" : "N/A";
  out << "|" << Printf("%4s%6s%6s%16s / %5s ", fan.c_str(), temp.c_str(), perf.c_str(), usage.c_str(), cap.c_str()) << "|"
      << Printf("%11s / %9s ", (std::to_string(MiB(d.memory_used_bytes)) + "MiB").c_str(),
                (std::to_string(MiB(d.memory_total_bytes)) + "MiB").c_str())
      << "|" << Printf("%8s%13s ", util.c_str(), ComputeModeName(d.compute_mode).c_str()) << "|\n";
  out << "|" << std::string(41, ' ') << "|" << std::string(24, ' ') << "|"
      << Printf("%21s ", MigMode(d.mig_mode_current).c_str()) << "|\n";
  out << kGpuRule << "\n";
}

// nvidia-smi's "MIG devices" table, shown when any GPU has MIG mode on.
void MigTable(std::ostringstream& out, const SmiSnapshot& s) {
  bool any_mig = false;
  for (const auto& d : s.devices) any_mig = any_mig || (d.info && d.info->MigEnabled());
  if (!any_mig) return;
  const std::string rule = "+" + std::string(18, '-') + "+" + std::string(34, '-') + "+" + std::string(11, '-') + "+" +
                           std::string(23, '-') + "+";
  out << "\n" << kRule << "\n";
  out << "| MIG devices:" << std::string(76, ' ') << "|\n";
  out << rule << "\n";
  out << "| GPU  GI  CI  MIG |                     Memory-Usage |        Vol|        Shared         |\n";
  out << "|      ID  ID  Dev |                       BAR1-Usage | SM     Unc| CE ENC  DEC  OFA  JPG |\n";
  out << "|                  |                                  |        ECC|                       |\n";
  out << "|" << std::string(18, '=') << "+" << std::string(34, '=') << "+" << std::string(11, '=') << "+"
      << std::string(23, '=') << "|\n";
  bool rows = false;
  for (const auto& d : s.devices) {
    if (!d.info || !d.info->MigEnabled()) continue;
    for (size_t i = 0; i < d.mig.size(); ++i) {
      const MigDeviceInfo& m = d.mig[i];
      out << "|" << Printf("%3u%5u%4u%4zu  ", d.info->index, m.gpu_instance_id, m.compute_instance_id, i) << "|"
          << Printf("%19s / %-12s", (std::to_string(MiB(m.memory_used_bytes)) + "MiB").c_str(),
                    (std::to_string(MiB(m.memory_bytes)) + "MiB").c_str())
          << "|" << Printf("%3u%7s ", m.multiprocessors, "N/A") << "|"
          << Printf("%3u%4u%5u%5u%5u ", m.copy_engines, m.encoders, m.decoders, m.ofas, m.jpegs) << "|\n";
      out << "|" << std::string(18, ' ') << "|" << Printf("%33s ", "N/A") << "|" << std::string(11, ' ') << "|"
          << std::string(23, ' ') << "|\n";
      out << rule << "\n";
      rows = true;
    }
  }
  if (!rows) out << "|  No MIG devices found" << std::string(67, ' ') << "|\n" << kRule << "\n";
}

std::string ProcessName(const std::string& name) {
  if (name.empty()) return "N/A";
  return name.size() > 38 ? "..." + name.substr(name.size() - 35) : name;
}

// --query-gpu fields: header, unit, and how to read the value (empty optional: "[N/A]").
struct QueryField {
  std::string header;
  std::string unit;  // appended with a space unless nounits
  std::function<std::optional<std::string>(const SmiSnapshot&, const DeviceInfo&)> value;
};

template <typename T>
std::optional<std::string> Num(const std::optional<T>& v) {
  return v ? std::optional<std::string>(std::to_string(*v)) : std::nullopt;
}
std::optional<std::string> Watts(const std::optional<unsigned>& mw) {
  return mw ? std::optional<std::string>(Printf("%.2f", *mw / 1000.0)) : std::nullopt;
}

const std::map<std::string, QueryField>& QueryFields() {
  using S = const SmiSnapshot&;
  using D = const DeviceInfo&;
  static const std::map<std::string, QueryField> kFields = {
      {"timestamp", {"timestamp", "", [](S s, D) { return std::optional<std::string>(Asctime(s.taken)); }}},
      {"driver_version", {"driver_version", "", [](S s, D) { return std::optional<std::string>(s.system.driver_version); }}},
      {"count", {"count", "", [](S s, D) { return Num(std::optional<size_t>(s.devices.size())); }}},
      {"index", {"index", "", [](S, D d) { return Num(std::optional<unsigned>(d.index)); }}},
      {"name", {"name", "", [](S, D d) { return std::optional<std::string>(d.name); }}},
      {"uuid", {"uuid", "", [](S, D d) { return std::optional<std::string>(d.uuid); }}},
      {"serial", {"serial", "", [](S, D d) { return d.serial.empty() ? std::nullopt : std::optional<std::string>(d.serial); }}},
      {"vbios_version", {"vbios_version", "", [](S, D d) { return std::optional<std::string>(d.vbios_version); }}},
      {"pci.bus_id", {"pci.bus_id", "", [](S, D d) { return std::optional<std::string>(d.pci_bus_id); }}},
      {"pci.device_id", {"pci.device_id", "", [](S, D d) { return std::optional<std::string>(Printf("0x%08X", d.pci_device_id)); }}},
      {"compute_cap", {"compute_cap", "", [](S, D d) { return std::optional<std::string>(Printf("%d.%d", d.cuda_cc_major, d.cuda_cc_minor)); }}},
      {"persistence_mode", {"persistence_mode", "", [](S, D d) { return std::optional<std::string>(EnabledDisabled(d.persistence_mode)); }}},
      {"display_active", {"display_active", "", [](S, D d) { return std::optional<std::string>(EnabledDisabled(d.display_active)); }}},
      {"compute_mode", {"compute_mode", "", [](S, D d) { return std::optional<std::string>(ComputeModeLong(d.compute_mode)); }}},
      {"pstate", {"pstate", "", [](S, D d) {
                    return d.performance_state ? std::optional<std::string>("P" + std::to_string(*d.performance_state)) : std::nullopt; }}},
      {"fan.speed", {"fan.speed [%]", "%", [](S, D d) { return Num(d.fan_percent); }}},
      {"temperature.gpu", {"temperature.gpu", "", [](S, D d) { return Num(d.temperature_c); }}},
      {"power.draw", {"power.draw [W]", "W", [](S, D d) { return Watts(d.power_usage_mw); }}},
      {"power.limit", {"power.limit [W]", "W", [](S, D d) { return Watts(d.power_limit_mw); }}},
      {"enforced.power.limit", {"enforced.power.limit [W]", "W", [](S, D d) { return Watts(d.power_limit_mw); }}},
      {"memory.total", {"memory.total [MiB]", "MiB", [](S, D d) { return Num(std::optional<uint64_t>(MiB(d.memory_total_bytes))); }}},
      {"memory.reserved", {"memory.reserved [MiB]", "MiB", [](S, D d) { return Num(std::optional<uint64_t>(MiB(d.memory_reserved_bytes))); }}},
      {"memory.used", {"memory.used [MiB]", "MiB", [](S, D d) { return Num(std::optional<uint64_t>(MiB(d.memory_used_bytes))); }}},
      {"memory.free", {"memory.free [MiB]", "MiB", [](S, D d) { return Num(std::optional<uint64_t>(MiB(d.memory_free_bytes))); }}},
      {"utilization.gpu", {"utilization.gpu [%]", "%", [](S, D d) { return Num(d.utilization_gpu); }}},
      {"utilization.memory", {"utilization.memory [%]", "%", [](S, D d) { return Num(d.utilization_memory); }}},
      {"clocks.gr", {"clocks.current.graphics [MHz]", "MHz", [](S, D d) { return Num(d.clock_graphics_mhz); }}},
      {"clocks.sm", {"clocks.current.sm [MHz]", "MHz", [](S, D d) { return Num(d.clock_sm_mhz); }}},
      {"clocks.mem", {"clocks.current.memory [MHz]", "MHz", [](S, D d) { return Num(d.clock_memory_mhz); }}},
      {"clocks.max.gr", {"clocks.max.graphics [MHz]", "MHz", [](S, D d) { return Num(d.max_clock_graphics_mhz); }}},
      {"clocks.max.sm", {"clocks.max.sm [MHz]", "MHz", [](S, D d) { return Num(d.max_clock_sm_mhz); }}},
      {"clocks.max.mem", {"clocks.max.memory [MHz]", "MHz", [](S, D d) { return Num(d.max_clock_memory_mhz); }}},
      {"pcie.link.gen.current", {"pcie.link.gen.current", "", [](S, D d) { return Num(d.pcie_gen_current); }}},
      {"pcie.link.gen.max", {"pcie.link.gen.max", "", [](S, D d) { return Num(d.pcie_gen_max); }}},
      {"pcie.link.width.current", {"pcie.link.width.current", "", [](S, D d) { return Num(d.pcie_width_current); }}},
      {"pcie.link.width.max", {"pcie.link.width.max", "", [](S, D d) { return Num(d.pcie_width_max); }}},
      {"ecc.mode.current", {"ecc.mode.current", "", [](S, D d) { return std::optional<std::string>(EnabledDisabled(d.ecc_enabled)); }}},
      {"ecc.errors.uncorrected.volatile.total",
       {"ecc.errors.uncorrected.volatile.total", "", [](S, D d) { return Num(d.ecc_volatile_uncorrected); }}},
      {"ecc.errors.corrected.volatile.total",
       {"ecc.errors.corrected.volatile.total", "", [](S, D d) { return Num(d.ecc_volatile_corrected); }}},
      {"ecc.errors.uncorrected.aggregate.total",
       {"ecc.errors.uncorrected.aggregate.total", "", [](S, D d) { return Num(d.ecc_aggregate_uncorrected); }}},
      {"mig.mode.current", {"mig.mode.current", "", [](S, D d) {
                              return d.mig_mode_current ? std::optional<std::string>(MigMode(d.mig_mode_current)) : std::nullopt; }}},
      {"mig.mode.pending", {"mig.mode.pending", "", [](S, D d) {
                              return d.mig_mode_pending ? std::optional<std::string>(MigMode(d.mig_mode_pending)) : std::nullopt; }}},
  };
  return kFields;
}

// nvidia-smi's aliases for query fields.
std::string CanonicalField(std::string f) {
  static const std::map<std::string, std::string> kAliases = {
      {"gpu_name", "name"}, {"gpu_uuid", "uuid"}, {"gpu_serial", "serial"}, {"gpu_bus_id", "pci.bus_id"},
      {"temperature.gpu", "temperature.gpu"}, {"clocks.current.graphics", "clocks.gr"}, {"clocks.current.sm", "clocks.sm"},
      {"clocks.current.memory", "clocks.mem"}, {"clocks.max.graphics", "clocks.max.gr"}, {"clocks.max.memory", "clocks.max.mem"},
      {"persistence-mode", "persistence_mode"}, {"performance_state", "pstate"}, {"fan_speed", "fan.speed"}};
  auto it = kAliases.find(f);
  return it == kAliases.end() ? f : it->second;
}

void Line(std::ostringstream& out, int indent, const std::string& label, const std::string& value) {
  std::string key(indent * 4, ' ');
  key += label;
  if (key.size() < 42) key.resize(42, ' ');
  out << key << ": " << value << "\n";
}
void Section(std::ostringstream& out, int indent, const std::string& label) {
  out << std::string(indent * 4, ' ') << label << "\n";
}

}  // namespace

bool SmiSnapshot::AnyLost() const {
  for (const auto& d : devices) {
    if (!d.info) return true;
  }
  return false;
}

Result<SmiSnapshot> TakeSnapshot(GpuBackend& backend, const std::string& ids) {
  SmiSnapshot s;
  s.taken = std::chrono::system_clock::now();
  GF_ASSIGN_OR_RETURN(s.system, backend.System());
  GF_ASSIGN_OR_RETURN(unsigned count, backend.DeviceCount());
  std::vector<std::string> wanted;
  std::stringstream list(ids);
  for (std::string id; std::getline(list, id, ',');) {
    if (!id.empty()) wanted.push_back(id);
  }
  std::vector<bool> matched(wanted.size(), false);
  for (unsigned i = 0; i < count; ++i) {
    SmiDevice dev;
    dev.index = i;
    auto info = backend.Device(i);
    if (info.ok()) {
      dev.bus_id = info->pci_bus_id;
      dev.info = std::move(info).value();
      if (dev.info->MigEnabled()) {
        auto mig = backend.MigDevices(i);
        if (mig.ok()) dev.mig = std::move(mig).value();
      }
    } else {
      dev.error = std::string(info.status().message());
    }
    if (!wanted.empty()) {
      bool keep = false;
      for (size_t w = 0; w < wanted.size(); ++w) {
        const std::string& id = wanted[w];
        bool hit = id == std::to_string(i) ||
                   (dev.info && (id == dev.info->uuid || id == dev.info->pci_bus_id ||
                                 (dev.info->pci_bus_id.size() > 4 && id == dev.info->pci_bus_id.substr(4))));
        if (hit) matched[w] = keep = true;
      }
      if (!keep) continue;
    }
    s.devices.push_back(std::move(dev));
  }
  for (size_t w = 0; w < wanted.size(); ++w) {
    if (!matched[w]) return NotFoundError("No devices were found matching \"" + wanted[w] + "\"");
  }
  return s;
}

std::string FormatTable(const SmiSnapshot& s) {
  std::ostringstream out;
  for (const auto& d : s.devices) {
    if (!d.info) out << "Unable to determine the device handle for GPU " << d.index << ": " << d.error << "\n";
  }
  out << Asctime(s.taken) << "\n";
  out << kRule << "\n";
  const std::string version = s.system.driver_version.empty() ? "N/A" : s.system.driver_version;
  out << "| NVIDIA-SMI " << Printf("%-23s", version.c_str()) << "Driver Version: " << Printf("%-15s", version.c_str())
      << "CUDA Version: " << Printf("%-9s", s.system.CudaVersionString().c_str()) << "|\n";
  out << "|" << std::string(41, '-') << "+" << std::string(24, '-') << "+" << std::string(22, '-') << "+\n";
  out << "| GPU  Name                 Persistence-M | Bus-Id          Disp.A | Volatile Uncorr. ECC |\n";
  out << "| Fan  Temp   Perf          Pwr:Usage/Cap |           Memory-Usage | GPU-Util  Compute M. |\n";
  out << "|                                         |                        |               MIG M. |\n";
  out << "|" << std::string(41, '=') << "+" << std::string(24, '=') << "+" << std::string(22, '=') << "|\n";
  bool any = false;
  for (const auto& d : s.devices) {
    if (!d.info) continue;
    TableRows(out, d);
    any = true;
  }
  if (!any) out << "|" << Printf(" %-88s", "No devices were found") << "|\n" << kRule << "\n";
  MigTable(out, s);
  out << "\n" << kRule << "\n";
  out << "| Processes:" << std::string(78, ' ') << "|\n";
  out << "|  GPU   GI   CI        PID   Type   Process name                              GPU Memory |\n";
  out << "|        ID   ID                                                               Usage      |\n";
  out << "|" << std::string(89, '=') << "|\n";
  bool processes = false;
  for (const auto& d : s.devices) {
    if (!d.info) continue;
    for (const auto& p : d.info->processes) {
      const std::string gi = p.gpu_instance_id ? std::to_string(*p.gpu_instance_id) : "N/A";
      const std::string ci = p.compute_instance_id ? std::to_string(*p.compute_instance_id) : "N/A";
      const std::string mem = p.used_memory_bytes ? std::to_string(MiB(*p.used_memory_bytes)) + "MiB" : "N/A";
      out << "|" << Printf("%5u%6s%5s%10u%7s   %-38s%14s ", d.info->index, gi.c_str(), ci.c_str(), p.pid, "C",
                           ProcessName(p.name).c_str(), mem.c_str())
          << "|\n";
      processes = true;
    }
  }
  if (!processes) out << "|  No running processes found" << std::string(61, ' ') << "|\n";
  out << kRule << "\n";
  return out.str();
}

std::string FormatList(const SmiSnapshot& s) {
  std::ostringstream out;
  for (const auto& d : s.devices) {
    if (!d.info) {
      out << "Unable to determine the device handle for GPU " << d.index << ": " << d.error << "\n";
      continue;
    }
    out << "GPU " << d.info->index << ": " << d.info->name << " (UUID: " << d.info->uuid << ")\n";
    for (size_t m = 0; m < d.mig.size(); ++m) {
      out << "  MIG " << Printf("%-13s", d.mig[m].profile.c_str()) << "Device " << Printf("%2zu", m)
          << ": (UUID: " << d.mig[m].uuid << ")\n";
    }
  }
  return out.str();
}

std::string FormatDetails(const SmiSnapshot& s) {
  std::ostringstream out;
  out << "\n==============NVSMI LOG==============\n\n";
  Line(out, 0, "Timestamp", Asctime(s.taken));
  Line(out, 0, "Driver Version", s.system.driver_version.empty() ? "N/A" : s.system.driver_version);
  Line(out, 0, "CUDA Version", s.system.CudaVersionString());
  out << "\n";
  Line(out, 0, "Attached GPUs", std::to_string(s.devices.size()));
  for (const auto& dev : s.devices) {
    out << "GPU " << (dev.bus_id.empty() ? std::to_string(dev.index) : dev.bus_id) << "\n";
    if (!dev.info) {
      Line(out, 1, "Error", dev.error);
      out << "\n";
      continue;
    }
    const DeviceInfo& d = *dev.info;
    auto na = [](const std::optional<unsigned>& v, const std::string& unit) {
      return v ? std::to_string(*v) + unit : std::string("N/A");
    };
    Line(out, 1, "Product Name", d.name);
    Line(out, 1, "Product Brand", BrandName(d.brand));
    Line(out, 1, "Product Architecture", ArchitectureName(d.architecture));
    Line(out, 1, "Display Active", EnabledDisabled(d.display_active));
    Line(out, 1, "Persistence Mode", EnabledDisabled(d.persistence_mode));
    Section(out, 1, "MIG Mode");
    Line(out, 2, "Current", MigMode(d.mig_mode_current));
    Line(out, 2, "Pending", MigMode(d.mig_mode_pending));
    Line(out, 1, "Serial Number", d.serial.empty() ? "N/A" : d.serial);
    Line(out, 1, "GPU UUID", d.uuid);
    Line(out, 1, "Minor Number", std::to_string(d.minor_number));
    Line(out, 1, "VBIOS Version", d.vbios_version.empty() ? "N/A" : d.vbios_version);
    Line(out, 1, "Board Part Number", d.board_part_number.empty() ? "N/A" : d.board_part_number);
    Section(out, 1, "PCI");
    unsigned domain = 0, bus = 0, device = 0, function = 0;
    std::sscanf(d.pci_bus_id.c_str(), "%x:%x:%x.%x", &domain, &bus, &device, &function);
    Line(out, 2, "Bus", Printf("0x%02X", bus));
    Line(out, 2, "Device", Printf("0x%02X", device));
    Line(out, 2, "Domain", Printf("0x%04X", domain));
    Line(out, 2, "Device Id", Printf("0x%08X", d.pci_device_id));
    Line(out, 2, "Bus Id", d.pci_bus_id);
    Line(out, 2, "Sub System Id", Printf("0x%08X", d.pci_subsystem_id));
    Section(out, 2, "GPU Link Info");
    Section(out, 3, "PCIe Generation");
    Line(out, 4, "Max", na(d.pcie_gen_max, ""));
    Line(out, 4, "Current", na(d.pcie_gen_current, ""));
    Section(out, 3, "Link Width");
    Line(out, 4, "Max", na(d.pcie_width_max, "x"));
    Line(out, 4, "Current", na(d.pcie_width_current, "x"));
    Line(out, 1, "Fan Speed", na(d.fan_percent, " %"));
    Line(out, 1, "Performance State", d.performance_state ? "P" + std::to_string(*d.performance_state) : "N/A");
    Section(out, 1, "FB Memory Usage");
    Line(out, 2, "Total", std::to_string(MiB(d.memory_total_bytes)) + " MiB");
    Line(out, 2, "Reserved", std::to_string(MiB(d.memory_reserved_bytes)) + " MiB");
    Line(out, 2, "Used", std::to_string(MiB(d.memory_used_bytes)) + " MiB");
    Line(out, 2, "Free", std::to_string(MiB(d.memory_free_bytes)) + " MiB");
    Line(out, 1, "Compute Mode", ComputeModeLong(d.compute_mode));
    Section(out, 1, "Utilization");
    Line(out, 2, "Gpu", na(d.utilization_gpu, " %"));
    Line(out, 2, "Memory", na(d.utilization_memory, " %"));
    Section(out, 1, "ECC Mode");
    Line(out, 2, "Current", EnabledDisabled(d.ecc_enabled));
    Section(out, 1, "ECC Errors");
    Section(out, 2, "Volatile");
    Line(out, 3, "Correctable", d.ecc_volatile_corrected ? std::to_string(*d.ecc_volatile_corrected) : "N/A");
    Line(out, 3, "Uncorrectable", d.ecc_volatile_uncorrected ? std::to_string(*d.ecc_volatile_uncorrected) : "N/A");
    Section(out, 2, "Aggregate");
    Line(out, 3, "Uncorrectable", d.ecc_aggregate_uncorrected ? std::to_string(*d.ecc_aggregate_uncorrected) : "N/A");
    if (d.remapped_rows) {
      Section(out, 1, "Remapped Rows");
      Line(out, 2, "Correctable Error", std::to_string(d.remapped_rows->correctable));
      Line(out, 2, "Uncorrectable Error", std::to_string(d.remapped_rows->uncorrectable));
      Line(out, 2, "Pending", d.remapped_rows->pending ? "Yes" : "No");
      Line(out, 2, "Remapping Failure Occurred", d.remapped_rows->failure ? "Yes" : "No");
    } else {
      Line(out, 1, "Remapped Rows", "N/A");
    }
    Section(out, 1, "Temperature");
    Line(out, 2, "GPU Current Temp", na(d.temperature_c, " C"));
    Section(out, 1, "GPU Power Readings");
    Line(out, 2, "Power Draw", d.power_usage_mw ? Printf("%.2f W", *d.power_usage_mw / 1000.0) : "N/A");
    Line(out, 2, "Current Power Limit", d.power_limit_mw ? Printf("%.2f W", *d.power_limit_mw / 1000.0) : "N/A");
    Section(out, 1, "Clocks");
    Line(out, 2, "Graphics", na(d.clock_graphics_mhz, " MHz"));
    Line(out, 2, "SM", na(d.clock_sm_mhz, " MHz"));
    Line(out, 2, "Memory", na(d.clock_memory_mhz, " MHz"));
    Section(out, 1, "Max Clocks");
    Line(out, 2, "Graphics", na(d.max_clock_graphics_mhz, " MHz"));
    Line(out, 2, "SM", na(d.max_clock_sm_mhz, " MHz"));
    Line(out, 2, "Memory", na(d.max_clock_memory_mhz, " MHz"));
    if (d.processes.empty()) {
      Line(out, 1, "Processes", "None");
    } else {
      Section(out, 1, "Processes");
      for (const auto& p : d.processes) {
        Line(out, 2, "GPU instance ID", p.gpu_instance_id ? std::to_string(*p.gpu_instance_id) : "N/A");
        Line(out, 2, "Compute instance ID", p.compute_instance_id ? std::to_string(*p.compute_instance_id) : "N/A");
        Line(out, 2, "Process ID", std::to_string(p.pid));
        Line(out, 3, "Type", "C");
        Line(out, 3, "Name", p.name.empty() ? "N/A" : p.name);
        Line(out, 3, "Used GPU Memory", p.used_memory_bytes ? std::to_string(MiB(*p.used_memory_bytes)) + " MiB" : "N/A");
      }
    }
    out << "\n";
  }
  return out.str();
}

Result<CsvFormat> ParseCsvFormat(const std::string& text) {
  CsvFormat f;
  std::stringstream in(text);
  bool csv = false;
  for (std::string part; std::getline(in, part, ',');) {
    if (part == "csv") {
      csv = true;
    } else if (part == "noheader") {
      f.header = false;
    } else if (part == "nounits") {
      f.units = false;
    } else {
      return InvalidArgumentError("--format: unknown option \"" + part + "\" (expected csv[,noheader][,nounits])");
    }
  }
  if (!csv) return InvalidArgumentError("--format: csv is the only supported format");
  return f;
}

Result<std::string> FormatQuery(const SmiSnapshot& s, const std::string& fields, CsvFormat format) {
  std::vector<const QueryField*> chosen;
  std::stringstream in(fields);
  for (std::string f; std::getline(in, f, ',');) {
    while (!f.empty() && f.front() == ' ') f.erase(f.begin());
    while (!f.empty() && f.back() == ' ') f.pop_back();
    auto it = QueryFields().find(CanonicalField(f));
    if (it == QueryFields().end()) {
      return InvalidArgumentError("Field \"" + f + "\" is not a valid field to query.");
    }
    chosen.push_back(&it->second);
  }
  if (chosen.empty()) return InvalidArgumentError("--query-gpu: no fields given");
  std::ostringstream out;
  if (format.header) {
    for (size_t i = 0; i < chosen.size(); ++i) {
      std::string h = chosen[i]->header;
      if (!format.units && h.find(" [") != std::string::npos) h = h.substr(0, h.find(" ["));
      out << (i ? ", " : "") << h;
    }
    out << "\n";
  }
  for (const auto& dev : s.devices) {
    if (!dev.info) continue;
    for (size_t i = 0; i < chosen.size(); ++i) {
      auto v = chosen[i]->value(s, *dev.info);
      std::string text = v ? *v : "[N/A]";
      if (v && format.units && !chosen[i]->unit.empty()) text += " " + chosen[i]->unit;
      out << (i ? ", " : "") << text;
    }
    out << "\n";
  }
  return out.str();
}

nlohmann::json ToJson(const SmiSnapshot& s) {
  auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json gpus = nlohmann::json::array();
  for (const auto& dev : s.devices) {
    if (!dev.info) {
      gpus.push_back({{"index", dev.index}, {"error", dev.error}});
      continue;
    }
    const DeviceInfo& d = *dev.info;
    nlohmann::json processes = nlohmann::json::array();
    for (const auto& p : d.processes) {
      processes.push_back({{"pid", p.pid}, {"name", p.name}, {"used_memory_mib", p.used_memory_bytes ? nlohmann::json(MiB(*p.used_memory_bytes)) : nlohmann::json(nullptr)},
                           {"gpu_instance_id", opt(p.gpu_instance_id)}, {"compute_instance_id", opt(p.compute_instance_id)}});
    }
    nlohmann::json mig = nlohmann::json::array();
    for (const auto& m : dev.mig) {
      mig.push_back({{"uuid", m.uuid}, {"profile", m.profile}, {"gpu_instance_id", m.gpu_instance_id},
                     {"compute_instance_id", m.compute_instance_id}, {"memory_mib", MiB(m.memory_bytes)},
                     {"multiprocessors", m.multiprocessors}});
    }
    gpus.push_back({{"index", d.index}, {"name", d.name}, {"uuid", d.uuid}, {"serial", d.serial},
                    {"architecture", ArchitectureName(d.architecture)}, {"brand", BrandName(d.brand)},
                    {"compute_capability", Printf("%d.%d", d.cuda_cc_major, d.cuda_cc_minor)},
                    {"pci_bus_id", d.pci_bus_id}, {"pci_device_id", Printf("0x%08X", d.pci_device_id)},
                    {"numa_node", opt(d.numa_node)}, {"minor_number", d.minor_number},
                    {"memory", {{"total_mib", MiB(d.memory_total_bytes)}, {"reserved_mib", MiB(d.memory_reserved_bytes)},
                                {"used_mib", MiB(d.memory_used_bytes)}, {"free_mib", MiB(d.memory_free_bytes)}}},
                    {"persistence_mode", opt(d.persistence_mode)}, {"compute_mode", ComputeModeLong(d.compute_mode)},
                    {"mig_mode", {{"current", MigMode(d.mig_mode_current)}, {"pending", MigMode(d.mig_mode_pending)}}},
                    {"power", {{"draw_w", d.power_usage_mw ? nlohmann::json(*d.power_usage_mw / 1000.0) : nlohmann::json(nullptr)},
                               {"limit_w", d.power_limit_mw ? nlohmann::json(*d.power_limit_mw / 1000.0) : nlohmann::json(nullptr)}}},
                    {"temperature_c", opt(d.temperature_c)}, {"fan_percent", opt(d.fan_percent)},
                    {"performance_state", d.performance_state ? nlohmann::json("P" + std::to_string(*d.performance_state)) : nlohmann::json(nullptr)},
                    {"utilization", {{"gpu_percent", opt(d.utilization_gpu)}, {"memory_percent", opt(d.utilization_memory)}}},
                    {"clocks_mhz", {{"graphics", opt(d.clock_graphics_mhz)}, {"sm", opt(d.clock_sm_mhz)}, {"memory", opt(d.clock_memory_mhz)},
                                    {"max_graphics", opt(d.max_clock_graphics_mhz)}, {"max_sm", opt(d.max_clock_sm_mhz)},
                                    {"max_memory", opt(d.max_clock_memory_mhz)}}},
                    {"pcie", {{"gen_current", opt(d.pcie_gen_current)}, {"gen_max", opt(d.pcie_gen_max)},
                              {"width_current", opt(d.pcie_width_current)}, {"width_max", opt(d.pcie_width_max)}}},
                    {"ecc", {{"enabled", opt(d.ecc_enabled)}, {"volatile_uncorrected", opt(d.ecc_volatile_uncorrected)},
                             {"volatile_corrected", opt(d.ecc_volatile_corrected)},
                             {"aggregate_uncorrected", opt(d.ecc_aggregate_uncorrected)}}},
                    {"remapped_rows", d.remapped_rows ? nlohmann::json{{"correctable", d.remapped_rows->correctable},
                                                                       {"uncorrectable", d.remapped_rows->uncorrectable},
                                                                       {"pending", d.remapped_rows->pending},
                                                                       {"failure", d.remapped_rows->failure}}
                                                      : nlohmann::json(nullptr)},
                    {"nvlink_peers", d.nvlink_peers}, {"processes", processes}, {"mig_devices", mig}});
  }
  return {{"timestamp", Asctime(s.taken)}, {"driver_version", s.system.driver_version},
          {"nvml_version", s.system.nvml_version}, {"cuda_version", s.system.CudaVersionString()},
          {"attached_gpus", s.devices.size()}, {"gpus", gpus}};
}

int ExitCode(const SmiSnapshot& s) { return s.AnyLost() ? 15 : 0; }

}  // namespace gpufleet::gpu
