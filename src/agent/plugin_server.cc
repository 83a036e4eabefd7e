#include "agent/plugin_server.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "core/log.h"
#include "deviceplugin/v1beta1/api.grpc.pb.h"

namespace gpufleet::agent {
namespace {

const core::log::Logger kLog("agent.plugin");
constexpr const char* kApiVersion = "v1beta1";

v1beta1::ListAndWatchResponse ToListResponse(const PluginResource& r) {
  v1beta1::ListAndWatchResponse out;
  for (const auto& d : r.devices) {
    v1beta1::Device* dev = out.add_devices();
    dev->set_id(d.id);
    dev->set_health(d.healthy ? "Healthy" : "Unhealthy");
    if (d.numa_node) dev->mutable_topology()->add_nodes()->set_id(*d.numa_node);
  }
  return out;
}

}  // namespace

// What every incarnation of the service shares: the devices and their health survive a restart
// of the server (re-registration) because they live here, not in the gRPC service.
struct PluginState {
  std::mutex mu;
  std::condition_variable cv;
  PluginResource resource;
  AgentConfig config;
  LinkMatrix links;
  std::vector<std::string> control;
  uint64_t version = 1;
  bool stopping = false;
};

class DevicePluginService final : public v1beta1::DevicePlugin::Service {
 public:
  explicit DevicePluginService(std::shared_ptr<PluginState> state) : state_(std::move(state)) {}

  grpc::Status GetDevicePluginOptions(grpc::ServerContext*, const v1beta1::Empty*,
                                      v1beta1::DevicePluginOptions* out) override {
    out->set_pre_start_required(false);
    out->set_get_preferred_allocation_available(true);
    return grpc::Status::OK;
  }

  grpc::Status ListAndWatch(grpc::ServerContext* context, const v1beta1::Empty*,
                            grpc::ServerWriter<v1beta1::ListAndWatchResponse>* writer) override {
    PluginState& st = *state_;
    uint64_t sent = 0;
    std::unique_lock lock(st.mu);
    while (true) {
      if (st.stopping) return grpc::Status::OK;
      if (sent != st.version) {
        v1beta1::ListAndWatchResponse response = ToListResponse(st.resource);
        sent = st.version;
        lock.unlock();
        if (!writer->Write(response)) return grpc::Status::OK;  // the kubelet went away
        lock.lock();
        continue;
      }
      st.cv.wait_for(lock, std::chrono::seconds(1));
      if (context->IsCancelled()) return grpc::Status::OK;
    }
  }

  grpc::Status GetPreferredAllocation(grpc::ServerContext*, const v1beta1::PreferredAllocationRequest* request,
                                      v1beta1::PreferredAllocationResponse* out) override {
    PluginState& st = *state_;
    std::lock_guard lock(st.mu);
    for (const auto& c : request->container_requests()) {
      std::vector<std::string> available(c.available_deviceids().begin(), c.available_deviceids().end());
      std::vector<std::string> must(c.must_include_deviceids().begin(), c.must_include_deviceids().end());
      const size_t size = c.allocation_size() > 0 ? static_cast<size_t>(c.allocation_size()) : 0;
      auto* response = out->add_container_responses();
      for (auto& id : PreferredAllocation(st.resource, st.links, available, must, size)) response->add_deviceids(id);
    }
    return grpc::Status::OK;
  }

  grpc::Status Allocate(grpc::ServerContext*, const v1beta1::AllocateRequest* request,
                        v1beta1::AllocateResponse* out) override {
    PluginState& st = *state_;
    std::lock_guard lock(st.mu);
    for (const auto& c : request->container_requests()) {
      std::vector<std::string> ids(c.devices_ids().begin(), c.devices_ids().end());
      auto allocation = AllocateContainer(st.config, st.resource, ids, st.control);
      if (!allocation.ok()) {
        kLog.Warn("allocation refused", {{"resource", st.resource.name}, {"error", allocation.status()}});
        return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(allocation.status().message()));
      }
      auto* r = out->add_container_responses();
      for (const auto& [k, v] : allocation->envs) (*r->mutable_envs())[k] = v;
      for (const auto& [k, v] : allocation->annotations) (*r->mutable_annotations())[k] = v;
      for (const auto& m : allocation->mounts) {
        auto* mount = r->add_mounts();
        mount->set_container_path(m.container_path);
        mount->set_host_path(m.host_path);
        mount->set_read_only(m.read_only);
      }
      for (const auto& d : allocation->devices) {
        auto* spec = r->add_devices();
        spec->set_container_path(d.container_path);
        spec->set_host_path(d.host_path);
        spec->set_permissions(d.permissions);
      }
      for (const auto& name : allocation->cdi_devices) r->add_cdi_devices()->set_name(name);
      kLog.Info("allocated", {{"resource", st.resource.name}, {"devices", static_cast<int64_t>(ids.size())}});
    }
    return grpc::Status::OK;
  }

