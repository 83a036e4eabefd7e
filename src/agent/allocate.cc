#include "agent/allocate.h"

#include <algorithm>
#include <cstdio>
#include <functional>

namespace gpufleet::agent {
namespace {

constexpr std::string_view kVolumeMountRoot = "/var/run/nvidia-container-devices";

bool Uses(const AgentConfig& c, std::string_view strategy) {
  return std::find(c.device_list_strategy.begin(), c.device_list_strategy.end(), strategy) != c.device_list_strategy.end();
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

}  // namespace

Result<ContainerAllocation> AllocateContainer(const AgentConfig& config, const PluginResource& resource,
                                              const std::vector<std::string>& ids,
                                              const std::vector<std::string>& control_devices) {
  if (ids.empty()) return InvalidArgumentError(resource.name + ": an allocation of no devices");
  if (resource.shared && config.fail_requests_greater_than_one && ids.size() > 1) {
    return InvalidArgumentError("request for " + std::to_string(ids.size()) + " " + resource.name +
                                " devices: the resource is shared and failRequestsGreaterThanOne is set (at most 1)");
  }
  // The devices the container sees: replicas resolve to their GPU, each listed once, in order.
  std::vector<const PluginDevice*> visible;
  for (const auto& id : ids) {
    const PluginDevice* d = resource.Find(id);
    if (d == nullptr) return InvalidArgumentError(resource.name + ": unknown device id \"" + id + "\"");
    if (!d->healthy) {
      return FailedPreconditionError(resource.name + ": device " + id + " is unhealthy (" + d->unhealthy_reason + ")");
    }
    if (std::none_of(visible.begin(), visible.end(), [&](const PluginDevice* v) { return v->uuid == d->uuid; })) {
      visible.push_back(d);
    }
  }
  std::vector<std::string> names;
  for (const auto* d : visible) names.push_back(config.device_id_strategy == "index" ? d->index : d->uuid);

  ContainerAllocation out;
  if (Uses(config, "envvar")) out.envs["NVIDIA_VISIBLE_DEVICES"] = Join(names);
  if (Uses(config, "volume-mounts")) {
    out.envs["NVIDIA_VISIBLE_DEVICES"] = std::string(kVolumeMountRoot);
    for (const auto& n : names) {
      out.mounts.push_back({.container_path = std::string(kVolumeMountRoot) + "/" + n, .host_path = "/dev/null",
                            .read_only = true});
    }
  }
  std::vector<std::string> qualified;
  for (const auto& n : names) qualified.push_back("nvidia.com/gpu=" + n);
  if (Uses(config, "cdi-annotations")) {
    // The CDI annotation key names the plugin and a per-allocation key (stable for the same set).
    char key[32];
    std::snprintf(key, sizeof(key), "%016llx", static_cast<unsigned long long>(std::hash<std::string>{}(Join(names))));
    out.annotations[config.cdi_annotation_prefix + "nvidia-device-plugin_" + key] = Join(qualified);
  }
  if (Uses(config, "cdi-cri")) out.cdi_devices = qualified;
  if (config.pass_device_specs) {
    std::vector<std::string> paths;
    for (const auto* d : visible) {
      if (std::find(paths.begin(), paths.end(), d->device_path) == paths.end()) paths.push_back(d->device_path);
    }
    paths.insert(paths.end(), control_devices.begin(), control_devices.end());
    for (const auto& p : paths) out.devices.push_back({.container_path = p, .host_path = p, .permissions = "rw"});
  }
  if (config.sharing == SharingStrategy::kMps && !config.mps_root.empty()) {
    // The MPS control daemon's pipe and log directories, per resource.
    const std::string root = config.mps_root + "/" + resource.name.substr(resource.name.find('/') + 1);
    out.envs["CUDA_MPS_PIPE_DIRECTORY"] = root + "/pipe";
    out.envs["CUDA_MPS_LOG_DIRECTORY"] = root + "/log";
    out.mounts.push_back({.container_path = root, .host_path = root, .read_only = false});
  }
  return out;
}

}  // namespace gpufleet::agent
