#include "sim/daemonset_controller.h"

#include <gtest/gtest.h>

#include "sim/sim_fixture.h"

namespace gpufleet::sim {
namespace {

constexpr const char* kNs = "nvidia-device-plugin";
constexpr const char* kDs = "nvidia-device-plugin";

class DaemonSetControllerTest : public testing::SimFixture {
 protected:
  void Start() {
    controller_ = std::make_unique<DaemonSetController>(*client_, core::RealClock(),
                                                        DaemonSetControllerOptions{.resync = std::chrono::milliseconds(200)});
    thread_ = std::jthread([this](std::stop_token stop) { controller_->Run(stop); });
    ASSERT_TRUE(Eventually([&] { return controller_->Ready(); }));
  }

  void TearDown() override {
    if (thread_.joinable()) {
      thread_.request_stop();
      thread_.join();
    }
    controller_.reset();
    SimFixture::TearDown();
  }

  // The seed's agent: its Namespace and DaemonSet from deploy/agent/daemonset.yaml.
  void ApplyAgent() {
    auto docs = core::YamlToJson(ReadSource("deploy/agent/daemonset.yaml"));
    ASSERT_TRUE(docs.ok()) << docs.status();
    for (const auto& doc : *docs) {
      if (!doc.is_object()) continue;
      const std::string kind = doc.value("kind", "");
      Result<nlohmann::json> created = NotFoundError("");
      if (kind == "Namespace") {
        created = client_->Create({"", "v1", "namespaces", false}, "", doc);
      } else if (kind == "DaemonSet") {
        created = client_->Create(kube::DaemonSet::Resource(), kNs, doc);
      } else {
        continue;
      }
      ASSERT_TRUE(created.ok()) << kind << ": " << created.status();
    }
  }

  // kubectl's columns and a little more: "desired/current/ready/available/unavailable/updated
  // misscheduled=N generation=N", or "" before the controller wrote any status.
  std::string DsStatus() {
    auto ds = client_->Get(kube::DaemonSet::Resource(), kNs, kDs);
    if (!ds.ok() || !ds->contains("status")) return "";
    const nlohmann::json& s = (*ds)["status"];
    auto n = [&](const char* field) { return std::to_string(s.value(field, int64_t{0})); };
    return n("desiredNumberScheduled") + "/" + n("currentNumberScheduled") + "/" + n("numberReady") + "/" +
           n("numberAvailable") + "/" + n("numberUnavailable") + "/" + n("updatedNumberScheduled") +
           " misscheduled=" + n("numberMisscheduled") + " generation=" + n("observedGeneration");
  }

  std::vector<kube::Pod> DaemonPods() { return Pods(kNs); }

