#include "sim/device_manager.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "core/log.h"
#include "deviceplugin/v1beta1/api.grpc.pb.h"

namespace gpufleet::sim {
namespace {

const core::log::Logger kLog("sim.devices");
constexpr auto kDialTimeout = std::chrono::seconds(10);

// One registered plugin: its stub and the devices its ListAndWatch stream last sent.
struct Plugin {
  std::string endpoint;
  v1beta1::DevicePluginOptions options;
  std::unique_ptr<v1beta1::DevicePlugin::Stub> stub;
  std::map<std::string, bool> healthy;  // device id -> healthy
  bool connected = true;
  grpc::ClientContext watch;
  std::jthread reader;
};

}  // namespace

struct DeviceManager::Impl final : public v1beta1::Registration::Service {
  std::string dir;
  std::function<void()> on_change;
  std::unique_ptr<grpc::Server> server;
  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<Plugin>> plugins;  // by resource name
  struct Held {
    std::string resource;
    std::vector<std::string> ids;
  };
  std::multimap<std::string, Held> held;  // owner -> devices
  std::atomic<bool> stopping{false};

  grpc::Status Register(grpc::ServerContext*, const v1beta1::RegisterRequest* request, v1beta1::Empty*) override {
    if (request->version() != "v1beta1") {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "unsupported device plugin API version \"" + request->version() + "\" (this kubelet speaks v1beta1)");
    }
    const std::string& resource = request->resource_name();
    if (resource.find('/') == std::string::npos || request->endpoint().empty() ||
        request->endpoint().find('/') != std::string::npos) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "invalid registration: resource \"" + resource + "\", endpoint \"" + request->endpoint() + "\"");
    }
    auto plugin = std::make_shared<Plugin>();
    plugin->endpoint = request->endpoint();
    auto channel = grpc::CreateChannel("unix://" + dir + "/" + plugin->endpoint, grpc::InsecureChannelCredentials());
    plugin->stub = v1beta1::DevicePlugin::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kDialTimeout);
    v1beta1::Empty empty;
    if (grpc::Status s = plugin->stub->GetDevicePluginOptions(&ctx, empty, &plugin->options); !s.ok()) {
      return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "cannot dial the plugin at " + plugin->endpoint + ": " + s.error_message());
    }
    std::shared_ptr<Plugin> previous;
    {
      std::lock_guard lock(mu);
      previous = std::exchange(plugins[resource], plugin);
    }
    if (previous) {
      previous->watch.TryCancel();
      previous->reader = {};  // joins
    }
    kLog.Info("device plugin registered", {{"resource", resource}, {"endpoint", plugin->endpoint}});
    std::weak_ptr<Plugin> weak = plugin;
    plugin->reader = std::jthread([this, weak, resource] { Follow(weak, resource); });
    return grpc::Status::OK;
  }

  void Follow(const std::weak_ptr<Plugin>& weak, const std::string& resource) {
    auto plugin = weak.lock();
    if (!plugin) return;
    v1beta1::Empty empty;
    auto stream = plugin->stub->ListAndWatch(&plugin->watch, empty);
    v1beta1::ListAndWatchResponse response;
    while (stream->Read(&response)) {
      {
        std::lock_guard lock(mu);
        plugin->healthy.clear();
        for (const auto& d : response.devices()) plugin->healthy[d.id()] = d.health() == "Healthy";
      }
      on_change();
    }
    grpc::Status s = stream->Finish();
    {
      std::lock_guard lock(mu);
      plugin->connected = false;
    }
    if (s.error_code() != grpc::StatusCode::CANCELLED && !stopping.load()) {
      kLog.Warn("device plugin stream ended; its devices are unallocatable until it registers again",
                {{"resource", resource}, {"code", static_cast<int>(s.error_code())}, {"status", s.error_message()}});
    }
    on_change();
  }
};

DeviceManager::DeviceManager(std::string plugin_dir, std::function<void()> on_change) : impl_(std::make_unique<Impl>()) {
  impl_->dir = std::move(plugin_dir);
  impl_->on_change = std::move(on_change);
}

DeviceManager::~DeviceManager() { Stop(); }

Status DeviceManager::Start() {
  std::error_code ec;
  std::filesystem::create_directories(impl_->dir, ec);
  if (ec) return InternalError("creating " + impl_->dir + ": " + ec.message());
  for (const auto& entry : std::filesystem::directory_iterator(impl_->dir, ec)) {
    if (entry.path().extension() == ".sock") std::filesystem::remove(entry.path(), ec);
  }
  const std::string socket = impl_->dir + "/kubelet.sock";
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix://" + socket, grpc::InsecureServerCredentials());
  builder.RegisterService(impl_.get());
  impl_->server = builder.BuildAndStart();
  if (impl_->server == nullptr) return UnavailableError("cannot serve the kubelet's registration socket " + socket);
  return OkStatus();
}

