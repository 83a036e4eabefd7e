#include "sim/node_fleet.h"

#include <atomic>
#include <thread>

#include "cloud/aws/instance_types.h"
#include "cloud/aws/user_data.h"
#include "core/log.h"
#include "kube/encoding.h"

namespace gpufleet::sim {
namespace {

const core::log::Logger kLog("sim.nodes");
constexpr const char* kByNode = "spec.nodeName";

std::string NodeNameOf(const nlohmann::json& pod) {
  if (!pod.contains("spec") || !pod["spec"].is_object()) return "";
  return pod["spec"].value("nodeName", "");
}

}  // namespace

Result<NodeIdentity> IdentityOf(const nlohmann::json& instance, const cloud::aws::Ec2InstanceType& type,
                                const std::string& region) {
  NodeIdentity id;
  id.instance_id = instance.value("instanceId", "");
  id.instance_type = instance.value("instanceType", "");
  id.zone = instance.contains("placement") ? instance["placement"].value("availabilityZone", "") : "";
  id.name = instance.value("privateDnsName", "");
  id.private_ip = instance.value("privateIpAddress", "");
  id.region = region;
  if (id.instance_id.empty() || id.name.empty() || id.zone.empty()) {
    return InvalidArgumentError("instance " + instance.dump().substr(0, 200) + ": no instanceId, privateDnsName or zone");
  }
  id.provider_id = "aws:///" + id.zone + "/" + id.instance_id;

  cloud::aws::NodeConfigSummary config;
  if (std::string encoded = instance.value("_userData", ""); !encoded.empty()) {
    auto text = kube::Base64Decode(encoded);
    if (!text.ok()) return InvalidArgumentError("instance " + id.instance_id + ": user data is not base64");
    auto parsed = cloud::aws::ParseAl2023UserData(*text);
    if (!parsed.ok()) {
      return InvalidArgumentError("instance " + id.instance_id + ": user data: " + std::string(parsed.status().message()));
    }
    config = std::move(*parsed);
  }
  // The kubelet's own labels, the cloud provider's, then --node-labels.
  id.labels = cloud::aws::InstanceTypeLabels(type);
  id.labels["kubernetes.io/hostname"] = id.name;
  id.labels["kubernetes.io/os"] = "linux";
  id.labels["kubernetes.io/arch"] = type.arch;
  id.labels["beta.kubernetes.io/os"] = "linux";
  id.labels["beta.kubernetes.io/arch"] = type.arch;
  id.labels["node.kubernetes.io/instance-type"] = type.name;
  id.labels["beta.kubernetes.io/instance-type"] = type.name;
  id.labels["topology.kubernetes.io/region"] = region;
  id.labels["topology.kubernetes.io/zone"] = id.zone;
  id.labels["failure-domain.beta.kubernetes.io/region"] = region;
  id.labels["failure-domain.beta.kubernetes.io/zone"] = id.zone;
  for (const auto& [k, v] : config.labels) id.labels[k] = v;
  id.taints = config.taints;

  const scheduling::InstanceType shape = cloud::aws::ToSchedulingType(type);
  for (const auto& [name, q] : shape.capacity) {
    // Extended resources appear when their device plugins register, not before.
    if (name.find('/') != std::string::npos) continue;
    id.capacity.Set(name, q);
  }
  for (const auto& [name, q] : shape.allocatable) {
    if (name.find('/') != std::string::npos) continue;
    id.allocatable.Set(name, q);
  }
  if (config.max_pods) {
    id.capacity.Set("pods", core::Quantity::FromInt(*config.max_pods));
    id.allocatable.Set("pods", core::Quantity::FromInt(*config.max_pods));
  }
  if (type.gpu && type.gpu->manufacturer == "NVIDIA" && type.gpu->count > 0) id.gpu_machine = type.name;
  return id;
}

NodeFleet::NodeFleet(KubeletEnv env, std::map<std::string, cloud::aws::Ec2InstanceType> types, std::string region)
    : env_(std::move(env)), types_(std::move(types)), region_(std::move(region)) {
  pods_ = std::make_unique<kube::Informer>(*env_.client, kube::StrippedInformerOptions({"", "v1", "pods", true}),
                                           *env_.clock);
  pods_->AddIndex(kByNode, [](const nlohmann::json& pod) { return std::vector<std::string>{NodeNameOf(pod)}; });
  pods_->AddEventHandler({
      .on_add = [this](const kube::ObjectPtr& pod) { Dispatch(*pod); },
      .on_update = [this](const kube::ObjectPtr&, const kube::ObjectPtr& pod) { Dispatch(*pod); },
      .on_delete =
          [this](const kube::ObjectPtr& pod) {
            if (auto kubelet = Find(NodeNameOf(*pod))) kubelet->ForgetPod((*pod)["metadata"].value("uid", ""));
          },
  });
  nodes_ = std::make_unique<kube::Informer>(*env_.client, kube::StrippedInformerOptions({"", "v1", "nodes", false}),
                                            *env_.clock);
  nodes_->AddEventHandler({.on_delete = [this](const kube::ObjectPtr& node) {
    const std::string name = (*node)["metadata"].value("name", "");
    auto kubelet = Find(name);
    if (kubelet && kubelet->registered()) {
      kLog.Info("node deleted; its kubelet stops", {{"node", name}});
      std::string instance = kubelet->identity().instance_id;
      env_.executor->Post([this, instance] { Remove(instance); });
    }
  }});
}

NodeFleet::~NodeFleet() { StopAll(); }

void NodeFleet::StopAll() {
  std::map<std::string, std::shared_ptr<SimulatedKubelet>> all;
  {
    std::lock_guard lock(mu_);
    all.swap(by_instance_);
    by_node_.clear();
  }
  // In parallel: a kubelet's stop waits on its agent and two gRPC servers (about a second), and
  // a thousand of them one after another would outlast any shutdown timeout.
  std::vector<std::shared_ptr<SimulatedKubelet>> kubelets;
  for (auto& [_, k] : all) kubelets.push_back(k);
  std::atomic<size_t> next{0};
  std::vector<std::jthread> stoppers;
  const size_t n = std::min<size_t>(kubelets.size(), 32);
  for (size_t i = 0; i < n; ++i) {
    stoppers.emplace_back([&] {
      for (size_t k = next++; k < kubelets.size(); k = next++) kubelets[k]->Stop();
    });
  }
}

size_t NodeFleet::size() const {
  std::lock_guard lock(mu_);
  return by_instance_.size();
}

std::shared_ptr<SimulatedKubelet> NodeFleet::Find(const std::string& node_name) const {
  std::lock_guard lock(mu_);
  auto it = by_node_.find(node_name);
  return it == by_node_.end() ? nullptr : it->second;
}

bool NodeFleet::Ready() const { return pods_->HasSynced() && nodes_->HasSynced(); }

void NodeFleet::InstanceRunning(const nlohmann::json& instance) {
  // The boot hook and the reconcile loop both call this; one instance must get one kubelet (a
  // second would wipe the first one's sockets).
  std::lock_guard starting(start_mu_);
  const std::string id = instance.value("instanceId", "");
  const std::string type_name = instance.value("instanceType", "");
  {
    std::lock_guard lock(mu_);
    if (by_instance_.contains(id)) return;
  }
  auto type = types_.find(type_name);
  if (type == types_.end()) {
    kLog.Error("no simulated node for an instance of an unknown type", {{"instance", id}, {"type", type_name}});
    return;
  }
  auto identity = IdentityOf(instance, type->second, region_);
  if (!identity.ok()) {
    kLog.Error("no simulated node for this instance", {{"instance", id}, {"error", identity.status()}});
    return;
  }
  auto kubelet = std::make_shared<SimulatedKubelet>(env_, std::move(*identity));
  if (Status s = kubelet->Start(); !s.ok()) {
    kLog.Error("simulated node failed to start", {{"instance", id}, {"error", s}});
    return;
  }
  {
    std::lock_guard lock(mu_);
    by_instance_[id] = kubelet;
    by_node_[kubelet->identity().name] = kubelet;
  }
  kLog.Info("simulated node booting", {{"instance", id}, {"node", kubelet->identity().name}, {"type", type_name}});
  // Pods already bound to this node (a restart) are handed over now.
  if (pods_->HasSynced()) {
    for (const auto& pod : pods_->ByIndex(kByNode, kubelet->identity().name)) kubelet->SyncPod(*pod);
  }
}

void NodeFleet::Reconcile(const std::vector<nlohmann::json>& running) {
  std::set<std::string> ids;
  for (const auto& instance : running) {
    ids.insert(instance.value("instanceId", ""));
    InstanceRunning(instance);
  }
  std::vector<std::string> gone;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, _] : by_instance_) {
      if (!ids.contains(id)) gone.push_back(id);
    }
  }
  for (const auto& id : gone) Remove(id);
}

void NodeFleet::Remove(const std::string& instance_id) {
  std::shared_ptr<SimulatedKubelet> kubelet;
  {
    std::lock_guard lock(mu_);
    auto it = by_instance_.find(instance_id);
    if (it == by_instance_.end()) return;
    kubelet = it->second;
    by_instance_.erase(it);
    by_node_.erase(kubelet->identity().name);
  }
  kubelet->Stop();
}

void NodeFleet::Dispatch(const nlohmann::json& pod) {
  if (auto kubelet = Find(NodeNameOf(pod))) kubelet->SyncPod(pod);
}

void NodeFleet::Run(std::stop_token stop) {
  std::jthread nodes([this](std::stop_token s) { nodes_->Run(s); });
  std::jthread pods([this](std::stop_token s) { pods_->Run(s); });
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait(lock, stop, [] { return false; });
  nodes.request_stop();
  pods.request_stop();
}

}  // namespace gpufleet::sim
