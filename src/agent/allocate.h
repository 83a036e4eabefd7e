// What a container gets for the devices the kubelet allocated (the AllocateResponse of one
// container), per the configured device list strategies, as NVIDIA's plugin builds it:
//   envvar           NVIDIA_VISIBLE_DEVICES=<id>,<id>
//   volume-mounts    NVIDIA_VISIBLE_DEVICES=/var/run/nvidia-container-devices and one mount of
//                    /dev/null at /var/run/nvidia-container-devices/<id> per device
//   cdi-annotations  cdi.k8s.io/nvidia-device-plugin_<key>=nvidia.com/gpu=<id>,...
//   cdi-cri          CDI devices nvidia.com/gpu=<id>
// plus DeviceSpecs for /dev/nvidiaN and the control devices with passDeviceSpecs. Replicas of a
// shared GPU resolve to the GPU (listed once); ids follow the device ID strategy (uuid | index).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/resources.h"
#include "core/status.h"

namespace gpufleet::agent {

struct MountSpec {
  std::string container_path, host_path;
  bool read_only = false;
};
struct DeviceNodeSpec {
  std::string container_path, host_path, permissions;
};

struct ContainerAllocation {
  std::map<std::string, std::string> envs;
  std::vector<MountSpec> mounts;
  std::vector<DeviceNodeSpec> devices;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> cdi_devices;
};

// `control_devices`: those of /dev/nvidiactl, /dev/nvidia-uvm, /dev/nvidia-uvm-tools and
// /dev/nvidia-modeset that exist on the host (passed only with passDeviceSpecs).
// Errors: an id the resource does not have (kInvalidArgument); more than one replica of a shared
// resource under failRequestsGreaterThanOne (kInvalidArgument, which the kubelet reports as the
// pod's UnexpectedAdmissionError); a device that is unhealthy (kFailedPrecondition).
Result<ContainerAllocation> AllocateContainer(const AgentConfig& config, const PluginResource& resource,
                                              const std::vector<std::string>& ids,
                                              const std::vector<std::string>& control_devices);

}  // namespace gpufleet::agent
