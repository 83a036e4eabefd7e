#include "gpu/models.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/json.h"
#include "gpu/device.h"

namespace gpufleet::gpu {
namespace {

using nlohmann::json;

// "0x233010DE" -> 0x233010DE.
Result<uint32_t> ParseHex(const std::string& text, const std::string& where) {
  char* end = nullptr;
  unsigned long v = std::strtoul(text.c_str(), &end, 16);
  if (text.empty() || end == nullptr || *end != '\0' || v > 0xFFFFFFFFul) {
    return InvalidArgumentError(where + ": \"" + text + "\" is not a hexadecimal id");
  }
  return static_cast<uint32_t>(v);
}

unsigned UnsignedOr(const json& obj, const char* key, unsigned fallback = 0) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<unsigned>() : fallback;
}

double DoubleOr(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_number() ? it->get<double>() : 0;
}

Result<GpuModel> ParseModel(const json& m, size_t index, std::string* go_nvml_config) {
  const std::string where = "models[" + std::to_string(index) + "]";
  GpuModel out;
  GF_ASSIGN_OR_RETURN(out.id, core::GetString(m, "id"));
  const std::string at = where + " (" + out.id + ")";
  auto name = core::GetString(m, "nvmlName");
  if (!name.ok()) return InvalidArgumentError(at + ": " + std::string(name.status().message()));
  out.nvml_name = *name;
  if (auto b = m.find("brand"); b != m.end() && b->is_object()) out.brand = UnsignedOr(*b, "value", 14);
  if (auto a = m.find("architecture"); a != m.end() && a->is_object()) out.architecture = UnsignedOr(*a, "value");
  auto cc = core::GetString(m, "computeCapability");
  if (!cc.ok() || cc->find('.') == std::string::npos) {
    return InvalidArgumentError(at + ": computeCapability must be \"MAJOR.MINOR\"");
  }
  out.cc_major = std::atoi(cc->substr(0, cc->find('.')).c_str());
  out.cc_minor = std::atoi(cc->substr(cc->find('.') + 1).c_str());
  out.memory_total_mib = UnsignedOr(m, "memoryTotalMiB");
  if (out.memory_total_mib == 0) return InvalidArgumentError(at + ": memoryTotalMiB is missing");
  out.tdp_watts = UnsignedOr(m, "tdpWatts");
  out.sm_count = UnsignedOr(m, "smCount");
  out.memory_bandwidth_gbps = DoubleOr(m, "memoryBandwidthGBps");
  out.bf16_dense_tflops = DoubleOr(m, "bf16DenseTflops");
  out.fp32_tflops = DoubleOr(m, "fp32Tflops");
  if (auto p = m.find("pcie"); p != m.end() && p->is_object()) {
    out.pcie_gen = UnsignedOr(*p, "gen");
    out.pcie_width = UnsignedOr(*p, "width");
  }
  auto pci = core::GetString(m, "nvmlPciDeviceId");
  if (!pci.ok()) return InvalidArgumentError(at + ": " + std::string(pci.status().message()));
  GF_ASSIGN_OR_RETURN(out.nvml_pci_device_id, ParseHex(*pci, at + ".nvmlPciDeviceId"));
  if (auto c = m.find("maxClocksMHz"); c != m.end() && c->is_object()) {
    out.max_graphics_mhz = UnsignedOr(*c, "graphics");
    out.max_sm_mhz = UnsignedOr(*c, "sm", out.max_graphics_mhz);
    out.max_memory_mhz = UnsignedOr(*c, "memory");
  }
  if (auto n = m.find("nvlink"); n != m.end() && n->is_object()) out.nvlink_links = UnsignedOr(*n, "links");
  if (auto mig = m.find("mig"); mig != m.end() && mig->is_object() && mig->value("supported", false)) {
    for (const auto& p : mig->value("gpuInstanceProfiles", json::array())) {
      MigProfile profile{.name = p.value("migName", ""),
                         .slices = UnsignedOr(p, "sliceCount"),
                         .instances = UnsignedOr(p, "instanceCount"),
                         .multiprocessors = UnsignedOr(p, "multiprocessorCount"),
                         .copy_engines = UnsignedOr(p, "copyEngineCount"),
                         .decoders = UnsignedOr(p, "decoderCount"),
                         .encoders = UnsignedOr(p, "encoderCount"),
                         .jpegs = UnsignedOr(p, "jpegCount"),
                         .ofas = UnsignedOr(p, "ofaCount"),
                         .memory_mb = UnsignedOr(p, "memorySizeMB")};
      if (profile.name.empty() && profile.slices > 0) {
        // Named as the device plugin names it, "+me" for the media-extension revision.
        profile.name = MigProfileName(profile.slices, profile.memory_mb);
        if (p.value("profile", "").ends_with("_REV1")) profile.name += "+me";
      }
      if (profile.name.empty() || profile.slices == 0) {
        return InvalidArgumentError(at + ": a MIG profile needs migName and sliceCount");
      }
      out.mig_profiles.push_back(std::move(profile));
    }
  }
  for (const auto& family : m.value("awsInstanceFamilies", json::array())) {
    for (const auto& t : family.value("instanceTypes", json::array())) {
      out.instance_types.push_back({.name = t.value("name", ""), .gpu_count = UnsignedOr(t, "gpuCount")});
    }
  }
  if (auto g = m.find("goNvmlMock"); g != m.end() && g->is_object()) *go_nvml_config = g->value("config", "");
  return out;
}

}  // namespace