  void SetPodStatus(const std::string& name, const std::string& phase, bool ready) {
    nlohmann::json patch = {
        {"status", {{"phase", phase}, {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
    auto patched = client_->Patch(kube::Pod::Resource(), kNs, name, kube::PatchType::kStrategicMerge, patch, {}, "status");
    ASSERT_TRUE(patched.ok()) << patched.status();
  }

  void AddGpuNode(const std::string& name) {
    AddNode({.name = name,
             .labels = {{"nvidia.com/gpu.present", "true"}},
             .taints = nlohmann::json::array({Taint("nvidia.com/gpu", "", "NoSchedule")}),
             .gpus = 1});
  }

  // The one daemon pod (on `node`, not terminating), or "" while there is not exactly one.
  std::string OnePodOn(const std::string& node) {
    auto pods = DaemonPods();
    if (pods.size() != 1 || pods[0].spec.node_name != node || pods[0].metadata.deletion_timestamp) return "";
    return pods[0].metadata.name;
  }

  std::unique_ptr<DaemonSetController> controller_;
  std::jthread thread_;
};

TEST_F(DaemonSetControllerTest, AgentFollowsGpuNodesAndCountsReadyPods) {
  ApplyAgent();
  Start();
  ASSERT_TRUE(Eventually([&] { return DsStatus() == "0/0/0/0/0/0 misscheduled=0 generation=1"; })) << DsStatus();

  AddNode({.name = "cpu", .gpus = 0});
  AddGpuNode("gpu");
  std::string pod;
  ASSERT_TRUE(Eventually([&] { return !(pod = OnePodOn("gpu")).empty(); })) << DaemonPods().size();
  ASSERT_TRUE(Eventually([&] { return DsStatus() == "1/1/0/0/1/1 misscheduled=0 generation=1"; })) << DsStatus();

  auto created = GetPod(kNs, pod);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->metadata.generate_name, "nvidia-device-plugin-");
  EXPECT_EQ(created->metadata.labels.at("app.kubernetes.io/name"), "nvidia-device-plugin");
  EXPECT_FALSE(created->metadata.labels.at("controller-revision-hash").empty());
  EXPECT_EQ(created->metadata.labels.at("pod-template-generation"), "1");
  const kube::OwnerReference* owner = created->metadata.ControllerRef();
  ASSERT_NE(owner, nullptr);
  EXPECT_EQ(owner->kind, "DaemonSet");
  EXPECT_EQ(owner->name, kDs);
  EXPECT_EQ(owner->block_owner_deletion, true);
  bool not_ready = false;
  for (const auto& t : created->spec.tolerations) not_ready |= t.key == "node.kubernetes.io/not-ready";
  EXPECT_TRUE(not_ready);
  EXPECT_TRUE(Eventually([&] {
    return HasEvent(kDs, "Normal", "SuccessfulCreate", "Created pod: " + pod, "daemonset-controller");
  }));

  SetPodStatus(pod, "Running", true);
  ASSERT_TRUE(Eventually([&] { return DsStatus() == "1/1/1/1/0/1 misscheduled=0 generation=1"; })) << DsStatus();
  SetPodStatus(pod, "Running", false);
  ASSERT_TRUE(Eventually([&] { return DsStatus() == "1/1/0/0/1/1 misscheduled=0 generation=1"; })) << DsStatus();
  EXPECT_EQ(OnePodOn("gpu"), pod);

  // The node goes (and its kubelet with it): pod GC removes the pod, nothing replaces it.
  DeleteNode("gpu");
  ASSERT_TRUE(Eventually([&] { return DaemonPods().empty(); })) << DaemonPods().size();
  ASSERT_TRUE(Eventually([&] { return DsStatus() == "0/0/0/0/0/0 misscheduled=0 generation=1"; })) << DsStatus();
}

TEST_F(DaemonSetControllerTest, NoSecondPodWhileTheFirstIsTerminating) {
  AddGpuNode("gpu");
  ApplyAgent();
  Start();
  std::string first;
  ASSERT_TRUE(Eventually([&] { return !(first = OnePodOn("gpu")).empty(); }));

  // The node stops matching: its daemon pod is deleted gracefully (no kubelet here finishes it).
  nlohmann::json unlabel = {{"metadata", {{"labels", {{"nvidia.com/gpu.present", nullptr}}}}}};
  ASSERT_TRUE(client_->Patch(kube::Node::Resource(), "", "gpu", kube::PatchType::kMerge, unlabel).ok());
  ASSERT_TRUE(Eventually([&] {
    auto pod = GetPod(kNs, first);
    return pod && pod->metadata.deletion_timestamp.has_value();
  }));
  ASSERT_TRUE(Eventually([&] { return DsStatus() == "0/0/0/0/0/0 misscheduled=1 generation=1"; })) << DsStatus();
  EXPECT_TRUE(Eventually([&] {
    return HasEvent(kDs, "Normal", "SuccessfulDelete", "Deleted pod: " + first, "daemonset-controller");
  }));

  // It matches again while the old pod still terminates: that pod counts, no second one.
  nlohmann::json relabel = {{"metadata", {{"labels", {{"nvidia.com/gpu.present", "true"}}}}}};
  ASSERT_TRUE(client_->Patch(kube::Node::Resource(), "", "gpu", kube::PatchType::kMerge, relabel).ok());
  ASSERT_TRUE(Eventually([&] { return DsStatus() == "1/1/0/0/1/1 misscheduled=0 generation=1"; })) << DsStatus();
  EXPECT_EQ(DaemonPods().size(), 1u);

  // Once it is gone, a new one takes its place.
  ASSERT_TRUE(client_->Delete(kube::Pod::Resource(), kNs, first, {.grace_period_seconds = 0}).ok());
  std::string second;
  ASSERT_TRUE(Eventually([&] { return !(second = OnePodOn("gpu")).empty(); }));
  EXPECT_NE(second, first);
}

TEST_F(DaemonSetControllerTest, FailedDaemonPodIsReplaced) {
  AddGpuNode("gpu");
  ApplyAgent();
  Start();
  std::string first;
  ASSERT_TRUE(Eventually([&] { return !(first = OnePodOn("gpu")).empty(); }));
  SetPodStatus(first, "Failed", false);
  std::string second;
  ASSERT_TRUE(Eventually([&] {
    second = OnePodOn("gpu");
    return !second.empty() && second != first;
  }));
  EXPECT_TRUE(Eventually([&] {
    for (const auto& e : EventsFor(kDs)) {
      if (e.type == "Warning" && e.reason == "FailedDaemonPod" && e.message.find(first) != std::string::npos) return true;
    }
    return false;
  }));
}

TEST_F(DaemonSetControllerTest, PodGcDeletesPodsOfDeletedNodesOnly) {
  AddNode({.name = "gone"});
  AddNode({.name = "staying"});
  nlohmann::json orphan = PlainPod("orphan");
  orphan["spec"]["nodeName"] = "gone";
  CreatePod(orphan);
  nlohmann::json kept = PlainPod("kept");
  kept["spec"]["nodeName"] = "staying";
  CreatePod(kept);
  Start();
  DeleteNode("gone");
  ASSERT_TRUE(Eventually([&] { return !GetPod("default", "orphan"); }));
  EXPECT_TRUE(GetPod("default", "kept"));
}

}  // namespace
}  // namespace gpufleet::sim
