// Agent: everything `gpufleet agent` runs on a GPU node, as a class so `gpufleet up`'s simulated
// nodes run the same code in-process against a mock backend.
//   1. Init: read the GPUs, build the resources (resources.h) and the link matrix once.
//   2. Run: serve each resource's device plugin, then register it with the kubelet; on
//      kubelet.sock re-created, a socket removed, or a restart request, stop, serve and register
//      again. Registration that fails (no kubelet yet) is retried every register_retry.
//   3. Alongside: the health monitor (health.h) feeding every plugin's ListAndWatch, and the
//      labeller (labels.h) applying GFD labels to the Node every label_interval.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/health.h"
#include "agent/labels.h"
#include "agent/plugin_server.h"
#include "agent/resources.h"
#include "core/clock.h"
#include "core/status.h"
#include "gpu/backend.h"

namespace gpufleet::kube {
class Client;
}

namespace gpufleet::agent {

struct AgentOptions {
  std::string plugin_dir = "/var/lib/kubelet/device-plugins";
  std::string kubelet_socket;  // default: plugin_dir/kubelet.sock
  std::string dev_root = "/";  // where /dev/nvidiactl etc. are looked for (passDeviceSpecs)
  std::string node_name;       // labels go to this Node (empty: no Node labels)
  std::string machine;         // nvidia.com/gpu.machine; default /sys/class/dmi/id/product_name
  std::string features_file;   // NFD features.d file to write (empty: none)
  bool timestamp_label = true;
  std::chrono::milliseconds label_interval{std::chrono::seconds(60)};
  std::chrono::milliseconds poll_interval{std::chrono::seconds(5)};
  std::chrono::milliseconds register_retry{std::chrono::seconds(5)};
  HealthOptions health;
  std::atomic<bool>* restart_requested = nullptr;  // set by SIGHUP: serve and register again
};

class Agent {
 public:
  // `client` may be null (no Node labels). Not owned; must outlive the agent.
  Agent(gpu::GpuBackend& backend, AgentConfig config, AgentOptions options, kube::Client* client, core::Clock& clock);
  ~Agent();

  // Reads the GPUs and builds the plugins. Errors (no NVML, MIG single on mixed GPUs) are returned
  // for the caller to apply failOnInitError.
  Status Init();
  // Runs until `stop`. Returns after every plugin stopped.
  void Run(std::stop_token stop);

  // What each plugin advertises now (device ids and health).
  std::vector<PluginResource> Resources() const;
  // Registrations with the kubelet so far (a counter for tests and the log).
  int registrations() const { return registrations_.load(); }
  LabelMap CurrentLabels();

 private:
  void ServeAndRegister(std::stop_token stop);
  void LabelLoop(std::stop_token stop);
  std::vector<std::string> ControlDevices() const;

  gpu::GpuBackend& backend_;
  AgentConfig config_;
  AgentOptions options_;
  kube::Client* client_;
  core::Clock& clock_;
  std::vector<gpu::DeviceInfo> gpus_;
  MigMap mig_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<DevicePluginServer>> servers_;
  std::atomic<int> registrations_{0};
};

}  // namespace gpufleet::agent
