// The embedded cluster's controllers against the real in-process API server, on the real clock.
// Tests stand in for the kubelets: they create Nodes and set their status (allocatable, Ready),
// and set the pods' Ready condition themselves.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/yaml.h"
#include "kube/client.h"
#include "kube/embedded_server.h"
#include "kube/transport.h"
#include "kube/types/event.h"
#include "kube/types/node.h"
#include "kube/types/pod.h"
#include "kube/types/typed_client.h"

namespace gpufleet::sim::testing {

class SimFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = kube::testing::StartEmbeddedServer("sim");
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto transport = kube::Transport::Create(server_.config, {}, core::RealClock());
    ASSERT_TRUE(transport.ok()) << transport.status();
    transport_ = std::move(*transport);
    client_ = std::make_unique<kube::Client>(*transport_);
  }

  void TearDown() override {
    client_.reset();
    transport_.reset();
    server_.server.reset();
  }

  struct NodeSpec {
    std::string name;
    nlohmann::json labels = nlohmann::json::object();
    nlohmann::json taints = nlohmann::json::array();
    int gpus = 0;
    bool ready = true;
    bool unschedulable = false;
  };

  // Creates the Node, then sets its status as a kubelet would: capacity = allocatable
  // (4 CPUs, 16 GiB, 110 pods, `gpus` nvidia.com/gpu) and the Ready condition.
  void AddNode(const NodeSpec& spec) {
    nlohmann::json labels = spec.labels;
    labels["kubernetes.io/hostname"] = spec.name;
    nlohmann::json node = {{"apiVersion", "v1"},
                           {"kind", "Node"},
                           {"metadata", {{"name", spec.name}, {"labels", labels}}},
                           {"spec", {{"taints", spec.taints}, {"unschedulable", spec.unschedulable}}}};
    auto created = client_->Create(kube::Node::Resource(), "", node);
    ASSERT_TRUE(created.ok()) << created.status();
    nlohmann::json allocatable = {{"cpu", "4"}, {"memory", "16Gi"}, {"pods", "110"}, {"nvidia.com/gpu", spec.gpus}};
    (*created)["status"] = {{"capacity", allocatable},
                            {"allocatable", allocatable},
                            {"conditions", nlohmann::json::array({ReadyCondition(spec.ready)})}};
    auto updated = client_->UpdateStatus(kube::Node::Resource(), "", *created);
    ASSERT_TRUE(updated.ok()) << updated.status();
  }

  void SetNodeReady(const std::string& name, bool ready) {
    nlohmann::json patch = {{"status", {{"conditions", nlohmann::json::array({ReadyCondition(ready)})}}}};
    auto patched = client_->Patch(kube::Node::Resource(), "", name, kube::PatchType::kStrategicMerge, patch, {}, "status");
    ASSERT_TRUE(patched.ok()) << patched.status();
  }

  void DeleteNode(const std::string& name) {
    auto deleted = client_->Delete(kube::Node::Resource(), "", name);
    ASSERT_TRUE(deleted.ok()) << deleted.status();
  }

  static nlohmann::json ReadyCondition(bool ready) {
    return {{"type", "Ready"}, {"status", ready ? "True" : "False"}, {"reason", ready ? "KubeletReady" : "KubeletNotReady"}};
  }

  static nlohmann::json Taint(const std::string& key, const std::string& value, const std::string& effect) {
    nlohmann::json t = {{"key", key}, {"effect", effect}};
    if (!value.empty()) t["value"] = value;
    return t;
  }

  // The seed's nvidia-smi pod: one nvidia.com/gpu limit, the GPU toleration and node selector.
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

  static nlohmann::json PlainPod(const std::string& name) {
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}, {"namespace", "default"}}},
            {"spec",
             {{"containers",
               {{{"name", "main"}, {"image", "busybox"}, {"resources", {{"requests", {{"cpu", "100m"}}}}}}}}}}};
  }

  void CreatePod(const nlohmann::json& pod) {
    auto created = client_->Create(kube::Pod::Resource(), pod["metadata"].value("namespace", "default"), pod);
    ASSERT_TRUE(created.ok()) << created.status();
  }

  std::optional<kube::Pod> GetPod(const std::string& ns, const std::string& name) {
    auto pod = kube::TypedClient<kube::Pod>(*client_).Get(ns, name);
    if (!pod.ok()) return std::nullopt;
    return *pod;
  }

  std::vector<kube::Pod> Pods(const std::string& ns) {
    auto list = kube::TypedClient<kube::Pod>(*client_).List(ns);
    return list.ok() ? list->items : std::vector<kube::Pod>{};
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

  bool HasEvent(const std::string& object, const std::string& type, const std::string& reason,
                const std::string& message, const std::string& component) {
    for (const auto& e : EventsFor(object)) {
      if (e.type == type && e.reason == reason && e.message == message && e.source.component == component) return true;
    }
    return false;
  }

  static std::string ReadSource(const std::string& relative) {
    std::ifstream in(std::string(GPUFLEET_SOURCE_DIR) + "/" + relative);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // Polls `done` every 20 ms up to `timeout`: tests assert the outcome, never the time it took.
  static bool Eventually(const std::function<bool()>& done, std::chrono::seconds timeout = std::chrono::seconds(20)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
  }

  kube::testing::EmbeddedServer server_;
  std::unique_ptr<kube::Transport> transport_;
  std::unique_ptr<kube::Client> client_;
};

}  // namespace gpufleet::sim::testing
