// The agent against a stand-in kubelet speaking the real device plugin API over unix sockets:
// serve-then-register, the kubelet dialling back, ListAndWatch with health changes and recovery,
// Allocate and GetPreferredAllocation over gRPC, registering again when the kubelet restarts
// (kubelet.sock re-created, sockets wiped) or the agent's socket is removed, and a kubelet that
// appears only after the agent started.
#include "agent/agent.h"

#include <grpcpp/grpcpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "agent/agent_fixture.h"
#include "deviceplugin/v1beta1/api.grpc.pb.h"

namespace gpufleet::agent {
namespace {

using ::testing::HasSubstr;

template <typename F>
bool Eventually(F condition, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return condition();
}

// The kubelet's side: Registration on kubelet.sock; on Register it dials the plugin and asks
// for its options, synchronously, as the kubelet does.
class FakeKubelet final : public v1beta1::Registration::Service {
 public:
  explicit FakeKubelet(std::string dir) : dir_(std::move(dir)) {}
  ~FakeKubelet() override { Stop(); }

  void Start() {
    // The kubelet wipes the plugins' sockets when it starts.
    for (const auto& e : std::filesystem::directory_iterator(dir_)) {
      if (e.path().extension() == ".sock") std::filesystem::remove(e.path());
    }
    grpc::ServerBuilder b;
    b.AddListeningPort("unix://" + dir_ + "/kubelet.sock", grpc::InsecureServerCredentials());
    b.RegisterService(this);
    server_ = b.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void Stop() {
    if (server_ == nullptr) return;
    server_->Shutdown();
    server_->Wait();
    server_.reset();
    std::filesystem::remove(dir_ + "/kubelet.sock");
  }

  grpc::Status Register(grpc::ServerContext*, const v1beta1::RegisterRequest* request, v1beta1::Empty*) override {
    auto channel = grpc::CreateChannel("unix://" + dir_ + "/" + request->endpoint(), grpc::InsecureChannelCredentials());
    auto stub = v1beta1::DevicePlugin::NewStub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1beta1::Empty empty;
    v1beta1::DevicePluginOptions options;
    grpc::Status s = stub->GetDevicePluginOptions(&ctx, empty, &options);
    if (!s.ok()) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "cannot dial the plugin: " + s.error_message());
    std::lock_guard lock(mu_);
    requests_.push_back(*request);
    options_ = options;
    return grpc::Status::OK;
  }