  grpc::Status PreStartContainer(grpc::ServerContext*, const v1beta1::PreStartContainerRequest*,
                                 v1beta1::PreStartContainerResponse*) override {
    return grpc::Status::OK;
  }

 private:
  std::shared_ptr<PluginState> state_;
};

DevicePluginServer::DevicePluginServer(std::string plugin_dir, PluginResource resource, AgentConfig config,
                                       LinkMatrix links, std::vector<std::string> control_devices)
    : plugin_dir_(std::move(plugin_dir)), socket_name_(resource.SocketName()), state_(std::make_shared<PluginState>()) {
  state_->resource = std::move(resource);
  state_->config = std::move(config);
  state_->links = std::move(links);
  state_->control = std::move(control_devices);
}

DevicePluginServer::~DevicePluginServer() { Stop(); }

const std::string& DevicePluginServer::resource_name() const { return state_->resource.name; }

PluginResource DevicePluginServer::Snapshot() const {
  std::lock_guard lock(state_->mu);
  return state_->resource;
}

Status DevicePluginServer::Start() {
  Stop();
  std::error_code ec;
  std::filesystem::remove(socket_path(), ec);  // a stale socket from an earlier run
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix://" + socket_path(), grpc::InsecureServerCredentials());
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = false;
  }
  service_ = std::make_unique<DevicePluginService>(state_);
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) return UnavailableError("cannot serve " + socket_path());
  // Dial our own socket (as NVIDIA's plugin does) so a broken socket fails here, not in the kubelet.
  auto channel = grpc::CreateChannel("unix://" + socket_path(), grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(5))) {
    Stop();
    return UnavailableError("the plugin socket " + socket_path() + " does not answer");
  }
  kLog.Info("serving", {{"resource", resource_name()}, {"socket", socket_path()}});
  return OkStatus();
}

Status DevicePluginServer::Register(const std::string& kubelet_socket) {
  auto channel = grpc::CreateChannel("unix://" + kubelet_socket, grpc::InsecureChannelCredentials());
  auto stub = v1beta1::Registration::NewStub(channel);
  v1beta1::RegisterRequest request;
  request.set_version(kApiVersion);
  request.set_endpoint(socket_name_);
  request.set_resource_name(resource_name());
  request.mutable_options()->set_get_preferred_allocation_available(true);
  grpc::ClientContext context;
  // Long enough for the kubelet's synchronous dial-back (up to 10 s); a kubelet that is not there
  // fails at once (no wait-for-ready) and the agent retries on its own schedule.
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(15));
  v1beta1::Empty reply;
  grpc::Status s = stub->Register(&context, request, &reply);
  if (!s.ok()) {
    return UnavailableError("registering " + resource_name() + " with the kubelet at " + kubelet_socket + ": " +
                            s.error_message());
  }
  kLog.Info("registered with the kubelet", {{"resource", resource_name()}, {"endpoint", socket_name_}});
  return OkStatus();
}

void DevicePluginServer::Stop() {
  if (server_ == nullptr) return;
  {
    std::lock_guard lock(state_->mu);
    state_->stopping = true;
    state_->cv.notify_all();
  }
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  server_.reset();
  service_.reset();
  std::error_code ec;
  std::filesystem::remove(socket_path(), ec);
}

void DevicePluginServer::SetGpuHealth(unsigned gpu_index, bool healthy, const std::string& reason) {
  std::lock_guard lock(state_->mu);
  bool changed = false;
  for (auto& d : state_->resource.devices) {
    if (d.gpu_index != gpu_index || d.healthy == healthy) continue;
    d.healthy = healthy;
    d.unhealthy_reason = healthy ? "" : reason;
    changed = true;
  }
  if (changed) {
    ++state_->version;
    state_->cv.notify_all();
  }
}

}  // namespace gpufleet::agent
