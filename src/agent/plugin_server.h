// DevicePluginServer: one kubelet device plugin (API v1beta1, gRPC on a unix socket) for one
// resource. Order as the kubelet requires: Start() serves the socket and dials it to prove it
// is up, then Register() tells the kubelet (which dials back synchronously within 10 s).
// ListAndWatch sends the full list at once and again on every health change; devices come back
// Healthy when the health monitor says so. Allocate and GetPreferredAllocation never block on
// NVML: they work from the device list and link matrix built at start.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/allocate.h"
#include "agent/config.h"
#include "agent/preferred.h"
#include "agent/resources.h"
#include "core/status.h"

namespace grpc {
class Server;
}

namespace gpufleet::agent {

class DevicePluginService;  // plugin_server.cc
struct PluginState;

class DevicePluginServer {
 public:
  DevicePluginServer(std::string plugin_dir, PluginResource resource, AgentConfig config, LinkMatrix links,
                     std::vector<std::string> control_devices);
  ~DevicePluginServer();

  // Removes a stale socket, serves, and checks the socket answers.
  Status Start();
  // Registration.Register with the kubelet at `kubelet_socket`: fails at once when nothing listens
  // there; otherwise waits up to 15 s (the kubelet dials back within 10 s).
  Status Register(const std::string& kubelet_socket);
  // Ends every ListAndWatch stream (the kubelet sees the plugin go) and stops serving.
  void Stop();

  // A GPU's health changed: update its devices and push the list to every ListAndWatch stream.
  void SetGpuHealth(unsigned gpu_index, bool healthy, const std::string& reason);

  const std::string& resource_name() const;
  PluginResource Snapshot() const;  // the devices and their health now
  std::string socket_path() const { return plugin_dir_ + "/" + socket_name_; }
  std::string socket_name() const { return socket_name_; }
  bool serving() const { return server_ != nullptr; }

 private:
  std::string plugin_dir_;
  std::string socket_name_;
  std::shared_ptr<PluginState> state_;
  std::unique_ptr<DevicePluginService> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace gpufleet::agent