  size_t registrations() {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  v1beta1::RegisterRequest last() {
    std::lock_guard lock(mu_);
    return requests_.back();
  }
  v1beta1::DevicePluginOptions options() {
    std::lock_guard lock(mu_);
    return options_;
  }

 private:
  std::string dir_;
  std::unique_ptr<grpc::Server> server_;
  std::mutex mu_;
  std::vector<v1beta1::RegisterRequest> requests_;
  v1beta1::DevicePluginOptions options_;
};

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = "/tmp/gpufleet-agent-test-" + std::to_string(getpid()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    machine_ = testing::MockMachine("p5.48xlarge", "i-0test");
    kubelet_ = std::make_unique<FakeKubelet>(dir_);
  }
  void TearDown() override {
    StopAgent();
    kubelet_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartAgent(AgentConfig config = {}) {
    AgentOptions o;
    o.plugin_dir = dir_;
    o.machine = "p5.48xlarge";
    o.poll_interval = std::chrono::milliseconds(100);
    o.register_retry = std::chrono::milliseconds(200);
    o.health.event_wait = std::chrono::milliseconds(50);
    o.health.probe_interval = std::chrono::milliseconds(100);
    o.health.recovery_quiet = std::chrono::seconds(1);
    o.health.probes_to_recover = 2;
    agent_ = std::make_unique<Agent>(*machine_, std::move(config), o, nullptr, core::RealClock());
    ASSERT_TRUE(agent_->Init().ok());
    runner_ = std::jthread([this](std::stop_token stop) { agent_->Run(stop); });
  }
  void StopAgent() {
    if (runner_.joinable()) {
      runner_.request_stop();
      runner_.join();
    }
    agent_.reset();
  }

  std::unique_ptr<v1beta1::DevicePlugin::Stub> Plugin() {
    return v1beta1::DevicePlugin::NewStub(
        grpc::CreateChannel("unix://" + dir_ + "/nvidia-gpu.sock", grpc::InsecureChannelCredentials()));
  }

  std::string dir_;
  std::unique_ptr<gpu::MockGpuBackend> machine_;
  std::unique_ptr<FakeKubelet> kubelet_;
  std::unique_ptr<Agent> agent_;
  std::jthread runner_;
};

TEST_F(AgentTest, RegistersAndServesTheDevicePluginApi) {
  kubelet_->Start();
  StartAgent();
  ASSERT_TRUE(Eventually([&] { return kubelet_->registrations() == 1; }));
  v1beta1::RegisterRequest r = kubelet_->last();
  EXPECT_EQ(r.version(), "v1beta1");
  EXPECT_EQ(r.resource_name(), "nvidia.com/gpu");
  EXPECT_EQ(r.endpoint(), "nvidia-gpu.sock");
  EXPECT_TRUE(r.options().get_preferred_allocation_available());
  EXPECT_TRUE(kubelet_->options().get_preferred_allocation_available());

  auto plugin = Plugin();
  grpc::ClientContext watch;
  watch.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));  // never hang the suite
  v1beta1::Empty empty;
  auto stream = plugin->ListAndWatch(&watch, empty);
  v1beta1::ListAndWatchResponse list;
  ASSERT_TRUE(stream->Read(&list));
  ASSERT_EQ(list.devices_size(), 8);
  EXPECT_EQ(list.devices(0).id(), machine_->Device(0)->uuid);
  EXPECT_EQ(list.devices(0).health(), "Healthy");
  EXPECT_EQ(list.devices(7).topology().nodes(0).id(), 1);

  // Allocate, as the kubelet does for a container.
  v1beta1::AllocateRequest alloc;
  auto* c = alloc.add_container_requests();
  c->add_devices_ids(list.devices(2).id());
  c->add_devices_ids(list.devices(3).id());
  v1beta1::AllocateResponse allocated;
  grpc::ClientContext actx;
  ASSERT_TRUE(plugin->Allocate(&actx, alloc, &allocated).ok());
  ASSERT_EQ(allocated.container_responses_size(), 1);
  EXPECT_EQ(allocated.container_responses(0).envs().at("NVIDIA_VISIBLE_DEVICES"),
            list.devices(2).id() + "," + list.devices(3).id());
  v1beta1::AllocateRequest unknown;
  unknown.add_container_requests()->add_devices_ids("GPU-nope");
  grpc::ClientContext uctx;
  grpc::Status refused = plugin->Allocate(&uctx, unknown, &allocated);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(refused.error_message(), HasSubstr("unknown device id"));

  v1beta1::PreferredAllocationRequest pref;
  auto* pc = pref.add_container_requests();
  for (const auto& d : list.devices()) pc->add_available_deviceids(d.id());
  pc->set_allocation_size(4);
  v1beta1::PreferredAllocationResponse preferred;
  grpc::ClientContext pctx;
  ASSERT_TRUE(plugin->GetPreferredAllocation(&pctx, pref, &preferred).ok());
  EXPECT_EQ(preferred.container_responses(0).deviceids_size(), 4);

