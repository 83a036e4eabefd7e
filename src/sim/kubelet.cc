// The simulated kubelet's node side: registration, readiness and device plugin resources.
// Pods are in kubelet_pods.cc.
#include "sim/kubelet.h"

#include <functional>

#include "core/log.h"
#include "core/time_format.h"
#include "gpu/mock_backend.h"
#include "gpu/models.h"
#include "kube/client.h"
#include "kube/types/node.h"

namespace gpufleet::sim {
namespace {

const core::log::Logger kLog("sim.kubelet");
const kube::Gvr kNodes = kube::Node::Resource();

// What an EKS AL2023 node reports (the versions of the AMI the emulator's SSM parameters name).
constexpr const char* kKubeletVersion = "v1.32.3-eks-473151a";
constexpr const char* kRuntimeVersion = "containerd://1.7.27";
constexpr const char* kOsImage = "Amazon Linux 2023.7.20250512";
constexpr const char* kKernel = "6.1.134-152.225.amzn2023.x86_64";

nlohmann::json ResourcesJson(const core::ResourceList& list) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, q] : list) out[name] = q.String();
  return out;
}

std::string StableHex(const std::string& seed, int length) {
  std::string out;
  size_t h = std::hash<std::string>{}(seed);
  while (static_cast<int>(out.size()) < length) {
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016zx", h);
    out += buf;
    h = std::hash<std::string>{}(out);
  }
  return out.substr(0, length);
}

}  // namespace

SimulatedKubelet::SimulatedKubelet(KubeletEnv& env, NodeIdentity identity) : env_(env), id_(std::move(identity)) {}

SimulatedKubelet::~SimulatedKubelet() { Stop(); }

std::string SimulatedKubelet::plugin_dir() const { return env_.run_dir + "/" + id_.instance_id + "/device-plugins"; }

bool SimulatedKubelet::registered() const {
  std::lock_guard lock(mu_);
  return registered_;
}

Status SimulatedKubelet::Start() {
  if (!id_.gpu_machine.empty()) {
    auto catalog = gpu::LoadGpuCatalog(env_.gpu_catalog_path);
    if (!catalog.ok()) return catalog.status();
    auto machine = gpu::ResolveMockMachine(*catalog, id_.gpu_machine);
    if (!machine.ok()) return machine.status();
    gpus_ = std::make_unique<gpu::MockGpuBackend>(std::move(*machine), id_.instance_id);
  }
  LoadCheckpoint();
  std::weak_ptr<SimulatedKubelet> weak = weak_from_this();
  devices_ = std::make_unique<DeviceManager>(plugin_dir(), [weak, this] {
    // From a gRPC thread: the status write goes through the executor.
    env_.executor->Post([weak] {
      if (auto self = weak.lock()) self->PublishDevices();
    });
  });
  if (Status s = devices_->Start(); !s.ok()) return s;
  env_.executor->After(env_.delays.kubelet_register, [weak] {
    if (auto self = weak.lock()) self->Register();
  });
  return OkStatus();
}

void SimulatedKubelet::Stop() {
  std::map<std::string, std::shared_ptr<PodRun>> pods;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    pods.swap(pods_);
  }
  // The device manager first: its plugins' streams then end quietly as the agent stops.
  if (devices_) devices_->Stop();
  for (auto& [_, run] : pods) StopProgram(run);
}

