#include "sim/daemon_pod.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/yaml.h"
#include "kube/types/daemon_set.h"

namespace gpufleet::sim {
namespace {

// The seed's agent DaemonSet (deploy/agent/daemonset.yaml), as the API server would store it.
nlohmann::json AgentDaemonSet() {
  std::ifstream in(std::string(GPUFLEET_SOURCE_DIR) + "/deploy/agent/daemonset.yaml");
  std::stringstream text;
  text << in.rdbuf();
  auto docs = core::YamlToJson(text.str());
  EXPECT_TRUE(docs.ok()) << docs.status();
  for (auto& doc : *docs) {
    if (doc.is_object() && doc.value("kind", "") == "DaemonSet") {
      doc["metadata"]["uid"] = "ds-uid";
      doc["metadata"]["generation"] = 3;
      return doc;
    }
  }
  ADD_FAILURE() << "no DaemonSet in deploy/agent/daemonset.yaml";
  return {};
}

kube::PodSpec AgentSpec() {
  auto ds = kube::FromJson<kube::DaemonSet>(AgentDaemonSet());
  EXPECT_TRUE(ds.ok()) << ds.status();
  return ds.ok() ? ds->spec.template_.spec : kube::PodSpec{};
}

kube::Node GpuNode(std::vector<core::Taint> taints = {}) {
  kube::Node node;
  node.metadata.name = "gpu-1";
  node.metadata.labels["nvidia.com/gpu.present"] = "true";
  node.spec.taints = std::move(taints);
  return node;
}

core::Taint T(std::string key, core::TaintEffect effect) { return {.key = std::move(key), .effect = effect}; }

TEST(DaemonPodTest, AgentRunsOnTaintedGpuNodesOnly) {
  const kube::PodSpec spec = AgentSpec();
  NodeDecision on_gpu = ShouldRun(spec, GpuNode({T("nvidia.com/gpu", core::TaintEffect::kNoSchedule)}));
  EXPECT_TRUE(on_gpu.should_run);
  EXPECT_TRUE(on_gpu.should_continue_running);
  kube::Node cpu;
  cpu.metadata.name = "cpu-1";
  NodeDecision on_cpu = ShouldRun(spec, cpu);
  EXPECT_FALSE(on_cpu.should_run);
  EXPECT_FALSE(on_cpu.should_continue_running);
  // The second node-affinity term (NFD's PCI label) is an alternative.
  cpu.metadata.labels["feature.node.kubernetes.io/pci-10de.present"] = "true";
  EXPECT_TRUE(ShouldRun(spec, cpu).should_run);
}

TEST(DaemonPodTest, DaemonTolerationsAndTaintEffects) {
  const kube::PodSpec spec = AgentSpec();
  // Taints every daemon tolerates: a not-ready or cordoned node still runs its daemons.
  NodeDecision starting = ShouldRun(spec, GpuNode({T("node.kubernetes.io/not-ready", core::TaintEffect::kNoExecute),
                                                   T("node.kubernetes.io/unschedulable", core::TaintEffect::kNoSchedule)}));
  EXPECT_TRUE(starting.should_run);
  // An untolerated NoSchedule taint starts nothing new but keeps what runs.
  NodeDecision dedicated = ShouldRun(spec, GpuNode({T("dedicated", core::TaintEffect::kNoSchedule)}));
  EXPECT_FALSE(dedicated.should_run);
  EXPECT_TRUE(dedicated.should_continue_running);
  // An untolerated NoExecute taint evicts.
  NodeDecision evicting = ShouldRun(spec, GpuNode({T("maintenance", core::TaintEffect::kNoExecute)}));
  EXPECT_FALSE(evicting.should_run);
  EXPECT_FALSE(evicting.should_continue_running);
  // network-unavailable is tolerated by host-network daemons only.
  kube::Node no_network = GpuNode({T("node.kubernetes.io/network-unavailable", core::TaintEffect::kNoSchedule)});
  EXPECT_FALSE(ShouldRun(spec, no_network).should_run);
  kube::PodSpec host_network = spec;
  host_network.host_network = true;
  EXPECT_TRUE(ShouldRun(host_network, no_network).should_run);
  EXPECT_EQ(DaemonPodTolerations(false).size(), 6u);
  EXPECT_EQ(DaemonPodTolerations(true).size(), 7u);
}

TEST(DaemonPodTest, NodeNameAndMatchFields) {
  kube::PodSpec spec;
  spec.node_name = "gpu-2";
  EXPECT_FALSE(ShouldRun(spec, GpuNode()).should_run);
  spec.node_name = "gpu-1";
  EXPECT_TRUE(ShouldRun(spec, GpuNode()).should_run);
  kube::PodSpec fields;
  core::NodeSelectorTerm term;
  term.match_fields.push_back({.key = "metadata.name", .op = core::Operator::kIn, .values = {"gpu-2"}});
  fields.affinity = kube::Affinity{.node_affinity = kube::NodeAffinity{.required = core::NodeSelector{.terms = {term}}}};
  EXPECT_FALSE(ShouldRun(fields, GpuNode()).should_run);
}

TEST(DaemonPodTest, NewDaemonPodIsBoundOwnedAndLabelled) {
  const nlohmann::json ds = AgentDaemonSet();
  const std::string hash = TemplateHash(ds["spec"]["template"]);
  EXPECT_EQ(hash, TemplateHash(ds["spec"]["template"]));
  EXPECT_EQ(hash.find_first_not_of("bcdfghjklmnpqrstvwxz2456789"), std::string::npos) << hash;
  nlohmann::json changed = ds["spec"]["template"];
  changed["spec"]["containers"][0]["image"] = "ghcr.io/gpufleet/gpufleet:v2";
  EXPECT_NE(hash, TemplateHash(changed));

  const nlohmann::json pod = NewDaemonPod(ds, hash, "gpu-1");
  const nlohmann::json& meta = pod["metadata"];
  EXPECT_EQ(meta["generateName"], "nvidia-device-plugin-");
  EXPECT_EQ(meta["namespace"], "nvidia-device-plugin");
  EXPECT_EQ(meta["labels"]["app.kubernetes.io/name"], "nvidia-device-plugin");
  EXPECT_EQ(meta["labels"]["controller-revision-hash"], hash);
  EXPECT_EQ(meta["labels"]["pod-template-generation"], "3");
  EXPECT_EQ(meta["ownerReferences"], nlohmann::json::parse(R"([{"apiVersion":"apps/v1","kind":"DaemonSet",
      "name":"nvidia-device-plugin","uid":"ds-uid","controller":true,"blockOwnerDeletion":true}])"));
  EXPECT_EQ(pod["spec"]["nodeName"], "gpu-1");
  EXPECT_EQ(pod["spec"]["containers"], ds["spec"]["template"]["spec"]["containers"]);
  auto tolerations = core::TolerationsFromJson(pod["spec"]["tolerations"], "spec.tolerations");
  ASSERT_TRUE(tolerations.ok()) << tolerations.status();
  EXPECT_EQ(tolerations->size(), 7u);  // the template's GPU toleration and the six daemon ones
  EXPECT_EQ((*tolerations)[0].key, "nvidia.com/gpu");
}

}  // namespace
}  // namespace gpufleet::sim
