#include "agent/labels.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "kube/client.h"

namespace gpufleet::agent {
namespace {

constexpr std::string_view kPrefix = "nvidia.com/";

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t pos; (pos = text.find(sep, start)) != std::string::npos; start = pos + 1) out.push_back(text.substr(start, pos - start));
  out.push_back(text.substr(start));
  return out;
}

void Put(LabelMap& labels, const std::string& key, const std::string& value) { labels[std::string(kPrefix) + key] = value; }

void MigAttributeLabels(LabelMap& labels, const std::string& prefix, const gpu::MigDeviceInfo& m) {
  Put(labels, prefix + ".multiprocessors", std::to_string(m.multiprocessors));
  Put(labels, prefix + ".slices.gi", std::to_string(m.gi_slices));
  Put(labels, prefix + ".slices.ci", std::to_string(m.ci_slices));
  Put(labels, prefix + ".engines.copy", std::to_string(m.copy_engines));
  Put(labels, prefix + ".engines.decoder", std::to_string(m.decoders));
  Put(labels, prefix + ".engines.encoder", std::to_string(m.encoders));
  Put(labels, prefix + ".engines.jpeg", std::to_string(m.jpegs));
  Put(labels, prefix + ".engines.ofa", std::to_string(m.ofas));
}

}  // namespace

std::string SanitizeLabelValue(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ' ') {
      out += '-';
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') {
      out += c;
    }
  }
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && !std::isalnum(static_cast<unsigned char>(out.back()))) out.pop_back();
  return out;
}

std::string GpuFamily(int major, int minor) {
  switch (major) {
    case 3: return "kepler";
    case 5: return "maxwell";
    case 6: return "pascal";
    case 7: return minor < 5 ? "volta" : "turing";
    case 8: return minor < 9 ? "ampere" : "ada-lovelace";
    case 9: return "hopper";
    case 10:
    case 12: return "blackwell";
    case 13: return "rubin";
    default: return "undefined";
  }
}