nlohmann::json SimulatedKubelet::NodeStatus(bool ready) const {
  const std::string now = core::FormatRfc3339(env_.clock->Now());
  auto condition = [&](const char* type, bool status, const char* reason, const char* message) {
    return nlohmann::json{{"type", type},          {"status", status ? "True" : "False"},
                          {"reason", reason},      {"message", message},
                          {"lastHeartbeatTime", now}, {"lastTransitionTime", now}};
  };
  core::ResourceList capacity = id_.capacity, allocatable = id_.allocatable;
  if (devices_) {
    for (const auto& [resource, d] : devices_->Resources()) {
      capacity.Set(resource, core::Quantity::FromInt(d.capacity));
      allocatable.Set(resource, core::Quantity::FromInt(d.allocatable));
    }
  }
  return {
      {"capacity", ResourcesJson(capacity)},
      {"allocatable", ResourcesJson(allocatable)},
      {"conditions",
       {condition("MemoryPressure", false, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        condition("DiskPressure", false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        condition("PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        ready ? condition("Ready", true, "KubeletReady", "kubelet is posting ready status")
              : condition("Ready", false, "KubeletNotReady",
                          "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                          "message:Network plugin returns error: cni plugin not initialized")}},
      {"addresses",
       {{{"type", "InternalIP"}, {"address", id_.private_ip}},
        {{"type", "InternalDNS"}, {"address", id_.name}},
        {{"type", "Hostname"}, {"address", id_.name}}}},
      {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
      {"nodeInfo",
       {{"architecture", id_.labels.contains("kubernetes.io/arch") ? id_.labels.find("kubernetes.io/arch")->second.str() : "amd64"},
        {"bootID", StableHex(id_.instance_id + "boot", 32)},
        {"containerRuntimeVersion", kRuntimeVersion},
        {"kernelVersion", kKernel},
        {"kubeProxyVersion", kKubeletVersion},
        {"kubeletVersion", kKubeletVersion},
        {"machineID", StableHex(id_.instance_id + "machine", 32)},
        {"operatingSystem", "linux"},
        {"osImage", kOsImage},
        {"systemUUID", "ec2" + StableHex(id_.instance_id, 29)}}},
  };
}

void SimulatedKubelet::Register() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
  }
  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [k, v] : id_.labels) labels[k.str()] = v.str();
  nlohmann::json taints = nlohmann::json::array();
  for (const auto& t : id_.taints) taints.push_back(core::ToJson(t));
  nlohmann::json node = {{"apiVersion", "v1"},
                         {"kind", "Node"},
                         {"metadata", {{"name", id_.name}, {"labels", labels}}},
                         {"spec", {{"providerID", id_.provider_id}}},
                         {"status", NodeStatus(false)}};
  if (!taints.empty()) node["spec"]["taints"] = taints;
  auto created = env_.client->Create(kNodes, "", node);
  bool restarted = false;
  if (!created.ok() && created.status().code() == StatusCode::kAlreadyExists) {
    // The node restarted (gpufleet down / up): the Node keeps what Karpenter and the agent put
    // on it; the kubelet posts its status again.
    restarted = true;
  } else if (!created.ok()) {
    kLog.Warn("registering the node failed; retrying", {{"node", id_.name}, {"error", created.status()}});
    std::weak_ptr<SimulatedKubelet> weak = weak_from_this();
    env_.executor->After(std::chrono::seconds(1), [weak] {
      if (auto self = weak.lock()) self->Register();
    });
    return;
  }
  {
    std::lock_guard lock(mu_);
    registered_ = true;
  }
  auto patched = env_.client->Patch(kNodes, "", id_.name, kube::PatchType::kMerge, {{"status", NodeStatus(restarted)}}, {},
                                    "status");
  if (!patched.ok()) kLog.Warn("posting node status failed", {{"node", id_.name}, {"error", patched.status()}});
  kLog.Info("node registered", {{"node", id_.name}, {"instance", id_.instance_id}, {"type", id_.instance_type}});
  if (restarted) {
    std::lock_guard lock(mu_);
    ready_ = true;
    return;
  }
  std::weak_ptr<SimulatedKubelet> weak = weak_from_this();
  env_.executor->After(env_.delays.node_ready, [weak] {
    if (auto self = weak.lock()) self->BecomeReady();
  });
}

void SimulatedKubelet::BecomeReady() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    ready_ = true;
  }
  auto patched = env_.client->Patch(kNodes, "", id_.name, kube::PatchType::kMerge, {{"status", NodeStatus(true)}}, {},
                                    "status");
  if (!patched.ok()) kLog.Warn("posting node status failed", {{"node", id_.name}, {"error", patched.status()}});
}

void SimulatedKubelet::PublishDevices() {
  bool ready = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_ || !registered_) return;  // registration posts the devices known by then
    ready = ready_;
  }
  auto patched = env_.client->Patch(kNodes, "", id_.name, kube::PatchType::kMerge, {{"status", NodeStatus(ready)}}, {},
                                    "status");
  if (!patched.ok()) kLog.Warn("posting device resources failed", {{"node", id_.name}, {"error", patched.status()}});
}

}  // namespace gpufleet::sim
