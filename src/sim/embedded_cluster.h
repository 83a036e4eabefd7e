// EmbeddedCluster: `gpufleet up`, everything on loopback in one process, each part the real one
// talking to the others over its real interface:
//   - the API server (HTTPS, kubeconfig with an EKS-style context name) on DIR/state.db;
//   - the EC2 + SSM emulator (SigV4) on DIR/ec2, seeded with an active g6e.2xlarge ODCR;
//   - the provisioner (Karpenter-compatible controller) with the AWS provider pointed at it;
//   - the simulated nodes (kubelets, device managers, the real agent on mock NVML), the pod
//     binder and the DaemonSet controller.
// Start installs the seed's objects on first start (bootstrap.h) and writes DIR/kubeconfig and
// DIR/env. The data directory is locked while the cluster runs (DIR/gpufleet.lock holds the pid).
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "sim/delays.h"

namespace gpufleet::apiserver {
class ApiServer;
}
namespace gpufleet::cloud::ec2emu {
class Emulator;
}
namespace gpufleet::provisioner {
class Controller;
}

namespace gpufleet::sim {

class NodeFleet;

struct UpOptions {
  std::string data_dir;  // absolute or relative; created when missing
  double time_scale = 1;
  std::string region = "us-west-2";
  std::string cluster_name = "gpufleet";
  std::string account_id = "111122223333";
  std::string api_listen = "127.0.0.1:6443";
  std::string ec2_listen = "127.0.0.1:4566";
  std::string instance_data;  // data/aws-instance-types.json (default: found beside the binary)
  std::string gpu_models;     // data/gpu-models.json
  bool durable = true;        // fsync the API server's commits (off only for benchmarks)
};

// The lock file's pid when a cluster holds DIR's lock, else 0.
int RunningPid(const std::string& data_dir);

class EmbeddedCluster {
 public:
  // Starts every part, or none: on an error whatever started is stopped again and the lock
  // released. Errors name the part, the address or the file at fault.
  static Result<std::unique_ptr<EmbeddedCluster>> Start(UpOptions options);
  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  void Stop();

  const std::string& kubeconfig_path() const { return kubeconfig_; }
  const std::string& env_path() const { return env_file_; }
  std::string api_url() const;
  std::string ec2_endpoint() const;
  std::string context_name() const;
  // The shell exports written to DIR/env.
  std::string EnvText() const;

  apiserver::ApiServer& api() { return *api_; }
  cloud::ec2emu::Emulator& ec2() { return *ec2_; }
  NodeFleet& nodes();
  provisioner::Controller& controller();

  struct Parts;

 private:
  EmbeddedCluster() = default;
  Status Init(UpOptions options);

  UpOptions options_;
  SimDelays delays_;
  int lock_fd_ = -1;
  std::string run_dir_, kubeconfig_, env_file_;
  std::unique_ptr<apiserver::ApiServer> api_;
  std::unique_ptr<cloud::ec2emu::Emulator> ec2_;
  std::unique_ptr<Parts> parts_;
  std::vector<std::jthread> threads_;
  bool stopped_ = false;
};

}  // namespace gpufleet::sim
