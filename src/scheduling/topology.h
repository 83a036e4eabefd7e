// Topology: pod topology spread and required pod (anti-)affinity during a solve (Karpenter's
// scheduling/topology.go and topologygroup.go).
//
// A group counts, per domain (a value of its topology key: a zone, a hostname), the pods that
// its selector selects. Groups come from every pod's spread constraints and affinity terms,
// plus an inverse group per anti-affinity term (counting the pods that *own* the term, so a pod
// they select stays out of their domains: anti-affinity is symmetric). Domains are registered
// up front: each key's values over the NodePools' instance types and the existing nodes, so a
// zone no node runs in yet still counts as an empty domain (a claim's hostname is always pinned,
// so hostnames need no list: a missing count reads as zero). Existing nodes' pods are counted at
// construction.
//
// When a pod is tried on a node or claim, Narrow narrows the node's requirement on each
// relevant key to the domains the pod may use there:
//   spread      the least-loaded allowed domain whose count (plus the pod, if it selects itself)
//               stays within maxSkew of the minimum over the pod's eligible domains (zero for
//               hostname: a new node is always possible, and below minDomains)
//   affinity    domains already holding a selected pod; the first pod of a self-selecting group
//               may start one (the first domain the node allows)
//   anti-affinity and inverse anti-affinity: domains holding no selected pod (owner)
// Ties go to the smallest domain name (Karpenter's map order is random; ours is deterministic).
// Record counts a placed pod in every group that selects it, for each key the node's
// requirements pin to one value; anti-affinity groups count it in every domain it may still land
// in (so a claim not yet pinned to a zone blocks all its zones, as Karpenter does).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/requirements.h"
#include "core/status.h"
#include "scheduling/model.h"

namespace gpufleet::scheduling {

// How far a pod's preferences have been relaxed (Karpenter's Preferences.Relax, in order).
struct Relaxation {
  size_t node_terms = 0;            // required node-affinity OR-terms dropped (from the front)
  size_t preferred_affinity = 0;    // heaviest preferred pod-affinity terms dropped
  size_t preferred_anti = 0;        // heaviest preferred pod-anti-affinity terms dropped
  size_t preferred_node = 0;        // heaviest preferred node-affinity terms dropped
  size_t schedule_anyway = 0;       // ScheduleAnyway spread constraints dropped (in order)
  bool tolerate_prefer_no_schedule = false;
  bool ignore_preferences = false;  // every preference off (Options::ignore_preferences)
};

class Topology {
 public:
  // `pool_requirements[p]`: NodePool p's template requirements (for the domain universe).
  Topology(const Input& in, const std::vector<core::Requirements>& pool_requirements);

  // A new NodeClaim's placeholder hostname (a domain of kubernetes.io/hostname), once the claim
  // exists (after its first pod was added and recorded).
  void RegisterClaimHostname(const std::string& hostname);
  // For a pod under a hostname anti-affinity (own or inverse): the hostnames of the claims not
  // yet blocked by it (the smallest such set); nullptr when no such constraint applies. Only
  // these claims can take the pod: this keeps such pods from costing O(claims) each.
  const std::unordered_set<std::string>* UnblockedClaimHostnames(size_t pod_index, const Relaxation& relax = {}) const;
  // The domains of `key` a node pinned there could take the pod in, or nullopt when the pod's
  // topology does not restrict `key`. A superset filter: the solver skips claims pinned
  // elsewhere without trying them (Narrow still decides).
  std::optional<std::vector<std::string>> AdmissibleDomains(size_t pod_index, const std::string& key,
                                                            const core::Requirements& pod_reqs,
                                                            const Relaxation& relax = {}) const;
  // Appends to `narrowings` one In requirement per key whose allowed domains would actually
  // narrow `node_reqs` (intersected with `pod_reqs`). FailedPrecondition naming the constraint
  // when no domain is left. `relax` (the pod's relaxation) leaves dropped preferences out.
  // Without `explain` a failure carries no message (cheaper when the caller only needs yes/no).
  Status Narrow(size_t pod_index, const core::Requirements& pod_reqs, const core::Requirements& node_reqs,
                std::vector<core::Requirement>& narrowings, bool explain = true, const Relaxation& relax = {}) const;
  void Record(size_t pod_index, const core::Requirements& node_reqs);
  // True when no topology group constrains or counts the pod: moving it between nodes cannot
  // change anyone's topology.
  bool Uninvolved(size_t pod_index) const {
    return constrained_by_[pod_index].empty() && counted_in_[pod_index].empty();
  }

 private:
  enum class Kind { kSpread, kAffinity, kAntiAffinity, kInverseAntiAffinity };
  struct Group {
    Kind kind;
    std::string key;
    core::LabelSelector selector = core::LabelSelector::Nothing();
    std::vector<std::string> namespaces;  // sorted; empty with all_namespaces
    bool all_namespaces = false;
    int32_t max_skew = 1;
    int32_t min_domains = 1;
    std::unordered_map<std::string, int> counts;  // every registered domain, zero included
    std::unordered_set<std::string> unblocked_claims;  // hostname anti-affinity: claims at zero
    std::string description;                      // for errors

    bool Selects(const std::string& ns, const core::Labels& labels) const;
  };

  size_t GroupFor(Kind kind, const std::string& pod_ns, const std::string& key, const core::LabelSelector& selector,
                  const std::vector<std::string>& namespaces, bool all_namespaces, int32_t max_skew, int32_t min_domains);
  // The domains of `key` allowed for the pod by group `g`, given the node's requirement on it.
  static int Count(const Group& g, const std::string& domain);
  // Spread: the minimum count over the pod's eligible domains (0 for hostname, or below
  // minDomains). Other kinds: unused.
  int SpreadMinimum(const Group& g, const core::Requirement* pod_domains) const;
  // Whether a node in `domain` may take the pod under `g`: spread within maxSkew of
  // `spread_min`, affinity where a selected pod is, anti-affinity where none is.
  static bool Admits(const Group& g, const std::string& domain, bool self, int spread_min);
  // nullptr requirements mean unconstrained.
  Status Allowed(const Group& g, size_t pod_index, const core::Requirement* pod_domains,
                 const core::Requirement* node_domains, std::vector<std::string>& out, bool explain) const;

  const Input& in_;
  std::vector<Group> groups_;
  std::unordered_map<std::string, size_t> group_index_;
  // Where a pod's constraint comes from, so relaxation can drop preferences.
  enum class Source : uint8_t { kRequired, kPreferredAffinity, kPreferredAnti, kScheduleAnyway };
  struct Constraint {
    size_t group;
    Source source = Source::kRequired;
    size_t rank = 0;  // preferred terms: position by weight, heaviest first; ScheduleAnyway: order
  };
  static bool Active(const Constraint& c, const Relaxation& relax);
  // Per pod: constraints that apply to it (its own, and inverse groups selecting it).
  std::vector<std::vector<Constraint>> constrained_by_;
  // Per pod: groups it counts in when placed (groups selecting it; inverse groups it owns).
  std::vector<std::vector<size_t>> counted_in_;
  std::unordered_map<std::string, std::vector<std::string>> domains_;  // key -> sorted domains
  std::unordered_set<std::string> claim_hostnames_;
};

}  // namespace gpufleet::scheduling
