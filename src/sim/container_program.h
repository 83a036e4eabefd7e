// ContainerProgram: what a simulated container does once started. The simulated kubelet never
// runs a process; it runs one of these, chosen from the container's command and image:
//   - nvidia-smi [-L | -q | --query-gpu=... --format=csv...]: prints `gpufleet smi`'s report of
//     the GPUs the device plugin allocated to the container (NVIDIA_VISIBLE_DEVICES), then
//     exits with nvidia-smi's exit code;
//   - gpufleet agent (deploy/agent/daemonset.yaml) or NVIDIA's k8s-device-plugin image: runs the
//     real agent in-process on the node's mock GPUs, registering with the node's device manager,
//     until the container is stopped;
//   - sleep N: exits 0 after N seconds (scaled by --time-scale); echo ...: prints and exits 0;
//   - anything else: a workload that runs until stopped, or for the pod annotation
//     sim.gpufleet.io/run-seconds, exiting with sim.gpufleet.io/exit-code (default 0) after
//     printing sim.gpufleet.io/output.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

namespace gpufleet::core {
class Clock;
}
namespace gpufleet::gpu {
class GpuBackend;
}
namespace gpufleet::kube {
class Client;
}

namespace gpufleet::sim {

class Executor;

struct ProgramContext {
  std::string node, ns, pod, container, image;
  std::vector<std::string> command, args;
  std::map<std::string, std::string> env;  // the container's env, with the device plugin's envs
  std::map<std::string, std::string> annotations;  // the pod's
  double time_scale = 1;
  // Appends to the container's log.
  std::function<void(const std::string& text)> output;
  // The program ended by itself (exit code, reason "Completed" or "Error"); called once.
  std::function<void(int exit_code)> exited;
};

// The node's parts a program may use.
struct ProgramHost {
  Executor* executor = nullptr;
  gpu::GpuBackend* gpus = nullptr;  // null on nodes without GPUs
  std::string plugin_dir;           // the node's device-plugins directory
  std::string machine;              // the instance type (nvidia.com/gpu.machine)
  kube::Client* client = nullptr;
  core::Clock* clock = nullptr;
};

class ContainerProgram {
 public:
  virtual ~ContainerProgram() = default;
  virtual void Start() = 0;
  // The kubelet stops the container (deletion, node shutdown): no `exited` call follows.
  virtual void Stop() = 0;
};

std::unique_ptr<ContainerProgram> MakeProgram(ProgramContext context, const ProgramHost& host);

// Seconds from "30", "1.5", "2m", "100ms": sleep's and the annotation's forms.
std::optional<std::chrono::milliseconds> ParseRunTime(const std::string& text);

}  // namespace gpufleet::sim
