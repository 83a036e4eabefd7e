#include "sim/binder.h"

#include <gtest/gtest.h>

#include <thread>

#include "sim/sim_fixture.h"

namespace gpufleet::sim {
namespace {

class BinderTest : public testing::SimFixture {
 protected:
  void Start() {
    BinderOptions o;
    o.resync = std::chrono::milliseconds(200);
    binder_ = std::make_unique<Binder>(*client_, core::RealClock(), o);
    thread_ = std::jthread([this](std::stop_token stop) { binder_->Run(stop); });
    ASSERT_TRUE(Eventually([&] { return binder_->Ready(); }));
  }

  void TearDown() override {
    if (thread_.joinable()) {
      thread_.request_stop();
      thread_.join();
    }
    binder_.reset();
    SimFixture::TearDown();
  }

  std::string NodeOf(const std::string& pod) {
    auto p = GetPod("default", pod);
    return p ? p->spec.node_name.str() : "";
  }

  // The pod's PodScheduled condition as "Status/Reason: message" ("" when it has none).
  std::string Scheduled(const std::string& pod) {
    auto p = GetPod("default", pod);
    const kube::PodCondition* c = p ? p->FindCondition("PodScheduled") : nullptr;
    if (c == nullptr) return "";
    return c->status.str() + "/" + c->reason.str() + ": " + c->message.str();
  }

  nlohmann::json GpuLabels() { return {{"nvidia.com/gpu.present", "true"}}; }
  nlohmann::json GpuTaints() { return nlohmann::json::array({Taint("nvidia.com/gpu", "", "NoSchedule")}); }

