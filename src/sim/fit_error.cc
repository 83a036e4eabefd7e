#include "sim/fit_error.h"

#include <algorithm>
#include <map>

#include "core/requirements.h"
#include "core/taints.h"
#include "scheduling/claim.h"

namespace gpufleet::sim {
namespace {

bool MatchesAffinity(const scheduling::Pod& pod, const core::Requirements& node) {
  if (node.IsCompatible(pod.requirements)) return true;
  return std::any_of(pod.alternative_requirements.begin(), pod.alternative_requirements.end(),
                     [&](const core::Requirements& alt) { return node.IsCompatible(alt); });
}

std::vector<std::string> Insufficient(const scheduling::Pod& pod, const scheduling::ExistingNode& state) {
  core::ResourceList need = pod.requests;
  (void)core::MergeInto(need, core::ResourceList{{"pods", core::Quantity::FromInt(1)}});
  auto free = core::Subtract(state.allocatable, state.requested);
  std::vector<std::string> out;
  if (!free.ok()) return out;
  for (const auto& [name, quantity] : need) {
    if (quantity.Sign() <= 0 || core::CmpResource(need, *free, name) <= 0) continue;
    out.push_back(name == "pods" ? "Too many pods" : "Insufficient " + name);
  }
  return out;
}

}  // namespace

std::vector<std::string> NodeRefusals(const scheduling::Pod& pod, const NodeFit& fit) {
  const kube::Node& node = *fit.node;
  if (fit.state == nullptr) {
    return {node.metadata.deletion_timestamp ? "node(s) were being deleted" : "node(s) were not ready"};
  }
  const core::Taint cordon{.key = std::string(core::taints::kUnschedulable), .effect = core::TaintEffect::kNoSchedule};
  if (node.spec.unschedulable && !core::Tolerated(pod.tolerations, cordon)) return {"node(s) were unschedulable"};
  if (auto taint = core::FindUntoleratedTaint(node.spec.taints, pod.tolerations)) {
    return {"node(s) had untolerated taint {" + taint->key + ": " + taint->value + "}"};
  }
  if (!MatchesAffinity(pod, core::Requirements::FromLabels(fit.state->labels))) {
    return {"node(s) didn't match Pod's node affinity/selector"};
  }
  if (!pod.host_ports.empty() && scheduling::HostPortConflict(fit.state->host_ports, pod.host_ports)) {
    return {"node(s) didn't have free ports for the requested pod ports"};
  }
  if (auto short_of = Insufficient(pod, *fit.state); !short_of.empty()) return short_of;
  return {"node(s) didn't satisfy the pod's affinity, anti-affinity or topology spread constraints"};
}

std::string UnschedulableMessage(const scheduling::Pod& pod, const std::vector<NodeFit>& nodes) {
  if (nodes.empty()) return "no nodes available to schedule pods";
  std::map<std::string, int> counts;
  for (const NodeFit& fit : nodes) {
    for (std::string& reason : NodeRefusals(pod, fit)) ++counts[std::move(reason)];
  }
  std::vector<std::string> parts;
  for (const auto& [reason, n] : counts) parts.push_back(std::to_string(n) + " " + reason);
  std::sort(parts.begin(), parts.end());  // kube-scheduler sorts the "<count> <reason>" strings
  std::string out = "0/" + std::to_string(nodes.size()) + " nodes are available: ";
  for (size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? "" : ", ") + parts[i];
  return out + ".";
}

}  // namespace gpufleet::sim