void DeviceManager::Stop() {
  impl_->stopping = true;
  if (impl_->server) {
    impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    impl_->server->Wait();
    impl_->server.reset();
    std::error_code ec;
    std::filesystem::remove(impl_->dir + "/kubelet.sock", ec);
  }
  std::map<std::string, std::shared_ptr<Plugin>> plugins;
  {
    std::lock_guard lock(impl_->mu);
    plugins.swap(impl_->plugins);
  }
  for (auto& [_, plugin] : plugins) plugin->watch.TryCancel();
  for (auto& [_, plugin] : plugins) plugin->reader = {};
}

std::map<std::string, ResourceDevices> DeviceManager::Resources() const {
  std::lock_guard lock(impl_->mu);
  std::map<std::string, ResourceDevices> out;
  for (const auto& [resource, plugin] : impl_->plugins) {
    ResourceDevices& r = out[resource];
    r.capacity = static_cast<int64_t>(plugin->healthy.size());
    if (plugin->connected) {
      r.allocatable = std::count_if(plugin->healthy.begin(), plugin->healthy.end(), [](const auto& d) { return d.second; });
    }
  }
  return out;
}

Result<DeviceAllocation> DeviceManager::Allocate(const std::string& owner, const std::string& resource, int64_t count) {
  std::shared_ptr<Plugin> plugin;
  std::vector<std::string> free;
  {
    std::lock_guard lock(impl_->mu);
    auto it = impl_->plugins.find(resource);
    if (it == impl_->plugins.end() || !it->second->connected) {
      return UnavailableError("no device plugin serves " + resource + " on this node");
    }
    plugin = it->second;
    std::set<std::string> taken;
    for (const auto& [_, h] : impl_->held) {
      if (h.resource == resource) taken.insert(h.ids.begin(), h.ids.end());
    }
    for (const auto& [id, healthy] : plugin->healthy) {
      if (healthy && !taken.contains(id)) free.push_back(id);
    }
    if (static_cast<int64_t>(free.size()) < count) {
      return ResourceExhaustedError("requested " + std::to_string(count) + " " + resource + ", " +
                                    std::to_string(free.size()) + " free and healthy on this node");
    }
    // Reserve first (the kubelet's admission), so two pods never get the same device.
    impl_->held.emplace(owner, Impl::Held{resource, std::vector<std::string>(free.begin(), free.begin() + count)});
  }
  std::vector<std::string> chosen(free.begin(), free.begin() + count);
  auto undo = [&] {
    std::lock_guard lock(impl_->mu);
    for (auto it = impl_->held.lower_bound(owner); it != impl_->held.upper_bound(owner); ++it) {
      if (it->second.resource == resource) {
        impl_->held.erase(it);
        break;
      }
    }
  };
  if (plugin->options.get_preferred_allocation_available()) {
    v1beta1::PreferredAllocationRequest request;
    auto* c = request.add_container_requests();
    for (const auto& id : free) c->add_available_deviceids(id);
    c->set_allocation_size(static_cast<int32_t>(count));
    v1beta1::PreferredAllocationResponse response;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kDialTimeout);
    if (plugin->stub->GetPreferredAllocation(&ctx, request, &response).ok() && response.container_responses_size() == 1 &&
        response.container_responses(0).deviceids_size() == count) {
      const auto& ids = response.container_responses(0).deviceids();
      chosen.assign(ids.begin(), ids.end());
      std::lock_guard lock(impl_->mu);
      for (auto it = impl_->held.lower_bound(owner); it != impl_->held.upper_bound(owner); ++it) {
        if (it->second.resource == resource) it->second.ids = chosen;
      }
    }
  }
  v1beta1::AllocateRequest request;
  auto* c = request.add_container_requests();
  for (const auto& id : chosen) c->add_devices_ids(id);
  v1beta1::AllocateResponse response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + kDialTimeout);
  grpc::Status s = plugin->stub->Allocate(&ctx, request, &response);
  if (!s.ok() || response.container_responses_size() != 1) {
    undo();
    return UnavailableError("the " + resource + " device plugin refused Allocate: " +
                            (s.ok() ? std::string("no container response") : s.error_message()));
  }
  DeviceAllocation out;
  out.resource = resource;
  out.device_ids = chosen;
  for (const auto& [k, v] : response.container_responses(0).envs()) out.envs[k] = v;
  for (const auto& [k, v] : response.container_responses(0).annotations()) out.annotations[k] = v;
  return out;
}

void DeviceManager::Release(const std::string& owner) {
  std::lock_guard lock(impl_->mu);
  impl_->held.erase(owner);
}

void DeviceManager::Restore(const std::string& owner, const std::string& resource, const std::vector<std::string>& device_ids) {
  std::lock_guard lock(impl_->mu);
  impl_->held.erase(owner);
  impl_->held.emplace(owner, Impl::Held{resource, device_ids});
}

}  // namespace gpufleet::sim