  std::unique_ptr<Binder> binder_;
  std::jthread thread_;
};

TEST_F(BinderTest, WaitsUnschedulableUntilTheOneNodeThatTakesTheGpuPodAppears) {
  AddNode({.name = "cpu", .gpus = 0});
  AddNode({.name = "gpu-not-ready", .labels = GpuLabels(), .taints = GpuTaints(), .gpus = 1, .ready = false});
  AddNode({.name = "gpu-cordoned", .labels = GpuLabels(), .taints = GpuTaints(), .gpus = 1, .unschedulable = true});
  AddNode({.name = "gpu-none", .labels = GpuLabels(), .taints = GpuTaints(), .gpus = 0});
  nlohmann::json dedicated = GpuTaints();
  dedicated.push_back(Taint("dedicated", "other", "NoSchedule"));
  AddNode({.name = "gpu-dedicated", .labels = GpuLabels(), .taints = dedicated, .gpus = 1});
  nlohmann::json maintenance = GpuTaints();
  maintenance.push_back(Taint("maintenance", "true", "NoExecute"));
  AddNode({.name = "gpu-maintenance", .labels = GpuLabels(), .taints = maintenance, .gpus = 1});
  Start();
  CreatePod(GpuPod("gpu-pod"));

  const std::string message =
      "0/6 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) didn't match Pod's node affinity/selector, "
      "1 node(s) had untolerated taint {dedicated: other}, 1 node(s) had untolerated taint {maintenance: true}, "
      "1 node(s) were not ready, 1 node(s) were unschedulable.";
  ASSERT_TRUE(Eventually([&] { return Scheduled("gpu-pod") == "False/Unschedulable: " + message; }))
      << Scheduled("gpu-pod");
  EXPECT_EQ(NodeOf("gpu-pod"), "");
  ASSERT_TRUE(Eventually([&] { return HasEvent("gpu-pod", "Warning", "FailedScheduling", message, "default-scheduler"); }));

  AddNode({.name = "gpu-ready", .labels = GpuLabels(), .taints = GpuTaints(), .gpus = 1});
  ASSERT_TRUE(Eventually([&] { return NodeOf("gpu-pod") == "gpu-ready"; })) << NodeOf("gpu-pod");
  EXPECT_EQ(Scheduled("gpu-pod"), "True/: ");
  EXPECT_EQ(binder_->bound(), 1);
  EXPECT_TRUE(Eventually([&] {
    return HasEvent("gpu-pod", "Normal", "Scheduled", "Successfully assigned default/gpu-pod to gpu-ready",
                    "default-scheduler");
  }));
}

TEST_F(BinderTest, OneGpuForTwoPodsBindsOneAndTheOtherOnceTheFirstIsGone) {
  AddNode({.name = "gpu", .labels = GpuLabels(), .taints = GpuTaints(), .gpus = 1});
  Start();
  CreatePod(GpuPod("first"));
  CreatePod(GpuPod("second"));

  std::string bound, waiting;
  ASSERT_TRUE(Eventually([&] {
    const bool first = NodeOf("first") == "gpu", second = NodeOf("second") == "gpu";
    if (first == second) return false;
    bound = first ? "first" : "second";
    waiting = first ? "second" : "first";
    return Scheduled(waiting) == "False/Unschedulable: 0/1 nodes are available: 1 Insufficient nvidia.com/gpu.";
  })) << Scheduled("first") << " | " << Scheduled("second");
  EXPECT_EQ(NodeOf(waiting), "");
  EXPECT_EQ(binder_->bound(), 1);

  // A bound pod holds its GPU until it is gone (a terminating one still does).
  auto deleted = client_->Delete(kube::Pod::Resource(), "default", bound, {.grace_period_seconds = 0});
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  ASSERT_TRUE(Eventually([&] { return NodeOf(waiting) == "gpu"; })) << Scheduled(waiting);
  EXPECT_EQ(Scheduled(waiting), "True/: ");
  EXPECT_EQ(binder_->bound(), 2);
}

TEST_F(BinderTest, PodsCreatedOneByOneNeverShareAGpu) {
  AddNode({.name = "gpu", .labels = GpuLabels(), .taints = GpuTaints(), .gpus = 2});
  Start();
  for (int i = 0; i < 5; ++i) CreatePod(GpuPod("p" + std::to_string(i)));
  ASSERT_TRUE(Eventually([&] {
    int bound = 0, unschedulable = 0;
    for (int i = 0; i < 5; ++i) {
      bound += NodeOf("p" + std::to_string(i)) == "gpu";
      unschedulable += Scheduled("p" + std::to_string(i)).starts_with("False/Unschedulable");
    }
    return bound == 2 && unschedulable == 3;
  }));
  EXPECT_EQ(binder_->bound(), 2);
}

TEST_F(BinderTest, TolerationsOfCordonAndPreferNoScheduleAreKubeSchedulers) {
  AddNode({.name = "cordoned", .unschedulable = true});
  AddNode({.name = "preferred-not", .taints = nlohmann::json::array({Taint("spot", "true", "PreferNoSchedule")})});
  Start();
  // A pod that tolerates the cordon may go there (DaemonSet-style); PreferNoSchedule never blocks.
  nlohmann::json tolerant = PlainPod("tolerant");
  tolerant["spec"]["nodeSelector"] = {{"kubernetes.io/hostname", "cordoned"}};
  tolerant["spec"]["tolerations"] = {
      {{"key", "node.kubernetes.io/unschedulable"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}};
  CreatePod(tolerant);
  CreatePod(PlainPod("plain"));
  ASSERT_TRUE(Eventually([&] { return NodeOf("tolerant") == "cordoned" && NodeOf("plain") == "preferred-not"; }))
      << NodeOf("tolerant") << " " << NodeOf("plain");
}

TEST_F(BinderTest, LeavesOtherSchedulersPodsAndFinishedOnesAlone) {
  AddNode({.name = "node"});
  CreatePod(PlainPod("done"));
  nlohmann::json succeeded = {{"status", {{"phase", "Succeeded"}}}};
  ASSERT_TRUE(client_->Patch(kube::Pod::Resource(), "default", "done", kube::PatchType::kMerge, succeeded, {}, "status").ok());
  nlohmann::json other = PlainPod("other");
  other["spec"]["schedulerName"] = "volcano";
  CreatePod(other);
  Start();
  CreatePod(PlainPod("mine"));
  ASSERT_TRUE(Eventually([&] { return NodeOf("mine") == "node"; }));
  // The others were in the cache before "mine" was bound; a few more passes change nothing.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  for (const char* name : {"other", "done"}) {
    EXPECT_EQ(NodeOf(name), "") << name;
    EXPECT_EQ(Scheduled(name), "") << name;
  }
  EXPECT_EQ(binder_->bound(), 1);
}

}  // namespace
}  // namespace gpufleet::sim