  // A critical Xid: the GPU goes Unhealthy on the open stream, then comes back once it is quiet
  // and the probes pass (NVIDIA's plugin keeps it unhealthy until restarted, #1014).
  machine_->InjectXid(3, 79);
  bool unhealthy = false;
  while (stream->Read(&list)) {
    if (list.devices(3).health() == "Unhealthy") {
      unhealthy = true;
      break;
    }
  }
  ASSERT_TRUE(unhealthy);
  EXPECT_EQ(list.devices(2).health(), "Healthy");
  bool recovered = false;
  while (stream->Read(&list)) {
    if (list.devices(3).health() == "Healthy") {
      recovered = true;
      break;
    }
  }
  EXPECT_TRUE(recovered);
  watch.TryCancel();
}

TEST_F(AgentTest, RegistersAgainWhenTheKubeletRestartsOrTheSocketGoes) {
  kubelet_->Start();
  StartAgent();
  ASSERT_TRUE(Eventually([&] { return kubelet_->registrations() == 1; }));
  // The kubelet restarts: its socket goes away and comes back, plugin sockets are wiped. The
  // agent registers again within 2 s (inotify; the polling fallback here is 100 ms).
  kubelet_->Stop();
  kubelet_->Start();
  ASSERT_TRUE(Eventually([&] { return kubelet_->registrations() == 2; }, std::chrono::seconds(2)));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/nvidia-gpu.sock"));
  // Someone removes the agent's socket.
  std::filesystem::remove(dir_ + "/nvidia-gpu.sock");
  ASSERT_TRUE(Eventually([&] { return kubelet_->registrations() == 3; }));
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/nvidia-gpu.sock"));
  // And it stays registered: no loop of re-registrations.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(kubelet_->registrations(), 3u);
  StopAgent();
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/nvidia-gpu.sock"));
}

TEST_F(AgentTest, TimeSlicingFourReplicasOnTwoGpusIsEightDevices) {
  machine_ = testing::MockMachine(R"({"gpus":[{"model":"H100-SXM5-80GB","count":2}]})", "i-0ts");
  auto config = ParseConfig("version: v1\nsharing:\n  timeSlicing:\n    resources:\n    - name: nvidia.com/gpu\n      replicas: 4\n");
  ASSERT_TRUE(config.ok()) << config.status();
  kubelet_->Start();
  StartAgent(*config);
  ASSERT_TRUE(Eventually([&] { return kubelet_->registrations() == 1; }));
  EXPECT_EQ(kubelet_->last().resource_name(), "nvidia.com/gpu");
  grpc::ClientContext watch;
  watch.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  auto stream = Plugin()->ListAndWatch(&watch, v1beta1::Empty());
  v1beta1::ListAndWatchResponse list;
  ASSERT_TRUE(stream->Read(&list));
  ASSERT_EQ(list.devices_size(), 8);
  EXPECT_EQ(list.devices(7).id(), machine_->Device(1)->uuid + "::3");
  // Two replicas of one GPU in one container: the container sees that GPU once.
  v1beta1::AllocateRequest alloc;
  auto* c = alloc.add_container_requests();
  c->add_devices_ids(list.devices(0).id());
  c->add_devices_ids(list.devices(1).id());
  v1beta1::AllocateResponse allocated;
  grpc::ClientContext actx;
  ASSERT_TRUE(Plugin()->Allocate(&actx, alloc, &allocated).ok());
  EXPECT_EQ(allocated.container_responses(0).envs().at("NVIDIA_VISIBLE_DEVICES"), machine_->Device(0)->uuid);
  watch.TryCancel();
}

TEST_F(AgentTest, WaitsForAKubeletThatIsNotThereYet) {
  StartAgent();  // no kubelet.sock yet (the Bottlerocket race)
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(kubelet_->registrations(), 0u);
  kubelet_->Start();
  ASSERT_TRUE(Eventually([&] { return kubelet_->registrations() >= 1; }));
}

TEST_F(AgentTest, NoGpusNoPlugin) {
  machine_.reset();
  auto none = gpu::NewNoGpuBackend();
  kubelet_->Start();
  AgentOptions o;
  o.plugin_dir = dir_;
  Agent agent(*none, AgentConfig{}, o, nullptr, core::RealClock());
  ASSERT_TRUE(agent.Init().ok());
  EXPECT_TRUE(agent.Resources().empty());
  std::jthread run([&](std::stop_token s) { agent.Run(s); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  run.request_stop();
  run.join();
  EXPECT_EQ(kubelet_->registrations(), 0u);
}

}  // namespace
}  // namespace gpufleet::agent
