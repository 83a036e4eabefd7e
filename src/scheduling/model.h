// The simulator's inputs and outputs: plain structs, no I/O. The provisioner builds an Input
// from its informers (pods, nodes, NodeClaims, NodePools, DaemonSets) and the cloud provider's
// instance types; Solve (scheduler.h) returns a Placement for every pod and the NodeClaims to
// create. Indices refer to the vectors of the same Input.
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "core/label_selector.h"
#include "core/labels.h"
#include "core/requirements.h"
#include "core/resource_list.h"
#include "core/taints.h"
#include "scheduling/instance_type.h"

namespace gpufleet::scheduling {

struct HostPort {
  int32_t port = 0;
  std::string protocol = "TCP";
  std::string host_ip;  // "" or 0.0.0.0: every address

  friend bool operator==(const HostPort&, const HostPort&) = default;
};

// A required pod (anti-)affinity term: pods matching `selector` in `namespaces` (empty: the
// pod's own namespace) count, per value of `topology_key`.
struct AffinityTerm {
  std::string topology_key;
  core::LabelSelector selector = core::LabelSelector::Nothing();
  std::vector<std::string> namespaces;
  bool all_namespaces = false;  // an empty namespaceSelector
};

// A topologySpreadConstraint. matchLabelKeys are folded into `selector` by the caller.
// ScheduleAnyway constraints are enforced like DoNotSchedule ones until relaxed (Karpenter).
struct TopologySpread {
  int32_t max_skew = 1;
  std::string topology_key;
  core::LabelSelector selector = core::LabelSelector::Nothing();
  int32_t min_domains = 1;
  bool schedule_anyway = false;
};

// A preferred pod (anti-)affinity term.
struct WeightedAffinityTerm {
  int32_t weight = 0;
  AffinityTerm term;
};

// A preferred node-affinity term: its requirements (the term's expressions).
struct WeightedRequirements {
  int32_t weight = 0;
  core::Requirements requirements;
};

// A pod already running on an existing node: it counts towards topology, and its anti-affinity
// keeps matching pods out of its domain (symmetry).
struct BoundPod {
  std::string ns;
  core::Labels labels;
  std::vector<AffinityTerm> anti_affinity;
};

struct Pod {
  std::string key;  // namespace/name, for results and messages
  std::string ns;
  std::string uid;
  int64_t created = 0;  // creation time (any monotonic unit): older pods first among equals
  core::Labels labels;
  core::ResourceList requests;  // EffectiveRequests (pod_requests.h)
  // nodeSelector and the first term of required node affinity, intersected.
  core::Requirements requirements;
  // The other OR-ed terms of required node affinity, tried in order when the first fails.
  std::vector<core::Requirements> alternative_requirements;
  std::vector<core::Toleration> tolerations;
  std::vector<HostPort> host_ports;
  std::vector<TopologySpread> topology_spread;
  std::vector<AffinityTerm> affinity;       // required podAffinity
  std::vector<AffinityTerm> anti_affinity;  // required podAntiAffinity
  // Preferences, enforced as if required (heaviest first) and dropped one at a time when the
  // pod cannot be placed, in Karpenter's order (scheduler.h).
  std::vector<WeightedRequirements> preferred_node_affinity;
  std::vector<WeightedAffinityTerm> preferred_affinity;
  std::vector<WeightedAffinityTerm> preferred_anti_affinity;
};

struct NodePool {
  std::string name;
  int32_t weight = 0;  // higher first
  core::Requirements requirements;
  core::Labels labels;                    // spec.template.metadata.labels
  std::vector<core::Taint> taints;        // pods must tolerate them
  std::vector<core::Taint> startup_taints;  // removed by the node's agents; not checked
  core::ResourceList limits;              // empty: unlimited
  core::ResourceList in_use;              // capacity of this pool's existing nodes and claims
  std::vector<size_t> instance_types;     // into Input::instance_types
};

// A Node, or a NodeClaim already launched but not yet a Node (in flight).
struct ExistingNode {
  std::string name;
  std::string nodepool;  // "" for nodes Karpenter does not manage
  core::Labels labels;
  std::vector<core::Taint> taints;
  core::ResourceList allocatable;
  core::ResourceList requested;  // pods bound to it, and DaemonSet pods it will run
  std::vector<HostPort> host_ports;  // in use
  std::vector<BoundPod> pods;        // for topology and anti-affinity
  bool initialized = true;  // false: startup and known ephemeral taints are ignored
};

// A DaemonSet's pod: every new node that can run it pays its requests.
struct DaemonSetPod {
  std::string name;
  core::ResourceList requests;
  core::Requirements requirements;
  std::vector<core::Toleration> tolerations;
};

struct Input {
  std::vector<Pod> pods;
  std::vector<ExistingNode> nodes;
  std::vector<NodePool> nodepools;
  std::vector<InstanceType> instance_types;
  std::vector<DaemonSetPod> daemonsets;
};

struct Options {
  // Label keys a pod may require though a NodePool does not define them, because the instance
  // type or offering will (Karpenter's WellKnownLabels). Defaults: DefaultWellKnownLabels().
  std::set<std::string, std::less<>> well_known_labels;
  // Instance types kept per NodeClaim, cheapest first (Karpenter's MaxInstanceTypes).
  size_t max_instance_types = 600;
  // Polled once per pod; true stops the solve and returns what was placed (a deadline the
  // caller measures: this module reads no clock).
  std::function<bool()> out_of_time;
  // Tries every claim of the solve for every pod, without the shortcuts that skip claims which
  // cannot take it (claims pinned to other zones; claims all blocked by hostname anti-affinity).
  // The decisions are the same either way; tests compare the two.
  bool exhaustive_claim_scan = false;
  // Re-pack groups of identical GPU pods for the lowest total price after the greedy solve
  // (gpu_cost.h). Off: Karpenter's decisions exactly.
  bool optimize_gpu_cost = true;
  // Karpenter's strict reserved-offering mode: when a claim is compatible with reserved
  // offerings but every one of their reservations is used up in this solve, the pod waits for
  // the next solve instead of falling back to on-demand, spot or a lower-weight NodePool.
  bool strict_reservations = true;
  // Karpenter's --preference-policy=Ignore: preferred terms and ScheduleAnyway spread are left
  // out from the start instead of being tried first.
  bool ignore_preferences = false;
  // Karpenter's last relaxation step, off by default as there: once every preference is
  // dropped, tolerate PreferNoSchedule taints.
  bool tolerate_prefer_no_schedule = false;
};

std::set<std::string, std::less<>> DefaultWellKnownLabels();

struct NewNodeClaim {
  size_t nodepool = 0;
  core::Requirements requirements;  // the pool's, its labels, and every pod's, intersected
  std::vector<size_t> instance_types;  // compatible, fitting, available: cheapest first
  core::ResourceList requests;         // pods plus DaemonSet overhead
  std::vector<size_t> pods;            // into Input::pods, in placement order
};

struct Placement {
  enum class Kind { kUnplaced, kExistingNode, kNewNodeClaim };
  Kind kind = Kind::kUnplaced;
  size_t index = 0;   // into Input::nodes or Result::new_claims
  std::string error;  // kUnplaced: why (every NodePool's reason, or the deadline)
};

struct Result {
  std::vector<Placement> placements;  // one per Input::pods, same order
  std::vector<NewNodeClaim> new_claims;
  bool timed_out = false;
};

}  // namespace gpufleet::scheduling
