// SimulatedKubelet: what a real kubelet does for the embedded cluster's node, minus running
// containers for real:
//   - registers the Node (providerID, its own labels plus --node-labels and --register-with-taints
//     from the instance's user data, capacity and allocatable from the instance type) and turns
//     Ready once its CNI would be up;
//   - runs a device manager (the real device plugin gRPC API on a unix socket) and publishes the
//     plugins' extended resources (nvidia.com/gpu) in capacity and allocatable;
//   - runs the pods bound to it: admission (device allocation), image pull, container start,
//     phases, restarts and Events; a container's program is simulated (container_program.h);
//   - confirms the deletion of its terminating pods (gracePeriodSeconds=0), as a real kubelet
//     does, so drains and `kubectl delete pod` complete.
// Every delayed step runs on the shared Executor; the kubelet holds no thread of its own.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/labels.h"
#include "core/resource_list.h"
#include "core/status.h"
#include "core/taints.h"
#include "sim/delays.h"
#include "sim/device_manager.h"
#include "sim/executor.h"

namespace gpufleet::gpu {
class MockGpuBackend;
}
namespace gpufleet::kube {
class Client;
class EventRecorder;
}

namespace gpufleet::sim {

class ContainerProgram;

// Who the node is: from the EC2 instance, its type and its user data.
struct NodeIdentity {
  std::string name;         // the instance's private DNS name
  std::string provider_id;  // aws:///ZONE/INSTANCE
  std::string instance_id, instance_type, zone, region, private_ip;
  core::Labels labels;                  // the kubelet's own labels and --node-labels
  std::vector<core::Taint> taints;      // --register-with-taints
  core::ResourceList capacity, allocatable;  // without extended resources (plugins add them)
  std::string gpu_machine;              // mock NVML machine profile ("" for a node without GPUs)
};

// What every simulated kubelet shares.
struct KubeletEnv {
  kube::Client* client = nullptr;
  kube::EventRecorder* events = nullptr;
  Executor* executor = nullptr;
  core::Clock* clock = nullptr;
  SimDelays delays;
  double time_scale = 1;
  std::string run_dir;    // a node's sockets go to <run_dir>/<instance id>/device-plugins
  std::string state_dir;  // <state_dir>/<instance id>.json: the device checkpoint (survives up/down)
  std::string gpu_catalog_path;  // data/gpu-models.json
  // Container output for `kubectl logs` (the API server keeps it).
  std::function<Status(const std::string& ns, const std::string& pod, const std::string& container,
                       const std::string& text)>
      write_log;
};

class SimulatedKubelet : public std::enable_shared_from_this<SimulatedKubelet> {
 public:
  SimulatedKubelet(KubeletEnv& env, NodeIdentity identity);
  ~SimulatedKubelet();

  // Builds the GPUs and the device manager, then schedules registration. Errors name the part.
  Status Start();
  // Stops every program and the device manager; the Node object is left to its owner.
  void Stop();

  // A pod bound to this node was added or changed (from the fleet's informer).
  void SyncPod(const nlohmann::json& pod);
  // A pod bound to this node is gone from the API server.
  void ForgetPod(const std::string& uid);

  const NodeIdentity& identity() const { return id_; }
  bool registered() const;
  gpu::MockGpuBackend* gpus() { return gpus_.get(); }
  DeviceManager* devices() { return devices_.get(); }
  std::string plugin_dir() const;

 private:
  struct PodRun;

  void Register();
  void BecomeReady();
  void PublishDevices();
  nlohmann::json NodeStatus(bool ready) const;

  // Pods (kubelet_pods.cc).
  void Admit(const std::shared_ptr<PodRun>& run);
  void StartContainer(const std::shared_ptr<PodRun>& run);
  void ContainerExited(const std::shared_ptr<PodRun>& run, int generation, size_t container, int exit_code);
  void Terminate(const std::shared_ptr<PodRun>& run);
  void Resume(const std::shared_ptr<PodRun>& run);
  void Finish(const std::shared_ptr<PodRun>& run);
  void StopProgram(const std::shared_ptr<PodRun>& run);
  void SaveCheckpoint();
  void LoadCheckpoint();
  void PatchPodStatus(const std::shared_ptr<PodRun>& run, const nlohmann::json& status);
  void Event(const std::shared_ptr<PodRun>& run, std::string_view type, std::string_view reason, const std::string& message);
  nlohmann::json PodStatus(const PodRun& run) const;

  KubeletEnv& env_;
  NodeIdentity id_;
  std::unique_ptr<gpu::MockGpuBackend> gpus_;
  std::unique_ptr<DeviceManager> devices_;
  mutable std::mutex mu_;
  bool stopped_ = false;
  bool registered_ = false;
  bool ready_ = false;
  std::map<std::string, std::shared_ptr<PodRun>> pods_;  // by uid
  // Devices each pod holds, by uid: the kubelet's device checkpoint, read back after a restart.
  std::map<std::string, std::vector<DeviceAllocation>> checkpoint_;
};

}  // namespace gpufleet::sim
