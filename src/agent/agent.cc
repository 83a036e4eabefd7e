#include "agent/agent.h"

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/plugin_dir_watch.h"
#include "core/log.h"

namespace gpufleet::agent {
namespace {

const core::log::Logger kLog("agent");

std::string ReadFirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

}  // namespace

Agent::Agent(gpu::GpuBackend& backend, AgentConfig config, AgentOptions options, kube::Client* client, core::Clock& clock)
    : backend_(backend), config_(std::move(config)), options_(std::move(options)), client_(client), clock_(clock) {
  if (options_.kubelet_socket.empty()) options_.kubelet_socket = options_.plugin_dir + "/kubelet.sock";
  if (options_.machine.empty()) options_.machine = ReadFirstLine("/sys/class/dmi/id/product_name");
}

Agent::~Agent() {
  std::lock_guard lock(mu_);
  for (auto& s : servers_) s->Stop();
}

Status Agent::Init() {
  GF_ASSIGN_OR_RETURN(unsigned count, backend_.DeviceCount());
  gpus_.clear();
  mig_.clear();
  for (unsigned i = 0; i < count; ++i) {
    auto d = backend_.Device(i);
    if (!d.ok()) {
      // A GPU that cannot be read at start is left out; the others are served (#2038).
      kLog.Error("GPU unreadable at start; not advertised", {{"gpu", i}, {"error", d.status()}});
      continue;
    }
    if (d->MigEnabled()) {
      auto mig = backend_.MigDevices(i);
      if (mig.ok()) {
        mig_[i] = std::move(mig).value();
      } else {
        kLog.Error("MIG devices unreadable", {{"gpu", i}, {"error", mig.status()}});
      }
    }
    gpus_.push_back(std::move(d).value());
  }
  GF_ASSIGN_OR_RETURN(auto resources, BuildResources(config_, gpus_, mig_));
  LinkMatrix links(gpus_, [this](unsigned a, unsigned b) { return backend_.CommonAncestor(a, b); });
  std::lock_guard lock(mu_);
  servers_.clear();
  for (auto& r : resources) {
    if (r.devices.empty()) continue;
    kLog.Info("resource", {{"name", r.name}, {"devices", static_cast<int64_t>(r.devices.size())}});
    servers_.push_back(std::make_unique<DevicePluginServer>(options_.plugin_dir, std::move(r), config_, links,
                                                            ControlDevices()));
  }
  if (servers_.empty()) kLog.Info("no NVIDIA GPUs on this node; nothing to advertise");
  return OkStatus();
}

std::vector<std::string> Agent::ControlDevices() const {
  std::vector<std::string> out;
  for (const char* dev : {"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"}) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(options_.dev_root) / (dev + 1), ec)) out.push_back(dev);
  }
  return out;
}

std::vector<PluginResource> Agent::Resources() const {
  std::lock_guard lock(mu_);
  std::vector<PluginResource> out;
  for (const auto& s : servers_) out.push_back(s->Snapshot());
  return out;
}

LabelMap Agent::CurrentLabels() {
  LabelInputs in;
  auto system = backend_.System();
  if (system.ok()) in.system = *system;
  // Fresh readings for what changes (memory in use does not matter; MIG layout may).
  in.gpus = gpus_;
  in.mig = mig_;
  in.machine = options_.machine;
  if (options_.timestamp_label) {
    in.timestamp = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  }
  return GfdLabels(config_, in);
}

void Agent::LabelLoop(std::stop_token stop) {
  do {
    LabelMap labels = CurrentLabels();
    if (client_ != nullptr && !options_.node_name.empty()) {
      Status s = ApplyNodeLabels(*client_, options_.node_name, labels);
      if (!s.ok()) kLog.Warn("node labels not applied", {{"node", options_.node_name}, {"error", s}});
    }
    if (!options_.features_file.empty()) {
      Status s = WriteFeatureFile(options_.features_file, labels);
      if (!s.ok()) kLog.Warn("features file not written", {{"path", options_.features_file}, {"error", s}});
    }
  } while (clock_.SleepFor(options_.label_interval, stop));
}

