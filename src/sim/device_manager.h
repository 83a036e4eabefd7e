// DeviceManager: the kubelet's side of the device plugin API v1beta1, as a simulated node runs
// it. It serves Registration on <plugin_dir>/kubelet.sock; on Register it dials the plugin back,
// reads its options and follows its ListAndWatch stream, so the node's capacity and allocatable
// for each extended resource come from what the plugin (the real agent) advertises. Allocate
// picks healthy free devices (asking GetPreferredAllocation when the plugin offers it) and calls
// the plugin's Allocate, as the kubelet does at container creation.
//
// A plugin whose stream ends keeps its capacity but has no allocatable devices until it
// registers again (the kubelet's behaviour when a plugin dies).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace gpufleet::sim {

struct ResourceDevices {
  int64_t capacity = 0;   // devices advertised
  int64_t allocatable = 0;  // healthy ones, while the plugin is connected
};

struct DeviceAllocation {
  std::string resource;
  std::vector<std::string> device_ids;
  std::map<std::string, std::string> envs;  // from the plugin (NVIDIA_VISIBLE_DEVICES, ...)
  std::map<std::string, std::string> annotations;
};

class DeviceManager {
 public:
  // `on_change` runs (on a gRPC thread, without the manager's lock) whenever a resource's counts
  // change; it must not block for long.
  DeviceManager(std::string plugin_dir, std::function<void()> on_change);
  ~DeviceManager();
  DeviceManager(const DeviceManager&) = delete;
  DeviceManager& operator=(const DeviceManager&) = delete;

  // Removes stale plugin sockets (the kubelet wipes them when it starts) and serves
  // kubelet.sock. Errors name the socket.
  Status Start();
  void Stop();

  std::map<std::string, ResourceDevices> Resources() const;
  // Reserves `count` healthy, free devices of `resource` for `owner` (a pod uid) and calls the
  // plugin's Allocate for them. Errors: unknown resource, too few free healthy devices, the
  // plugin's own error (kResourceExhausted / kUnavailable, naming the resource).
  Result<DeviceAllocation> Allocate(const std::string& owner, const std::string& resource, int64_t count);
  // Returns `owner`'s devices to the free pool.
  void Release(const std::string& owner);
  // Re-reserves devices an owner held before a restart (ids the plugin still advertises).
  void Restore(const std::string& owner, const std::string& resource, const std::vector<std::string>& device_ids);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace gpufleet::sim
