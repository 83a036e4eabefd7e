#include "agent/resources.h"

#include <algorithm>
#include <set>

namespace gpufleet::agent {
namespace {

constexpr std::string_view kGpuResource = "nvidia.com/gpu";

PluginDevice FromGpu(const gpu::DeviceInfo& d, const AgentConfig& config) {
  PluginDevice p;
  p.uuid = d.uuid;
  p.index = std::to_string(d.index);
  p.id = config.device_id_strategy == "index" ? p.index : p.uuid;
  p.gpu_index = d.index;
  p.numa_node = d.numa_node;
  p.device_path = "/dev/nvidia" + std::to_string(d.minor_number);
  return p;
}

PluginDevice FromMig(const gpu::DeviceInfo& parent, const gpu::MigDeviceInfo& m, size_t position, const AgentConfig& config) {
  PluginDevice p;
  p.uuid = m.uuid;
  p.index = std::to_string(parent.index) + ":" + std::to_string(position);
  p.id = config.device_id_strategy == "index" ? p.index : p.uuid;
  p.gpu_index = parent.index;
  p.numa_node = parent.numa_node;
  p.device_path = "/dev/nvidia" + std::to_string(parent.minor_number);
  return p;
}

// Shares `r` per the config: replicas "<id>::<n>", renamed "<name>.shared" with renameByDefault.
void ApplySharing(const AgentConfig& config, PluginResource& r) {
  const int replicas = config.sharing == SharingStrategy::kNone ? 1 : config.ReplicasFor(r.name);
  if (replicas <= 1) return;
  std::vector<PluginDevice> shared;
  for (const auto& d : r.devices) {
    for (int n = 0; n < replicas; ++n) {
      PluginDevice copy = d;
      copy.id = d.id + "::" + std::to_string(n);
      copy.replica = n;
      shared.push_back(std::move(copy));
    }
  }
  r.devices = std::move(shared);
  r.shared = true;
  if (config.rename_by_default) r.name += ".shared";
}

}  // namespace

std::string PluginResource::SocketName() const {
  std::string short_name = name.substr(name.find('/') + 1);
  return "nvidia-" + short_name + ".sock";
}

const PluginDevice* PluginResource::Find(const std::string& id) const {
  for (const auto& d : devices) {
    if (d.id == id) return &d;
  }
  return nullptr;
}

std::string MigResourceName(const std::string& profile) {
  std::string p = profile;
  std::replace(p.begin(), p.end(), '+', '.');
  return "nvidia.com/mig-" + p;
}

Result<std::vector<PluginResource>> BuildResources(const AgentConfig& config, const std::vector<gpu::DeviceInfo>& gpus,
                                                   const MigMap& mig) {
  std::vector<PluginResource> out;
  PluginResource whole{.name = std::string(kGpuResource)};
  const bool any_mig = std::any_of(gpus.begin(), gpus.end(), [](const auto& g) { return g.MigEnabled(); });

  if (config.mig_strategy == MigStrategy::kSingle && any_mig) {
    // Every GPU MIG-enabled, with devices, all of one profile: the MIG devices are nvidia.com/gpu.
    std::set<std::string> profiles;
    for (const auto& g : gpus) {
      auto it = mig.find(g.index);
      if (!g.MigEnabled() || it == mig.end() || it->second.empty()) {
        return FailedPreconditionError("migStrategy single: GPU " + std::to_string(g.index) +
                                       (g.MigEnabled() ? " has MIG enabled but no MIG devices" : " does not have MIG enabled") +
                                       " (every GPU must be MIG-enabled with devices of one profile)");
      }
      for (const auto& m : it->second) profiles.insert(m.profile);
    }
    if (profiles.size() > 1) {
      std::string list;
      for (const auto& p : profiles) list += (list.empty() ? "" : ", ") + p;
      return FailedPreconditionError("migStrategy single: MIG devices of several profiles (" + list + ")");
    }
    for (const auto& g : gpus) {
      const auto& devices = mig.at(g.index);
      for (size_t i = 0; i < devices.size(); ++i) whole.devices.push_back(FromMig(g, devices[i], i, config));
    }
  } else {
    std::map<std::string, PluginResource> mig_resources;
    for (const auto& g : gpus) {
      auto it = mig.find(g.index);
      if (config.mig_strategy == MigStrategy::kMixed && g.MigEnabled()) {
        if (it == mig.end()) continue;
        for (size_t i = 0; i < it->second.size(); ++i) {
          const std::string name = MigResourceName(it->second[i].profile);
          auto& r = mig_resources[name];
          r.name = name;
          r.devices.push_back(FromMig(g, it->second[i], i, config));
        }
        continue;
      }
      whole.devices.push_back(FromGpu(g, config));
    }
    for (auto& [name, r] : mig_resources) out.push_back(std::move(r));
  }
  if (!whole.devices.empty() || out.empty()) out.insert(out.begin(), std::move(whole));
  for (auto& r : out) ApplySharing(config, r);
  return out;
}

}  // namespace gpufleet::agent
