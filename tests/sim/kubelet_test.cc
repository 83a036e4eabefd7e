// The simulated kubelet against the real in-process API server, with the real agent running as
// its device plugin pod: registration and readiness, the device manager publishing nvidia.com/gpu
// from the agent's ListAndWatch, GPU admission and Allocate, nvidia-smi's output in the logs,
// phases and restart policy, confirmed deletion, and the identity built from an instance.
#include "sim/kubelet.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <thread>

#include "cloud/aws/user_data.h"
#include "kube/encoding.h"
#include "kube/types/node.h"
#include "kube/types/pod.h"
#include "sim/container_program.h"
#include "sim/node_fleet.h"
#include "sim/sim_fixture.h"

namespace gpufleet::sim {
namespace {

template <typename F>
bool Eventually(F done, std::chrono::seconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

cloud::aws::Ec2InstanceType G6e2xlarge() {
  cloud::aws::Ec2InstanceType t;
  t.name = "g6e.2xlarge";
  t.arch = "amd64";
  t.vcpu = 8;
  t.memory_mib = 65536;
  t.hypervisor = "nitro";
  t.enis = 4;
  t.ipv4_per_eni = 15;
  t.gpu = cloud::aws::Ec2Gpu{.name = "L40S", .manufacturer = "NVIDIA", .count = 1, .memory_mib = 45776};
  return t;
}

nlohmann::json Instance(const std::string& user_data) {
  return {{"instanceId", "i-0123456789abcdef0"},
          {"instanceType", "g6e.2xlarge"},
          {"placement", {{"availabilityZone", "us-west-2a"}}},
          {"privateDnsName", "ip-10-0-0-10.us-west-2.compute.internal"},
          {"privateIpAddress", "10.0.0.10"},
          {"_userData", kube::Base64Encode(user_data)}};
}

TEST(IdentityOfTest, NodeFromTheInstanceItsTypeAndTheNodePoolsUserData) {
  cloud::aws::NodeadmInput in;
  in.cluster_name = "gpufleet";
  in.api_server_endpoint = "https://127.0.0.1:6443";
  in.max_pods = 58;
  in.labels[core::InternedString("nvidia.com/gpu.present")] = core::InternedString("true");
  in.labels[core::InternedString("karpenter.sh/nodepool")] = core::InternedString("gpu");
  in.taints.push_back(*core::ParseTaint("nvidia.com/gpu:NoSchedule"));
  in.taints.push_back(*core::ParseTaint("karpenter.sh/unregistered:NoExecute"));
  auto doc = cloud::aws::Al2023UserData(in);
  ASSERT_TRUE(doc.ok()) << doc.status();
  auto id = IdentityOf(Instance(*doc), G6e2xlarge(), "us-west-2");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->name, "ip-10-0-0-10.us-west-2.compute.internal");
  EXPECT_EQ(id->provider_id, "aws:///us-west-2a/i-0123456789abcdef0");
  auto label = [&](const char* key) {
    auto it = id->labels.find(key);
    return it == id->labels.end() ? std::string() : it->second.str();
  };
  EXPECT_EQ(label("nvidia.com/gpu.present"), "true");
  EXPECT_EQ(label("karpenter.sh/nodepool"), "gpu");
  EXPECT_EQ(label("node.kubernetes.io/instance-type"), "g6e.2xlarge");
  EXPECT_EQ(label("topology.kubernetes.io/zone"), "us-west-2a");
  EXPECT_EQ(label("kubernetes.io/hostname"), id->name);
  ASSERT_EQ(id->taints.size(), 2u);
  EXPECT_EQ(id->capacity.Get("cpu").Value(), 8);
  EXPECT_EQ(id->capacity.Get("pods").Value(), 58);
  EXPECT_FALSE(id->capacity.Contains("nvidia.com/gpu")) << "extended resources come from device plugins";
  EXPECT_LT(id->allocatable.Get("memory"), id->capacity.Get("memory"));
  EXPECT_EQ(id->gpu_machine, "g6e.2xlarge");

  auto bad = IdentityOf(Instance("MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"x\"\n\n--x\nno end"),
                        G6e2xlarge(), "us-west-2");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("i-0123456789abcdef0"), std::string::npos) << bad.status();
}

TEST(ParseRunTimeTest, SleepAndAnnotationForms) {
  EXPECT_EQ(ParseRunTime("30"), std::chrono::milliseconds(30000));
  EXPECT_EQ(ParseRunTime("1.5"), std::chrono::milliseconds(1500));
  EXPECT_EQ(ParseRunTime("2m"), std::chrono::milliseconds(120000));
  EXPECT_EQ(ParseRunTime("100ms"), std::chrono::milliseconds(100));
  EXPECT_FALSE(ParseRunTime("soon"));
  EXPECT_FALSE(ParseRunTime("-1"));
}

class KubeletTest : public testing::SimFixture {
 protected:
  void SetUp() override {
    SimFixture::SetUp();
    char tmpl[] = "/tmp/gf-kubelet-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    executor_ = std::make_unique<Executor>(2);
    env_.client = client_.get();
    env_.executor = executor_.get();
    env_.clock = &core::RealClock();
    env_.delays = *ScaledDelays(50);
    env_.time_scale = 50;
    env_.run_dir = dir_;
    env_.state_dir = dir_;
    env_.gpu_catalog_path = std::string(GPUFLEET_DATA_DIR) + "/gpu-models.json";
    env_.write_log = [this](const std::string& ns, const std::string& pod, const std::string& container,
                            const std::string& text) {
      std::lock_guard lock(logs_mu_);
      logs_[ns + "/" + pod + "/" + container] = text;
      return OkStatus();
    };
    auto id = IdentityOf(Instance(""), G6e2xlarge(), "us-west-2");
    ASSERT_TRUE(id.ok()) << id.status();
    id->labels[core::InternedString("nvidia.com/gpu.present")] = core::InternedString("true");
    kubelet_ = std::make_shared<SimulatedKubelet>(env_, *id);
    ASSERT_TRUE(kubelet_->Start().ok());
    node_ = kubelet_->identity().name;
    // The pods bound to this node reach the kubelet as the fleet's informer would hand them.
    feeder_ = std::jthread([this](std::stop_token stop) {
      std::map<std::string, std::string> seen;  // uid -> resourceVersion
      while (!stop.stop_requested()) {
        auto list = client_->List(kube::Pod::Resource(), "", {});
        if (list.ok()) {
          std::set<std::string> present;
          for (const auto& pod : (*list)["items"]) {
            if (pod["spec"].value("nodeName", "") != node_) continue;
            const std::string uid = pod["metadata"]["uid"];
            present.insert(uid);
            if (seen[uid] != pod["metadata"]["resourceVersion"]) {
              seen[uid] = pod["metadata"]["resourceVersion"];
              kubelet_->SyncPod(pod);
            }
          }
          for (auto it = seen.begin(); it != seen.end();) {
            if (!present.contains(it->first)) {
              kubelet_->ForgetPod(it->first);
              it = seen.erase(it);
            } else {
              ++it;
            }
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  }
  void TearDown() override {
    feeder_ = {};
    kubelet_->Stop();
    executor_->Stop();
    kubelet_.reset();
    std::filesystem::remove_all(dir_);
    SimFixture::TearDown();
  }

  nlohmann::json Node() {
    auto node = client_->Get(kube::Node::Resource(), "", node_);
    return node.ok() ? *node : nlohmann::json::object();
  }
  std::string Allocatable(const std::string& resource) {
    auto n = Node();
    return n.contains("status") && n["status"].contains("allocatable") ? n["status"]["allocatable"].value(resource, "") : "";
  }
  std::string Phase(const std::string& name) {
    auto pod = client_->Get(kube::Pod::Resource(), "default", name);
    return pod.ok() && (*pod).contains("status") ? (*pod)["status"].value("phase", "") : "gone";
  }
  void CreatePod(nlohmann::json pod) {
    pod["spec"]["nodeName"] = node_;
    auto created = client_->Create(kube::Pod::Resource(), "default", pod);
    ASSERT_TRUE(created.ok()) << created.status();
  }
  static nlohmann::json Pod(const std::string& name, std::vector<std::string> command, int gpus,
                            const std::string& restart = "Never") {
    nlohmann::json container = {{"name", "main"}, {"image", "busybox"}, {"command", command}};
    if (gpus > 0) container["resources"] = {{"limits", {{"nvidia.com/gpu", gpus}}}};
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec", {{"restartPolicy", restart}, {"containers", {container}}}}};
  }
  std::string Log(const std::string& pod) {
    std::lock_guard lock(logs_mu_);
    return logs_["default/" + pod + "/main"];
  }

  std::string dir_, node_;
  std::unique_ptr<Executor> executor_;
  KubeletEnv env_;
  std::shared_ptr<SimulatedKubelet> kubelet_;
  std::jthread feeder_;
  std::mutex logs_mu_;
  std::map<std::string, std::string> logs_;
};

TEST_F(KubeletTest, RegistersThenReadyThenTheAgentPublishesTheGpuAndPodsUseIt) {
  ASSERT_TRUE(Eventually([&] { return Node().contains("metadata"); })) << "the node never registered";
  auto node = Node();
  EXPECT_EQ(node["spec"]["providerID"], "aws:///us-west-2a/i-0123456789abcdef0");
  EXPECT_EQ(node["status"]["nodeInfo"]["kubeletVersion"].get<std::string>().substr(0, 5), "v1.32");
  ASSERT_TRUE(Eventually([&] { return kube::FromJson<kube::Node>(Node()).value_or(kube::Node{}).IsReady(); }));
  EXPECT_EQ(Allocatable("nvidia.com/gpu"), "") << "no GPU before the device plugin registers";

  // The agent, as the DaemonSet runs it: the real device plugin, dialling this kubelet.
  CreatePod(Pod("agent", {"gpufleet", "agent"}, 0, "Always"));
  ASSERT_TRUE(Eventually([&] { return Allocatable("nvidia.com/gpu") == "1"; })) << Node().dump();
  EXPECT_EQ(Phase("agent"), "Running");

  // nvidia-smi gets the GPU through Allocate (NVIDIA_VISIBLE_DEVICES) and prints the L40S.
  CreatePod(Pod("smi", {"nvidia-smi"}, 1));
  ASSERT_TRUE(Eventually([&] { return Phase("smi") == "Succeeded"; })) << Phase("smi");
  EXPECT_NE(Log("smi").find("NVIDIA L40S"), std::string::npos) << Log("smi");
  EXPECT_NE(Log("smi").find("46068MiB"), std::string::npos) << Log("smi");

  // One GPU: a running GPU pod holds it, so a second one fails admission as on a real kubelet.
  CreatePod(Pod("holder", {"sleep", "1000"}, 1));
  ASSERT_TRUE(Eventually([&] { return Phase("holder") == "Running"; }));
  CreatePod(Pod("second", {"nvidia-smi"}, 1));
  ASSERT_TRUE(Eventually([&] { return Phase("second") == "Failed"; })) << Phase("second");
  auto second = client_->Get(kube::Pod::Resource(), "default", "second");
  EXPECT_EQ((*second)["status"].value("reason", ""), "UnexpectedAdmissionError");

  // A graceful delete is confirmed by the kubelet once the container stopped; the GPU is free.
  ASSERT_TRUE(client_->Delete(kube::Pod::Resource(), "default", "holder", {}).ok());
  ASSERT_TRUE(Eventually([&] { return Phase("holder") == "gone"; })) << "the kubelet never confirmed the deletion";
  CreatePod(Pod("third", {"nvidia-smi", "-L"}, 1));
  ASSERT_TRUE(Eventually([&] { return Phase("third") == "Succeeded"; })) << Phase("third");
  EXPECT_NE(Log("third").find("GPU 0: NVIDIA L40S (UUID: GPU-"), std::string::npos) << Log("third");
}

TEST_F(KubeletTest, RestartPolicyDecidesWhatAnExitMeans) {
  ASSERT_TRUE(Eventually([&] { return kube::FromJson<kube::Node>(Node()).value_or(kube::Node{}).IsReady(); }));
  auto failing = Pod("failing", {"serve"}, 0, "Never");
  failing["metadata"]["annotations"] = {{"sim.gpufleet.io/run-seconds", "1"}, {"sim.gpufleet.io/exit-code", "3"},
                                        {"sim.gpufleet.io/output", "model loaded"}};
  CreatePod(failing);
  ASSERT_TRUE(Eventually([&] { return Phase("failing") == "Failed"; })) << Phase("failing");
  auto pod = client_->Get(kube::Pod::Resource(), "default", "failing");
  EXPECT_EQ((*pod)["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"], 3);
  EXPECT_EQ(Log("failing"), "model loaded\n");

  auto retried = failing;
  retried["metadata"]["name"] = "retried";
  retried["spec"]["restartPolicy"] = "OnFailure";
  CreatePod(retried);
  ASSERT_TRUE(Eventually([&] {
    auto p = client_->Get(kube::Pod::Resource(), "default", "retried");
    return p.ok() && (*p)["status"].contains("containerStatuses") &&
           (*p)["status"]["containerStatuses"][0].value("restartCount", 0) >= 1;
  })) << "OnFailure must restart a failed container";
  EXPECT_NE(Phase("retried"), "Failed");

  CreatePod(Pod("done", {"sleep", "1"}, 0, "OnFailure"));
  ASSERT_TRUE(Eventually([&] { return Phase("done") == "Succeeded"; })) << Phase("done");

  // No GPU on this node yet (no agent): nvidia-smi without an allocation cannot reach a driver.
  CreatePod(Pod("no-driver", {"nvidia-smi"}, 0));
  ASSERT_TRUE(Eventually([&] { return Phase("no-driver") == "Failed"; })) << Phase("no-driver");
  EXPECT_NE(Log("no-driver").find("couldn't communicate with the NVIDIA driver"), std::string::npos);
}

}  // namespace
}  // namespace gpufleet::sim
