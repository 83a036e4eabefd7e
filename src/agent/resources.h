// What the agent advertises to the kubelet: one resource per device plugin socket
// (nvidia.com/gpu, nvidia.com/mig-1g.10gb, nvidia.com/gpu.shared, ...), each with its device ids,
// built from the GPUs a backend reports under the configured MIG strategy, sharing replicas and
// device ID strategy, as NVIDIA's plugin names them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.h"
#include "core/status.h"
#include "gpu/device.h"

namespace gpufleet::agent {

struct PluginDevice {
  std::string id;           // what the kubelet sees: uuid, index, "uuid::n" replicas, MIG uuid
  std::string uuid;         // the GPU's or MIG device's UUID
  std::string index;        // "3", or "3:1" for MIG device 1 of GPU 3
  unsigned gpu_index = 0;   // the physical GPU
  std::optional<int> numa_node;
  std::string device_path;  // /dev/nvidiaN of the physical GPU
  int replica = -1;         // >= 0 for shared replicas
  bool healthy = true;
  std::string unhealthy_reason;
};

struct PluginResource {
  std::string name;         // nvidia.com/gpu
  std::vector<PluginDevice> devices;
  bool shared = false;      // replicas > 1

  // The socket NVIDIA's plugin would use: nvidia-gpu.sock, nvidia-mig-1g.10gb.sock.
  std::string SocketName() const;
  const PluginDevice* Find(const std::string& id) const;
};

// MIG devices per GPU index (only MIG-enabled GPUs have entries).
using MigMap = std::map<unsigned, std::vector<gpu::MigDeviceInfo>>;

// Errors: the MIG `single` strategy on GPUs that are not all MIG-enabled with one profile
// (kFailedPrecondition, with the reason NVIDIA's GFD would label MIG-INVALID).
Result<std::vector<PluginResource>> BuildResources(const AgentConfig& config, const std::vector<gpu::DeviceInfo>& gpus,
                                                   const MigMap& mig);

// nvidia.com/mig-<profile> for a MIG profile ("1g.10gb+me" -> nvidia.com/mig-1g.10gb.me).
std::string MigResourceName(const std::string& profile);

}  // namespace gpufleet::agent
