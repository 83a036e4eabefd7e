// The provisioner against real servers, in one process: the embedded API server, the EC2
// emulator (instances boot in 200 ms) and the Controller with the AWS cloud provider, on the
// real clock. Nodes are registered by the test itself, standing in for the kubelet until the
// embedded cluster's simulated nodes exist (issue 10).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "cloud/aws/api_client.h"
#include "cloud/aws/credentials.h"
#include "cloud/aws/http_client.h"
#include "cloud/aws/provider.h"
#include "cloud/ec2emu/emulator.h"
#include "core/yaml.h"
#include "kube/client.h"
#include "kube/embedded_server.h"
#include "kube/transport.h"
#include "kube/types/event.h"
#include "kube/types/typed_client.h"
#include "provisioner/controller.h"

namespace gpufleet::provisioner::testing {

class ControllerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = kube::testing::StartEmbeddedServer("provisioner");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto transport = kube::Transport::Create(server_.config, {}, core::RealClock());
    ASSERT_TRUE(transport.ok()) << transport.status();
    transport_ = std::move(*transport);
    client_ = std::make_unique<kube::Client>(*transport_);

    char tmpl[] = "/tmp/gpufleet-provisioner-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    cloud::ec2emu::EmulatorOptions eo;
    eo.data_dir = dir_;
    eo.instance_data = std::string(GPUFLEET_DATA_DIR) + "/aws-instance-types.json";
    eo.tick = std::chrono::milliseconds(50);
    eo.service.boot_delay = std::chrono::milliseconds(200);
    eo.service.shutdown_delay = std::chrono::milliseconds(200);
    auto emulator = cloud::ec2emu::Emulator::Start(eo);
    ASSERT_TRUE(emulator.ok()) << emulator.status();
    emulator_ = std::move(*emulator);
    http_ = cloud::aws::NewCurlHttpClient();
    credentials_ = cloud::aws::NewStaticCredentials({.access_key_id = emulator_->access_key_id(),
                                                     .secret_access_key = emulator_->secret_access_key(),
                                                     .source = "static"});
    auto make = [&](const std::string& service) {
      return std::make_unique<cloud::aws::ApiClient>(cloud::aws::ApiClientOptions{
          .service = service, .region = "us-west-2", .endpoint = emulator_->endpoint(),
          .credentials = credentials_.get(), .http = http_.get(), .clock = &core::RealClock()});
    };
    ec2_ = make("ec2");
    ssm_ = make("ssm");
    auto prices = cloud::aws::LoadOnDemandPrices(eo.instance_data, "us-west-2");
    ASSERT_TRUE(prices.ok()) << prices.status();
    provider_ = std::make_unique<cloud::aws::AwsCloudProvider>(
        *ec2_, *ssm_,
        cloud::aws::AwsProviderOptions{
            .cluster = {.name = "gpufleet", .endpoint = server_.config.server},
            .region = "us-west-2",
            .node_classes = [this](std::string_view name) -> Result<kube::EC2NodeClass> {
              auto nc = controller_->cluster().nodeclasses.Get(std::string(name));
              if (nc == nullptr) return NotFoundError("EC2NodeClass " + std::string(name) + " not found");
              return *nc;
            },
            .on_demand_prices = *prices});
    ApplyFile("deploy/crds/karpenter.sh_nodepools.yaml");
    ApplyFile("deploy/crds/karpenter.sh_nodeclaims.yaml");
    ApplyFile("deploy/crds/karpenter.k8s.aws_ec2nodeclasses.yaml");
  }

  void TearDown() override {
    StopController();
    provider_.reset();
    ec2_.reset();
    ssm_.reset();
    emulator_.reset();
    client_.reset();
    transport_.reset();
    server_.server.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  virtual ControllerOptions Options() {
    ControllerOptions o;
    o.batch_idle = std::chrono::milliseconds(100);
    o.batch_max = std::chrono::milliseconds(1000);
    o.pending_resync = std::chrono::seconds(1);
    o.gc_interval = std::chrono::hours(1);  // tests run a GarbageCollector themselves
    o.lifecycle.drain_poll = std::chrono::milliseconds(200);
    return o;
  }

  void StartController() {
    controller_ = std::make_unique<Controller>(
        *client_, *provider_, [this](const kube::EC2NodeClassSpec& spec) { return provider_->Resolve(spec); },
        core::RealClock(), Options());
    controller_thread_ = std::jthread([this](std::stop_token stop) { controller_->Run(stop); });
  }

  void StopController() {
    if (controller_thread_.joinable()) {
      controller_thread_.request_stop();
      controller_thread_.join();
    }
    controller_.reset();
  }

  static std::string ReadSource(const std::string& relative) {
    std::ifstream in(std::string(GPUFLEET_SOURCE_DIR) + "/" + relative);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static kube::Gvr GvrOf(const nlohmann::json& doc) {
    std::string kind = doc.value("kind", "");
    if (kind == "CustomResourceDefinition") return {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false};
    if (kind == "NodePool") return kube::NodePool::Resource();
    if (kind == "EC2NodeClass") return kube::EC2NodeClass::Resource();
    if (kind == "Pod") return kube::Pod::Resource();
    if (kind == "PodDisruptionBudget") return kube::PodDisruptionBudget::Resource();
    ADD_FAILURE() << "no resource for kind " << kind;
    return {};
  }

  void Apply(const nlohmann::json& doc) {
    auto created = client_->Create(GvrOf(doc), doc["metadata"].value("namespace", "default"), doc);
    ASSERT_TRUE(created.ok()) << created.status();
  }

  void ApplyFile(const std::string& relative) {
    auto docs = core::YamlToJson(ReadSource(relative));
    ASSERT_TRUE(docs.ok()) << relative << ": " << docs.status();
    for (const auto& doc : *docs) {
      if (doc.is_object()) Apply(doc);
    }
  }

  // The seed's nvidia-smi pod (one nvidia.com/gpu limit, the GPU toleration and node selector).
  static nlohmann::json GpuPod(const std::string& name) {
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec",
             {{"tolerations", {{{"key", "nvidia.com/gpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}}},
              {"nodeSelector", {{"nvidia.com/gpu.present", "true"}}},
              {"containers",
               {{{"name", "nvidia-smi"},
                 {"image", "public.ecr.aws/amazonlinux/amazonlinux:2023-minimal"},
                 {"command", {"nvidia-smi"}},
                 {"resources", {{"limits", {{"nvidia.com/gpu", 1}}}}}}}},
              {"restartPolicy", "OnFailure"}}}};
  }

  // Polls `done` (every 20 ms, up to `timeout`); the condition, not the time, is what tests assert.
  static bool Eventually(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  std::vector<kube::NodeClaim> NodeClaims() {
    auto list = kube::TypedClient<kube::NodeClaim>(*client_).List("");
    return list.ok() ? list->items : std::vector<kube::NodeClaim>{};
  }

  std::vector<cloud::Machine> Instances() {
    auto machines = provider_->List();
    EXPECT_TRUE(machines.ok()) << machines.status();
    return machines.ok() ? *machines : std::vector<cloud::Machine>{};
  }

  std::vector<kube::Event> EventsFor(const std::string& name) {
    std::vector<kube::Event> out;
    auto list = kube::TypedClient<kube::Event>(*client_).List("");
    if (!list.ok()) return out;
    for (auto& e : list->items) {
      if (e.involved_object.name == name) out.push_back(e);
    }
    return out;
  }

  // What a kubelet does when it starts on the instance: a Node with the instance's providerID,
  // Karpenter's unregistered taint (from the user data), Ready, and no GPUs until the device
  // plugin reports them.
  void RegisterNode(const std::string& name, const std::string& provider_id, bool with_gpu = false) {
    nlohmann::json node = {{"apiVersion", "v1"},
                           {"kind", "Node"},
                           {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
                           {"spec",
                            {{"providerID", provider_id},
                             {"taints", {{{"key", "karpenter.sh/unregistered"}, {"effect", "NoExecute"}}}}}}};
    auto created = client_->Create(kube::Node::Resource(), "", node);
    ASSERT_TRUE(created.ok()) << created.status();
    SetNodeStatus(name, with_gpu);
  }

  void SetNodeStatus(const std::string& name, bool with_gpu) {
    nlohmann::json allocatable = {{"cpu", "7910m"}, {"memory", "60Gi"}, {"pods", "58"}};
    if (with_gpu) allocatable["nvidia.com/gpu"] = "1";
    nlohmann::json status = {{"status",
                              {{"capacity", allocatable},
                               {"allocatable", allocatable},
                               {"conditions", {{{"type", "Ready"}, {"status", "True"}, {"reason", "KubeletReady"}}}}}}};
    auto patched = client_->Patch(kube::Node::Resource(), "", name, kube::PatchType::kMerge, status, {}, "status");
    ASSERT_TRUE(patched.ok()) << patched.status();
  }

  std::optional<kube::Node> GetNode(const std::string& name) {
    auto node = kube::TypedClient<kube::Node>(*client_).Get("", name);
    if (!node.ok()) return std::nullopt;
    return *node;
  }

  kube::testing::EmbeddedServer server_;
  std::unique_ptr<kube::Transport> transport_;
  std::unique_ptr<kube::Client> client_;
  std::string dir_;
  std::unique_ptr<cloud::ec2emu::Emulator> emulator_;
  std::unique_ptr<cloud::aws::HttpClient> http_;
  std::unique_ptr<cloud::aws::CredentialsProvider> credentials_;
  std::unique_ptr<cloud::aws::ApiClient> ec2_, ssm_;
  std::unique_ptr<cloud::aws::AwsCloudProvider> provider_;
  std::unique_ptr<Controller> controller_;
  std::jthread controller_thread_;
};

}  // namespace gpufleet::provisioner::testing
