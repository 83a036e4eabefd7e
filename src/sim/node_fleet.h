// NodeFleet: the embedded cluster's simulated nodes. An EC2 instance that finished booting
// (the emulator's hook, or found running after a restart) gets a SimulatedKubelet, built from
// the instance, its type and its user data (the NodePool's labels and taints as Karpenter wrote
// them for nodeadm). One pod informer feeds every kubelet the pods bound to it; a kubelet stops
// when its instance stops running or its Node is deleted.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cloud/aws/ec2.h"
#include "kube/informer.h"
#include "sim/kubelet.h"

namespace gpufleet::sim {

// The node a booted instance becomes. Errors name the instance and what is wrong (unknown
// type, unreadable user data).
Result<NodeIdentity> IdentityOf(const nlohmann::json& instance, const cloud::aws::Ec2InstanceType& type,
                                const std::string& region);

class NodeFleet {
 public:
  NodeFleet(KubeletEnv env, std::map<std::string, cloud::aws::Ec2InstanceType> types, std::string region);
  ~NodeFleet();

  // An instance became running: start its kubelet (once per instance).
  void InstanceRunning(const nlohmann::json& instance);
  // Brings the fleet in line with the instances running now: starts missing kubelets, stops
  // those whose instances are gone.
  void Reconcile(const std::vector<nlohmann::json>& running);
  // The pod and node informers, until `stop`; then stops every kubelet.
  void Run(std::stop_token stop);
  bool Ready() const;
  // Stops every kubelet (their programs and device managers); the fleet is empty after.
  void StopAll();

  size_t size() const;
  std::shared_ptr<SimulatedKubelet> Find(const std::string& node_name) const;

 private:
  void Dispatch(const nlohmann::json& pod);
  void Remove(const std::string& instance_id);

  KubeletEnv env_;
  std::map<std::string, cloud::aws::Ec2InstanceType> types_;
  std::string region_;
  std::unique_ptr<kube::Informer> pods_, nodes_;
  std::mutex start_mu_;  // serialises InstanceRunning
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<SimulatedKubelet>> by_instance_;
  std::map<std::string, std::shared_ptr<SimulatedKubelet>> by_node_;
};

}  // namespace gpufleet::sim
