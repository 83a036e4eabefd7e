// The GPU catalogue (data/gpu-models.json): what each NVIDIA data-centre GPU reports through NVML,
// its peaks and DCGM thresholds, its MIG profiles, and which EC2 instance types carry it. The
// mock backend builds its GPUs from it; validation reads its thresholds.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace gpufleet::gpu {

struct MigProfile {
  std::string name;  // "1g.10gb", "1g.10gb+me"
  unsigned slices = 0, instances = 0, multiprocessors = 0;
  unsigned copy_engines = 0, decoders = 0, encoders = 0, jpegs = 0, ofas = 0;
  uint64_t memory_mb = 0;
};

struct GpuModel {
  std::string id;         // "H100-SXM5-80GB"
  std::string nvml_name;  // "NVIDIA H100 80GB HBM3"
  int brand = 14;         // nvmlBrandType_t (BRAND_NVIDIA unless the catalogue says otherwise)
  unsigned architecture = 0;
  int cc_major = 0, cc_minor = 0;
  uint64_t memory_total_mib = 0;
  unsigned tdp_watts = 0;
  unsigned sm_count = 0;
  unsigned pcie_gen = 0, pcie_width = 0;
  uint32_t nvml_pci_device_id = 0;  // device << 16 | 0x10DE
  unsigned max_graphics_mhz = 0, max_sm_mhz = 0, max_memory_mhz = 0;
  unsigned nvlink_links = 0;  // 0: no NVLink between GPUs of a machine
  double memory_bandwidth_gbps = 0, bf16_dense_tflops = 0, fp32_tflops = 0;
  std::vector<MigProfile> mig_profiles;  // empty: no MIG
  struct InstanceType {
    std::string name;
    unsigned gpu_count = 0;
  };
  std::vector<InstanceType> instance_types;
};

// A whole machine from the go-nvml mock server set (dgxh100, ...).
struct MockMachine {
  std::string name, model_id, driver_version, nvml_version;
  unsigned gpu_count = 0;
  int cuda_driver_version = 0;
};

struct GpuCatalog {
  std::vector<GpuModel> models;
  std::vector<MockMachine> machines;

  const GpuModel* FindById(std::string_view id) const;
  // The model an EC2 instance type carries, and how many; nullopt for types without NVIDIA GPUs.
  std::optional<std::pair<const GpuModel*, unsigned>> ForInstanceType(std::string_view type) const;
  const MockMachine* FindMachine(std::string_view name) const;
};

// Parses the catalogue; errors name the model and field that was wrong.
Result<GpuCatalog> ParseGpuCatalog(std::string_view json_text);
Result<GpuCatalog> LoadGpuCatalog(const std::string& path);

}  // namespace gpufleet::gpu
