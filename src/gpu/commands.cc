#include "gpu/commands.h"

#include <cstdlib>
#include <iostream>

#include <nlohmann/json.hpp>

#include "gpu/smi.h"

namespace gpufleet::gpu {
namespace {

struct SmiFlags {
  BackendOptions backend;
  bool list = false, query = false;
  std::string query_gpu, format = "csv", ids, output;
};

std::string EnvOr(const char* name, std::string fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

// nvidia-smi prints errors on stdout and exits with its code; so do we.
[[noreturn]] void Exit(const std::string& message, int code) {
  std::cout << message << std::endl;
  std::exit(code);
}

void RunSmi(const SmiFlags& f) {
  auto backend = OpenBackend(f.backend);
  if (!backend.ok() && f.backend.kind == "mock") Exit(std::string(backend.status().message()), 2);
  if (!backend.ok()) {
    const bool missing = backend.status().code() == StatusCode::kNotFound;
    // One line: nvidia-smi's words, then what gpufleet found.
    Exit(std::string(missing ? "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. "
                               "Make sure that the latest NVIDIA driver is installed and running. ("
                             : "Failed to initialize NVML: ") +
             std::string(backend.status().message()) + (missing ? ")" : ""),
         missing ? 9 : 255);
  }
  auto snapshot = TakeSnapshot(**backend, f.ids);
  if (!snapshot.ok()) Exit(std::string(snapshot.status().message()), 6);
  if ((*backend)->Kind() == "none" || (snapshot->devices.empty() && f.ids.empty())) {
    Exit("No devices were found", 6);
  }
  if (!f.query_gpu.empty()) {
    auto format = ParseCsvFormat(f.format);
    if (!format.ok()) Exit(std::string(format.status().message()), 2);
    auto text = FormatQuery(*snapshot, f.query_gpu, *format);
    if (!text.ok()) Exit(std::string(text.status().message()), 2);
    std::cout << *text;
  } else if (f.output == "json") {
    std::cout << ToJson(*snapshot).dump(2) << "\n";
  } else if (!f.output.empty()) {
    Exit("-o: unknown output \"" + f.output + "\" (expected json)", 2);
  } else if (f.list) {
    std::cout << FormatList(*snapshot);
  } else if (f.query) {
    std::cout << FormatDetails(*snapshot);
  } else {
    std::cout << FormatTable(*snapshot);
  }
  std::cout.flush();
  std::exit(ExitCode(*snapshot));
}

}  // namespace

void AddBackendFlags(CLI::App* cmd, BackendOptions& options) {
  options.kind = EnvOr("GPUFLEET_GPU_BACKEND", options.kind);
  options.mock_machine = EnvOr("GPUFLEET_MOCK_MACHINE", options.mock_machine);
  options.mock_seed = EnvOr("GPUFLEET_MOCK_SEED", options.mock_seed);
  if (const char* root = std::getenv("NVIDIA_DRIVER_ROOT"); root != nullptr && *root != '\0') {
    options.driver_roots.insert(options.driver_roots.begin(), root);
  }
  cmd->add_option("--gpu-backend", options.kind, "auto (NVML if the driver is there, else none), nvml, mock or none")
      ->capture_default_str();
  cmd->add_option("--driver-root", options.driver_roots, "Where to look for libnvidia-ml.so.1 (repeatable)");
  // --mock PROFILE: the short form acceptance checks and users type.
  cmd->add_option_function<std::string>(
      "--mock",
      [&options](const std::string& profile) {
        options.kind = "mock";
        options.mock_machine = profile;
      },
      "Mock GPUs: l40s, t4, a10g, h100-sxm-x8, an instance type such as g6e.2xlarge, dgxh100, or a JSON file "
      "(same as --gpu-backend mock --mock-machine PROFILE)");
  cmd->add_option("--mock-machine", options.mock_machine,
                  "mock: an EC2 instance type (g6e.2xlarge, p5.48xlarge), a DGX name (dgxh100) or a machine JSON file")
      ->capture_default_str();
  cmd->add_option("--mock-seed", options.mock_seed, "mock: makes GPU UUIDs stable for one node");
  cmd->add_option("--gpu-models", options.gpu_models_path, "The GPU catalogue (default: data/gpu-models.json)");
}

void AddCommands(CLI::App& app) {
  auto flags = std::make_shared<SmiFlags>();
  CLI::App* smi = app.add_subcommand("smi", "nvidia-smi compatible GPU report (table, -L, -q, --query-gpu, -o json)");
  AddBackendFlags(smi, flags->backend);
  smi->add_flag("-L,--list-gpus", flags->list, "List each GPU and its UUID");
  smi->add_flag("-q,--query", flags->query, "Everything known about each GPU");
  smi->add_option("--query-gpu", flags->query_gpu, "Comma-separated fields, e.g. name,memory.total,temperature.gpu");
  smi->add_option("--format", flags->format, "With --query-gpu: csv[,noheader][,nounits]")->capture_default_str();
  smi->add_option("-i,--id", flags->ids, "GPUs to show: indexes, UUIDs or PCI bus ids, comma-separated");
  smi->add_option("-o,--output", flags->output, "json: the whole report as one JSON document");
  smi->callback([flags] { RunSmi(*flags); });
}

}  // namespace gpufleet::gpu
