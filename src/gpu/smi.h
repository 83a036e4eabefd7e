// The nvidia-smi compatible report, as pure functions of a snapshot so every format is tested
// without a GPU: the default table (nvidia-smi 550+ layout, 91 columns), -L, -q, --query-gpu
// with --format=csv[,noheader][,nounits], and a JSON document (-o json, gpufleet's addition).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"
#include "gpu/backend.h"
#include "gpu/device.h"

namespace gpufleet::gpu {

struct SmiDevice {
  unsigned index = 0;
  std::string bus_id;
  std::optional<DeviceInfo> info;
  std::vector<MigDeviceInfo> mig;
  std::string error;  // why `info` is missing: "GPU is lost", ...
};

struct SmiSnapshot {
  std::chrono::system_clock::time_point taken;
  SystemInfo system;
  std::vector<SmiDevice> devices;

  bool AnyLost() const;
};

// Reads everything the report shows. `ids` selects devices (-i): indexes, UUIDs or PCI bus
// ids, comma-separated; empty: all. Errors: a selector that matches nothing (kNotFound).
Result<SmiSnapshot> TakeSnapshot(GpuBackend& backend, const std::string& ids = "");

std::string FormatTable(const SmiSnapshot& s);
std::string FormatList(const SmiSnapshot& s);     // -L
std::string FormatDetails(const SmiSnapshot& s);  // -q

struct CsvFormat {
  bool header = true;
  bool units = true;
};
// Parses "csv[,noheader][,nounits]". Errors name the unknown option.
Result<CsvFormat> ParseCsvFormat(const std::string& text);
// --query-gpu=a,b,c: one CSV line per device. Errors name the first unknown field, in
// nvidia-smi's words.
Result<std::string> FormatQuery(const SmiSnapshot& s, const std::string& fields, CsvFormat format);

nlohmann::json ToJson(const SmiSnapshot& s);

// nvidia-smi's exit codes: 0, or 15 when a GPU has fallen off the bus.
int ExitCode(const SmiSnapshot& s);

}  // namespace gpufleet::gpu