void Agent::ServeAndRegister(std::stop_token stop) {
  PluginDirWatcher watcher(options_.plugin_dir, options_.kubelet_socket, options_.poll_interval);
  while (!stop.stop_requested()) {
    std::vector<std::string> sockets;
    bool all_registered = true;
    {
      std::lock_guard lock(mu_);
      for (auto& s : servers_) {
        if (!s->serving()) {
          Status started = s->Start();
          if (!started.ok()) {
            kLog.Error("cannot serve the device plugin", {{"resource", s->resource_name()}, {"error", started}});
            all_registered = false;
            continue;
          }
        }
        sockets.push_back(s->socket_name());
      }
    }
    watcher.Mark();  // before registering: a kubelet restart from now on is noticed
    // Register without holding mu_: a Register waits up to 15 s for the kubelet, and health
    // changes (which take mu_) must reach ListAndWatch meanwhile. The servers outlive this loop:
    // only Init() replaces them, and it does not run while Run() does.
    std::vector<DevicePluginServer*> serving;
    {
      std::lock_guard lock(mu_);
      for (auto& s : servers_) {
        if (s->serving()) serving.push_back(s.get());
      }
    }
    for (DevicePluginServer* s : serving) {
      Status registered = s->Register(options_.kubelet_socket);
      if (registered.ok()) {
        ++registrations_;
      } else {
        kLog.Warn("registration failed; retrying", {{"resource", s->resource_name()}, {"error", registered}});
        all_registered = false;
      }
    }
    // Wait for a reason to register again; until everything registered, retry on a timer too.
    std::optional<std::string> reason;
    while (!stop.stop_requested()) {
      const auto timeout = all_registered ? std::chrono::milliseconds(std::chrono::seconds(1)) : options_.register_retry;
      reason = watcher.Wait(sockets, timeout, stop);
      if (!reason) return;
      if (!reason->empty()) break;
      if (options_.restart_requested != nullptr && options_.restart_requested->exchange(false)) {
        reason = "restart requested (SIGHUP)";
        break;
      }
      if (!all_registered) break;
    }
    if (stop.stop_requested()) break;
    if (!reason->empty()) kLog.Info("registering again", {{"reason", *reason}});
    std::lock_guard lock(mu_);
    if (!reason->empty()) {
      for (auto& s : servers_) s->Stop();  // serve afresh: the kubelet dials new sockets
    }
  }
}

void Agent::Run(std::stop_token stop) {
  std::vector<std::jthread> threads;
  HealthMonitor health(backend_, clock_, options_.health, [this](unsigned gpu, bool healthy, const std::string& reason) {
    if (healthy) {
      kLog.Info("GPU healthy again", {{"gpu", gpu}});
    } else {
      kLog.Warn("GPU unhealthy", {{"gpu", gpu}, {"reason", reason}});
    }
    std::lock_guard lock(mu_);
    for (auto& s : servers_) s->SetGpuHealth(gpu, healthy, reason);
  });
  bool any_servers;
  {
    std::lock_guard lock(mu_);
    any_servers = !servers_.empty();
  }
  if (any_servers && !options_.health.disabled) threads.emplace_back([&](std::stop_token s) { health.Run(s); });
  if (!gpus_.empty() && (client_ != nullptr || !options_.features_file.empty())) {
    threads.emplace_back([this](std::stop_token s) { LabelLoop(s); });
  }
  if (any_servers) {
    ServeAndRegister(stop);
  } else {
    while (clock_.SleepFor(std::chrono::hours(1), stop)) {
    }
  }
  for (auto& t : threads) t.request_stop();
  threads.clear();
  std::lock_guard lock(mu_);
  for (auto& s : servers_) s->Stop();
}

}  // namespace gpufleet::agent
