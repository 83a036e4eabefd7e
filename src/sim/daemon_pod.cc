#include "sim/daemon_pod.h"

#include <algorithm>
#include <cstdint>

#include "core/node_selector.h"

namespace gpufleet::sim {
namespace {

core::Toleration Exists(std::string key, core::TaintEffect effect) {
  return {.key = std::move(key), .op = core::TolerationOperator::kExists, .effect = effect};
}

bool SelectorMatches(const kube::PodSpec& spec, const kube::Node& node) {
  const core::Labels& labels = node.metadata.labels;
  for (const auto& [key, value] : spec.node_selector) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  if (spec.affinity && spec.affinity->node_affinity && spec.affinity->node_affinity->required) {
    return core::Matches(*spec.affinity->node_affinity->required, labels, node.metadata.name);
  }
  return true;
}

}  // namespace

std::vector<core::Toleration> DaemonPodTolerations(bool host_network) {
  using core::TaintEffect;
  std::vector<core::Toleration> out = {
      Exists("node.kubernetes.io/not-ready", TaintEffect::kNoExecute),
      Exists("node.kubernetes.io/unreachable", TaintEffect::kNoExecute),
      Exists("node.kubernetes.io/disk-pressure", TaintEffect::kNoSchedule),
      Exists("node.kubernetes.io/memory-pressure", TaintEffect::kNoSchedule),
      Exists("node.kubernetes.io/pid-pressure", TaintEffect::kNoSchedule),
      Exists("node.kubernetes.io/unschedulable", TaintEffect::kNoSchedule),
  };
  if (host_network) out.push_back(Exists("node.kubernetes.io/network-unavailable", TaintEffect::kNoSchedule));
  return out;
}

std::vector<core::Toleration> WithDaemonPodTolerations(const kube::PodSpec& spec) {
  std::vector<core::Toleration> out = spec.tolerations;
  for (core::Toleration& t : DaemonPodTolerations(spec.host_network)) {
    if (std::find(out.begin(), out.end(), t) == out.end()) out.push_back(std::move(t));
  }
  return out;
}

NodeDecision ShouldRun(const kube::PodSpec& spec, const kube::Node& node) {
  if (!spec.node_name.empty() && spec.node_name != node.metadata.name) return {};
  if (!SelectorMatches(spec, node)) return {};
  const std::vector<core::Toleration> tolerations = WithDaemonPodTolerations(spec);
  if (!core::FindUntoleratedTaint(node.spec.taints, tolerations)) return {.should_run = true, .should_continue_running = true};
  std::vector<core::Taint> no_execute;
  for (const core::Taint& t : node.spec.taints) {
    if (t.effect == core::TaintEffect::kNoExecute) no_execute.push_back(t);
  }
  return {.should_run = false, .should_continue_running = !core::FindUntoleratedTaint(no_execute, tolerations)};
}

std::string TemplateHash(const nlohmann::json& pod_template) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : pod_template.dump()) {
    hash ^= c;
    hash *= 16777619u;
  }
  // rand.SafeEncodeString: no vowels (no words) and no look-alike characters.
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (char digit : std::to_string(hash)) out += kAlphabet[static_cast<unsigned char>(digit) % kAlphabet.size()];
  return out;
}

nlohmann::json NewDaemonPod(const nlohmann::json& daemon_set, const std::string& hash, const std::string& node) {
  const nlohmann::json ds_meta = daemon_set.value("metadata", nlohmann::json::object());
  const nlohmann::json tmpl = daemon_set.value("spec", nlohmann::json::object()).value("template", nlohmann::json::object());
  nlohmann::json meta = nlohmann::json::object();
  const nlohmann::json tmpl_meta = tmpl.value("metadata", nlohmann::json::object());
  if (tmpl_meta.contains("annotations")) meta["annotations"] = tmpl_meta["annotations"];
  meta["labels"] = tmpl_meta.value("labels", nlohmann::json::object());
  meta["labels"]["controller-revision-hash"] = hash;
  meta["labels"]["pod-template-generation"] = std::to_string(ds_meta.value("generation", int64_t{1}));
  const std::string name = ds_meta.value("name", "");
  meta["generateName"] = name + "-";
  meta["namespace"] = ds_meta.value("namespace", "");
  meta["ownerReferences"] = {{{"apiVersion", "apps/v1"},
                              {"kind", "DaemonSet"},
                              {"name", name},
                              {"uid", ds_meta.value("uid", "")},
                              {"controller", true},
                              {"blockOwnerDeletion", true}}};

  nlohmann::json spec = tmpl.value("spec", nlohmann::json::object());
  nlohmann::json& tolerations = spec["tolerations"];
  if (!tolerations.is_array()) tolerations = nlohmann::json::array();
  auto decoded = core::TolerationsFromJson(tolerations, "spec.tolerations");
  std::vector<core::Toleration> have = decoded.ok() ? *decoded : std::vector<core::Toleration>{};
  for (const core::Toleration& t : DaemonPodTolerations(spec.value("hostNetwork", false))) {
    if (std::find(have.begin(), have.end(), t) == have.end()) tolerations.push_back(core::ToJson(t));
  }
  spec["nodeName"] = node;
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", std::move(meta)}, {"spec", std::move(spec)}};
}

}  // namespace gpufleet::sim
