#include "provisioner/scheduling_input.h"

#include "core/time_format.h"
#include "scheduling/instance_type.h"
#include "scheduling/pod_requests.h"

namespace gpufleet::provisioner {
namespace {

// metav1.LabelSelector with matchLabelKeys folded in: for each key the pod carries, only pods
// with the same value are selected (keys the pod lacks are ignored, as kube-scheduler does).
Result<core::LabelSelector> SelectorWithKeys(const std::optional<kube::LabelSelectorSpec>& spec,
                                             const std::vector<core::InternedString>& match_label_keys,
                                             const core::Labels& pod_labels) {
  if (!spec) return core::LabelSelector::Nothing();
  kube::LabelSelectorSpec folded = *spec;
  for (const auto& key : match_label_keys) {
    auto it = pod_labels.find(key);
    if (it == pod_labels.end()) continue;
    folded.match_expressions.push_back(
        kube::LabelSelectorRequirementSpec{.key = key, .op = "In", .values = {it->second}});
  }
  return folded.Compile();
}

Result<scheduling::AffinityTerm> ToAffinityTerm(const kube::PodAffinityTerm& term, const core::Labels& pod_labels) {
  scheduling::AffinityTerm out;
  out.topology_key = term.topology_key.str();
  GF_ASSIGN_OR_RETURN(out.selector, SelectorWithKeys(term.label_selector, term.match_label_keys, pod_labels));
  for (const auto& ns : term.namespaces) out.namespaces.push_back(ns.str());
  if (term.namespace_selector) {
    // An empty namespaceSelector selects every namespace; a non-empty one is approximated by
    // every namespace too (the simulator does not read Namespace labels).
    out.all_namespaces = true;
  }
  return out;
}

Result<core::Requirements> TermRequirements(const core::Labels& node_selector,
                                            const std::vector<core::NodeSelectorRequirement>& expressions) {
  core::Requirements out = core::Requirements::FromLabels(node_selector);
  GF_ASSIGN_OR_RETURN(core::Requirements term, core::Requirements::FromNodeSelectorRequirements(expressions));
  out.Add(term);
  return out;
}

scheduling::PodResources PodResourcesOf(const kube::PodSpec& spec) {
  scheduling::PodResources out;
  for (const auto& c : spec.containers) {
    out.containers.push_back({.requests = c.resources.requests, .limits = c.resources.limits});
  }
  for (const auto& c : spec.init_containers) {
    out.init_containers.push_back({.requests = c.resources.requests,
                                   .limits = c.resources.limits,
                                   .sidecar = c.restart_policy && *c.restart_policy == "Always"});
  }
  out.overhead = spec.overhead;
  return out;
}

void AddHostPorts(const std::vector<kube::Container>& containers, std::vector<scheduling::HostPort>& out) {
  for (const auto& c : containers) {
    for (const auto& p : c.ports) {
      if (p.host_port <= 0) continue;
      out.push_back({.port = p.host_port,
                     .protocol = p.protocol.empty() ? "TCP" : p.protocol.str(),
                     .host_ip = p.host_ip.str()});
    }
  }
}

}  // namespace

bool IsDaemonSetPod(const kube::Pod& pod) {
  const kube::OwnerReference* owner = pod.metadata.ControllerRef();
  return owner != nullptr && owner->kind == "DaemonSet";
}

bool HoldsResources(const kube::Pod& pod) { return !pod.spec.node_name.empty() && !pod.IsTerminal(); }

bool IsProvisionable(const kube::Pod& pod, PendingPodPolicy policy) {
  if (!pod.spec.node_name.empty() || pod.IsTerminal() || pod.metadata.deletion_timestamp) return false;
  if (IsDaemonSetPod(pod)) return false;
  const kube::PodCondition* scheduled = pod.FindCondition("PodScheduled");
  if (scheduled != nullptr && scheduled->status == "False" && scheduled->reason == "Unschedulable") return true;
  // A pod kube-scheduler is about to bind (preemption nominated a node) is not ours to place.
  if (!pod.status.nominated_node_name.empty()) return false;
  return policy == PendingPodPolicy::kUnbound && scheduled == nullptr;
}

Result<scheduling::Pod> ToSchedulingPod(const kube::Pod& pod) {
  scheduling::Pod out;
  out.key = pod.metadata.Key();
  out.ns = pod.metadata.ns.str();
  out.uid = pod.metadata.uid;
  if (auto created = core::ParseRfc3339(pod.metadata.creation_timestamp); created.ok()) {
    out.created = std::chrono::duration_cast<std::chrono::milliseconds>(created->time_since_epoch()).count();
  }
  out.labels = pod.metadata.labels;
  GF_ASSIGN_OR_RETURN(out.requests, scheduling::EffectiveRequests(PodResourcesOf(pod.spec)));
  out.tolerations = pod.spec.tolerations;
  AddHostPorts(pod.spec.containers, out.host_ports);
  AddHostPorts(pod.spec.init_containers, out.host_ports);

  const kube::NodeAffinity* node_affinity =
      pod.spec.affinity && pod.spec.affinity->node_affinity ? &*pod.spec.affinity->node_affinity : nullptr;
  if (node_affinity != nullptr && node_affinity->required && !node_affinity->required->terms.empty()) {
    const auto& terms = node_affinity->required->terms;
    GF_ASSIGN_OR_RETURN(out.requirements, TermRequirements(pod.spec.node_selector, terms[0].match_expressions));
    for (size_t i = 1; i < terms.size(); ++i) {
      GF_ASSIGN_OR_RETURN(core::Requirements alt, TermRequirements(pod.spec.node_selector, terms[i].match_expressions));
      out.alternative_requirements.push_back(std::move(alt));
    }
  } else {
    out.requirements = core::Requirements::FromLabels(pod.spec.node_selector);
  }
  if (node_affinity != nullptr) {
    for (const auto& preferred : node_affinity->preferred) {
      GF_ASSIGN_OR_RETURN(core::Requirements reqs,
                          core::Requirements::FromNodeSelectorRequirements(preferred.preference.match_expressions));
      out.preferred_node_affinity.push_back({.weight = preferred.weight, .requirements = std::move(reqs)});
    }
  }

  for (const auto& c : pod.spec.topology_spread_constraints) {
    scheduling::TopologySpread spread;
    spread.max_skew = c.max_skew;
    spread.topology_key = c.topology_key.str();
    GF_ASSIGN_OR_RETURN(spread.selector, SelectorWithKeys(c.label_selector, c.match_label_keys, pod.metadata.labels));
    spread.min_domains = c.min_domains.value_or(1);
    spread.schedule_anyway = c.when_unsatisfiable == "ScheduleAnyway";
    out.topology_spread.push_back(std::move(spread));
  }
  if (pod.spec.affinity) {
    if (const auto& affinity = pod.spec.affinity->pod_affinity) {
      for (const auto& term : affinity->required) {
        GF_ASSIGN_OR_RETURN(auto t, ToAffinityTerm(term, pod.metadata.labels));
        out.affinity.push_back(std::move(t));
      }
      for (const auto& term : affinity->preferred) {
        GF_ASSIGN_OR_RETURN(auto t, ToAffinityTerm(term.term, pod.metadata.labels));
        out.preferred_affinity.push_back({.weight = term.weight, .term = std::move(t)});
      }
    }
    if (const auto& anti = pod.spec.affinity->pod_anti_affinity) {
      for (const auto& term : anti->required) {
        GF_ASSIGN_OR_RETURN(auto t, ToAffinityTerm(term, pod.metadata.labels));
        out.anti_affinity.push_back(std::move(t));
      }
      for (const auto& term : anti->preferred) {
        GF_ASSIGN_OR_RETURN(auto t, ToAffinityTerm(term.term, pod.metadata.labels));
        out.preferred_anti_affinity.push_back({.weight = term.weight, .term = std::move(t)});
      }
    }
  }
  return out;
}

Result<scheduling::DaemonSetPod> ToDaemonSetPod(const kube::DaemonSet& daemon_set) {
  const kube::PodSpec& spec = daemon_set.spec.template_.spec;
  scheduling::DaemonSetPod out;
  out.name = daemon_set.metadata.Key();
  GF_ASSIGN_OR_RETURN(out.requests, scheduling::EffectiveRequests(PodResourcesOf(spec)));
  out.tolerations = spec.tolerations;
  const auto* node_affinity = spec.affinity && spec.affinity->node_affinity ? &*spec.affinity->node_affinity : nullptr;
  if (node_affinity != nullptr && node_affinity->required && !node_affinity->required->terms.empty()) {
    GF_ASSIGN_OR_RETURN(out.requirements,
                        TermRequirements(spec.node_selector, node_affinity->required->terms[0].match_expressions));
  } else {
    out.requirements = core::Requirements::FromLabels(spec.node_selector);
  }
  return out;
}

Result<scheduling::NodePool> ToSchedulingNodePool(const kube::NodePool& pool) {
  scheduling::NodePool out;
  out.name = pool.metadata.name;
  out.weight = pool.spec.weight.value_or(0);
  const auto& tmpl = pool.spec.template_;
  GF_ASSIGN_OR_RETURN(out.requirements, core::Requirements::FromNodeSelectorRequirements(tmpl.spec.requirements));
  out.requirements.Add(core::Requirements::FromLabels(tmpl.metadata.labels));
  out.requirements.Add(core::Requirement::In(scheduling::keys::kNodePool, {pool.metadata.name}));
  out.labels = tmpl.metadata.labels;
  out.labels[core::InternedString(scheduling::keys::kNodePool)] = pool.metadata.name;
  out.taints = tmpl.spec.taints;
  out.startup_taints = tmpl.spec.startup_taints;
  out.limits = pool.spec.limits;
  return out;
}

core::Labels NodeClaimLabels(const kube::NodeClaim& claim, const kube::NodePool* pool) {
  core::Labels out = claim.metadata.labels;
  if (pool != nullptr) {
    for (const auto& [k, v] : pool->spec.template_.metadata.labels) out.emplace(k, v);
  }
  for (const auto& r : claim.spec.requirements) {
    if (r.op == core::Operator::kIn && r.values.size() == 1) out.emplace(r.key, r.values[0]);
  }
  return out;
}

Result<PodUsage> UsageOf(const kube::Pod& pod) {
  PodUsage out;
  GF_ASSIGN_OR_RETURN(out.requests, scheduling::EffectiveRequests(PodResourcesOf(pod.spec)));
  AddHostPorts(pod.spec.containers, out.host_ports);
  out.pod.ns = pod.metadata.ns.str();
  out.pod.labels = pod.metadata.labels;
  if (pod.spec.affinity && pod.spec.affinity->pod_anti_affinity) {
    for (const auto& term : pod.spec.affinity->pod_anti_affinity->required) {
      GF_ASSIGN_OR_RETURN(auto t, ToAffinityTerm(term, pod.metadata.labels));
      out.pod.anti_affinity.push_back(std::move(t));
    }
  }
  return out;
}

Result<scheduling::ExistingNode> ToExistingNode(const kube::Node& node, const std::vector<const PodUsage*>& pods,
                                                const kube::NodeClaim* claim, const kube::NodePool* pool) {
  scheduling::ExistingNode out;
  out.name = node.metadata.name;
  auto pool_label = node.metadata.labels.find(scheduling::keys::kNodePool);
  if (pool_label != node.metadata.labels.end()) out.nodepool = pool_label->second.str();
  out.labels = node.metadata.labels;
  // Until the controller has synced a new Node's labels, the NodeClaim's say what it will carry
  // (Karpenter's state node does the same); labels the Node already has win.
  if (claim != nullptr) {
    for (const auto& [k, v] : NodeClaimLabels(*claim, pool)) out.labels.emplace(k, v);
  }
  out.labels[core::InternedString(core::labels::kHostname)] = node.metadata.name;
  out.taints = node.spec.taints;
  if (node.spec.unschedulable) {
    out.taints.push_back(core::Taint{.key = "node.kubernetes.io/unschedulable", .effect = core::TaintEffect::kNoSchedule});
  }
  out.allocatable = node.status.allocatable;
  // Until initialized, the node's allocatable may still lack what the claim was launched for
  // (kubelet zeroes extended resources until the device plugin reports them).
  out.initialized = claim == nullptr || kube::IsConditionTrue(claim->status.conditions, "Initialized");
  if (!out.initialized && claim != nullptr) {
    for (const auto& [name, q] : claim->status.allocatable) {
      const core::Quantity* have = out.allocatable.Find(name);
      if (have == nullptr || have->Sign() == 0) out.allocatable.Set(name, q);
    }
  }
  for (const PodUsage* usage : pods) {
    GF_RETURN_IF_ERROR(core::MergeInto(out.requested, usage->requests));
    out.host_ports.insert(out.host_ports.end(), usage->host_ports.begin(), usage->host_ports.end());
    out.pods.push_back(usage->pod);
  }
  return out;
}

scheduling::ExistingNode InFlightNode(const kube::NodeClaim& claim, const kube::NodePool* pool) {
  scheduling::ExistingNode out;
  out.name = claim.status.node_name.empty() ? "nodeclaim/" + claim.metadata.name : claim.status.node_name;
  out.nodepool = std::string(claim.NodePoolName());
  out.labels = NodeClaimLabels(claim, pool);
  out.labels[core::InternedString(core::labels::kHostname)] = out.name;
  out.taints = claim.spec.taints;
  for (const auto& t : claim.spec.startup_taints) out.taints.push_back(t);
  out.allocatable = claim.status.allocatable.empty() ? claim.spec.resources.requests : claim.status.allocatable;
  out.initialized = false;
  return out;
}

}  // namespace gpufleet::provisioner