LabelMap GfdLabels(const AgentConfig& config, const LabelInputs& in) {
  LabelMap labels;
  if (in.gpus.empty()) return labels;
  Put(labels, "gpu.present", "true");
  // Driver and CUDA versions.
  auto driver = Split(in.system.driver_version, '.');
  if (driver.size() >= 2) {
    const std::string rev = driver.size() >= 3 ? driver[2] : "";
    Put(labels, "cuda.driver-version.major", driver[0]);
    Put(labels, "cuda.driver-version.minor", driver[1]);
    Put(labels, "cuda.driver-version.revision", rev);
    Put(labels, "cuda.driver-version.full", in.system.driver_version);
    Put(labels, "cuda.driver.major", driver[0]);  // deprecated names, still set by GFD
    Put(labels, "cuda.driver.minor", driver[1]);
    Put(labels, "cuda.driver.rev", rev);
  }
  if (in.system.cuda_driver_version > 0) {
    const std::string major = std::to_string(in.system.cuda_driver_version / 1000);
    const std::string minor = std::to_string(in.system.cuda_driver_version % 1000 / 10);
    Put(labels, "cuda.runtime-version.major", major);
    Put(labels, "cuda.runtime-version.minor", minor);
    Put(labels, "cuda.runtime-version.full", major + "." + minor);
    Put(labels, "cuda.runtime.major", major);
    Put(labels, "cuda.runtime.minor", minor);
  }
  const gpu::DeviceInfo& first = in.gpus.front();
  const bool mig_capable = std::any_of(in.gpus.begin(), in.gpus.end(), [](const auto& g) { return g.mig_mode_current.has_value(); });
  const bool mig_enabled = std::any_of(in.gpus.begin(), in.gpus.end(), [](const auto& g) { return g.MigEnabled(); });
  const int replicas = config.sharing == SharingStrategy::kNone ? 1 : config.ReplicasFor("nvidia.com/gpu");
  const bool shared = replicas > 1;
  const std::string sharing(SharingStrategyName(shared ? config.sharing : SharingStrategy::kNone));
  std::string product = SanitizeLabelValue(first.name);
  unsigned count = static_cast<unsigned>(in.gpus.size());
  uint64_t memory_mib = first.memory_total_bytes >> 20;

  Put(labels, "gpu.family", GpuFamily(first.cuda_cc_major, first.cuda_cc_minor));
  Put(labels, "gpu.compute.major", std::to_string(first.cuda_cc_major));
  Put(labels, "gpu.compute.minor", std::to_string(first.cuda_cc_minor));
  Put(labels, "gpu.mode", first.display_active.value_or(false) ? "graphics" : "compute");
  if (!in.machine.empty()) Put(labels, "gpu.machine", SanitizeLabelValue(in.machine));
  Put(labels, "mig.capable", mig_capable ? "true" : "false");
  Put(labels, "mps.capable", mig_enabled ? "false" : "true");
  if (mig_capable) Put(labels, "mig.strategy", std::string(MigStrategyName(config.mig_strategy)));

  if (config.mig_strategy == MigStrategy::kSingle && mig_enabled) {
    // The MIG devices are the node's GPUs, if they all share one profile.
    std::set<std::string> profiles;
    unsigned devices = 0;
    const gpu::MigDeviceInfo* sample = nullptr;
    bool valid = true;
    for (const auto& g : in.gpus) {
      auto it = in.mig.find(g.index);
      if (!g.MigEnabled() || it == in.mig.end() || it->second.empty()) {
        valid = false;
        continue;
      }
      for (const auto& m : it->second) {
        profiles.insert(m.profile);
        sample = &m;
        ++devices;
      }
    }
    if (!valid || profiles.size() != 1 || sample == nullptr) {
      product += "-MIG-INVALID";
      count = 0;
    } else {
      product += "-MIG-" + *profiles.begin();
      count = devices;
      memory_mib = sample->memory_bytes >> 20;
      MigAttributeLabels(labels, "gpu", *sample);
    }
  } else if (config.mig_strategy == MigStrategy::kMixed) {
    std::map<std::string, std::pair<unsigned, const gpu::MigDeviceInfo*>> by_profile;
    count = 0;
    for (const auto& g : in.gpus) {
      if (!g.MigEnabled()) {
        ++count;
        continue;
      }
      auto it = in.mig.find(g.index);
      if (it == in.mig.end()) continue;
      for (const auto& m : it->second) {
        auto& entry = by_profile[m.profile];
        ++entry.first;
        entry.second = &m;
      }
    }
    for (const auto& [profile, entry] : by_profile) {
      const std::string prefix = MigResourceName(profile).substr(kPrefix.size());  // mig-1g.10gb
      const int r = config.sharing == SharingStrategy::kNone ? 1 : config.ReplicasFor("nvidia.com/" + prefix);
      Put(labels, prefix + ".count", std::to_string(entry.first));
      Put(labels, prefix + ".replicas", std::to_string(entry.first * static_cast<unsigned>(r)));
      Put(labels, prefix + ".sharing-strategy", std::string(SharingStrategyName(r > 1 ? config.sharing : SharingStrategy::kNone)));
      Put(labels, prefix + ".product", SanitizeLabelValue(first.name) + "-MIG-" + profile);
      Put(labels, prefix + ".memory", std::to_string(entry.second->memory_bytes >> 20));
      MigAttributeLabels(labels, prefix, *entry.second);
    }
  }
  if (shared && !config.rename_by_default) product += "-SHARED";
  Put(labels, "gpu.product", SanitizeLabelValue(product));
  Put(labels, "gpu.count", std::to_string(count));
  Put(labels, "gpu.replicas", std::to_string(count * static_cast<unsigned>(replicas)));
  Put(labels, "gpu.sharing-strategy", sharing);
  Put(labels, "gpu.memory", std::to_string(memory_mib));
  if (in.timestamp) Put(labels, "gfd.timestamp", std::to_string(*in.timestamp));
  return labels;
}

Status ApplyNodeLabels(kube::Client& client, const std::string& node, const LabelMap& labels) {
  nlohmann::json body = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", node}, {"labels", labels}}}};
  auto applied = client.Patch({"", "v1", "nodes", false}, "", node, kube::PatchType::kApply, body,
                              {.field_manager = "gpufleet-agent", .force = true});
  if (!applied.ok()) {
    return Status(applied.status().code(), "labelling node " + node + ": " + std::string(applied.status().message()));
  }
  return OkStatus();
}

Status WriteFeatureFile(const std::string& path, const LabelMap& labels) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return InternalError("cannot write " + tmp);
    for (const auto& [k, v] : labels) out << k << "=" << v << "\n";
    out.flush();
    if (!out) return InternalError("writing " + tmp + " failed");
  }
  fs::rename(tmp, path, ec);
  if (ec) return InternalError("renaming " + tmp + " to " + path + ": " + ec.message());
  return OkStatus();
}

}  // namespace gpufleet::agent