const GpuModel* GpuCatalog::FindById(std::string_view id) const {
  for (const auto& m : models) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

std::optional<std::pair<const GpuModel*, unsigned>> GpuCatalog::ForInstanceType(std::string_view type) const {
  for (const auto& m : models) {
    for (const auto& t : m.instance_types) {
      if (t.name == type) return std::make_pair(&m, t.gpu_count);
    }
  }
  return std::nullopt;
}

const MockMachine* GpuCatalog::FindMachine(std::string_view name) const {
  for (const auto& m : machines) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

static Result<GpuCatalog> ParseGpuCatalogUnchecked(std::string_view json_text) {
  GF_ASSIGN_OR_RETURN(json doc, core::ParseJson(json_text));
  GF_ASSIGN_OR_RETURN(const json* models, core::GetArray(doc, "models"));
  GpuCatalog out;
  std::vector<std::pair<std::string, std::string>> configs;  // go-nvml config -> model id
  for (size_t i = 0; i < models->size(); ++i) {
    std::string config;
    GF_ASSIGN_OR_RETURN(GpuModel model, ParseModel((*models)[i], i, &config));
    if (!config.empty()) configs.emplace_back(config, model.id);
    out.models.push_back(std::move(model));
  }
  GF_ASSIGN_OR_RETURN(const json* server, core::GetOptionalObject(doc, "goNvmlMockServer"));
  if (server != nullptr) {
    const json machines = server->value("machines", json::object());
    for (const auto& [name, m] : machines.items()) {
      MockMachine machine{.name = name,
                          .driver_version = m.value("driverVersion", ""),
                          .nvml_version = m.value("nvmlVersion", ""),
                          .gpu_count = UnsignedOr(m, "gpuCount"),
                          .cuda_driver_version = static_cast<int>(UnsignedOr(m, "cudaDriverVersion"))};
      const std::string config = m.value("gpuConfig", "");
      for (const auto& [c, id] : configs) {
        if (c == config) machine.model_id = id;
      }
      if (machine.model_id.empty()) {
        return InvalidArgumentError("goNvmlMockServer.machines." + name + ": no model has goNvmlMock.config \"" + config + "\"");
      }
      out.machines.push_back(std::move(machine));
    }
  }
  return out;
}

Result<GpuCatalog> ParseGpuCatalog(std::string_view json_text) {
  try {
    return ParseGpuCatalogUnchecked(json_text);
  } catch (const nlohmann::json::exception& e) {  // a field of an unexpected type
    return InvalidArgumentError(std::string("GPU catalogue: ") + e.what());
  }
}

Result<GpuCatalog> LoadGpuCatalog(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFoundError("GPU catalogue " + path + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  auto catalog = ParseGpuCatalog(text.str());
  if (!catalog.ok()) return Status(catalog.status().code(), path + ": " + std::string(catalog.status().message()));
  return catalog;
}

}  // namespace gpufleet::gpu
