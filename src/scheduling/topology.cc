#include "scheduling/topology.h"

#include <algorithm>
#include <climits>
#include <iterator>

namespace gpufleet::scheduling {
namespace {

constexpr std::string_view kHostname = core::labels::kHostname;

std::string NodeDomain(const ExistingNode& node, const std::string& key) {
  auto it = node.labels.find(key);
  if (it != node.labels.end()) return it->second.str();
  return key == kHostname ? node.name : "";
}

void InsertSorted(std::vector<std::string>& v, const std::string& s) {
  auto it = std::lower_bound(v.begin(), v.end(), s);
  if (it == v.end() || *it != s) v.insert(it, s);
}

}  // namespace

bool Topology::Group::Selects(const std::string& ns, const core::Labels& labels) const {
  if (!all_namespaces && !std::binary_search(namespaces.begin(), namespaces.end(), ns)) return false;
  return selector.Matches(labels);
}

Topology::Topology(const Input& in, const std::vector<core::Requirements>& pool_requirements) : in_(in) {
  constrained_by_.resize(in.pods.size());
  counted_in_.resize(in.pods.size());
  auto term_group = [&](Kind kind, const Pod& pod, const AffinityTerm& t) {
    return GroupFor(kind, pod.ns, t.topology_key, t.selector, t.namespaces, t.all_namespaces, 1, 1);
  };
  // Preferred terms by weight, heaviest first (stable: spec order among equals).
  auto by_weight = [](const std::vector<WeightedAffinityTerm>& terms) {
    std::vector<size_t> order(terms.size());
    for (size_t k = 0; k < order.size(); ++k) order[k] = k;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return terms[a].weight > terms[b].weight; });
    return order;
  };
  for (size_t i = 0; i < in.pods.size(); ++i) {
    const Pod& pod = in.pods[i];
    size_t anyway = 0;
    for (const TopologySpread& s : pod.topology_spread) {
      const size_t g = GroupFor(Kind::kSpread, pod.ns, s.topology_key, s.selector, {}, false, s.max_skew, s.min_domains);
      constrained_by_[i].push_back(s.schedule_anyway ? Constraint{g, Source::kScheduleAnyway, anyway++}
                                                     : Constraint{g, Source::kRequired, 0});
    }
    for (const AffinityTerm& t : pod.affinity) constrained_by_[i].push_back({term_group(Kind::kAffinity, pod, t)});
    for (const AffinityTerm& t : pod.anti_affinity) {
      constrained_by_[i].push_back({term_group(Kind::kAntiAffinity, pod, t)});
      counted_in_[i].push_back(term_group(Kind::kInverseAntiAffinity, pod, t));
    }
    const std::vector<size_t> aff = by_weight(pod.preferred_affinity);
    for (size_t rank = 0; rank < aff.size(); ++rank) {
      constrained_by_[i].push_back(
          {term_group(Kind::kAffinity, pod, pod.preferred_affinity[aff[rank]].term), Source::kPreferredAffinity, rank});
    }
    const std::vector<size_t> anti = by_weight(pod.preferred_anti_affinity);
    for (size_t rank = 0; rank < anti.size(); ++rank) {
      constrained_by_[i].push_back(
          {term_group(Kind::kAntiAffinity, pod, pod.preferred_anti_affinity[anti[rank]].term), Source::kPreferredAnti, rank});
    }
  }
  for (const ExistingNode& node : in.nodes) {
    for (const BoundPod& b : node.pods) {
      for (const AffinityTerm& t : b.anti_affinity) {
        GroupFor(Kind::kInverseAntiAffinity, b.ns, t.topology_key, t.selector, t.namespaces, t.all_namespaces, 1, 1);
      }
    }
  }
  // Which groups each pod counts in, and which inverse groups constrain it.
  for (size_t i = 0; i < in.pods.size(); ++i) {
    const Pod& pod = in.pods[i];
    for (size_t g = 0; g < groups_.size(); ++g) {
      if (!groups_[g].Selects(pod.ns, pod.labels)) continue;
      if (groups_[g].kind == Kind::kInverseAntiAffinity) {
        constrained_by_[i].push_back({g});
      } else {
        counted_in_[i].push_back(g);
      }
    }
  }
  // The domain universe of every key a group uses.
  for (const Group& g : groups_) {
    if (domains_.count(g.key) != 0) continue;
    std::vector<std::string>& values = domains_[g.key];
    for (size_t p = 0; p < in.nodepools.size(); ++p) {
      const core::Requirement pool_req = pool_requirements[p].Get(g.key);
      for (size_t t : in.nodepools[p].instance_types) {
        const core::Requirements& type_reqs = in.instance_types[t].requirements;
        if (!type_reqs.Has(g.key)) continue;
        const core::Requirement r = type_reqs.Get(g.key);
        if (r.complement()) continue;
        for (const std::string& v : r.values()) {
          if (pool_req.Has(v)) InsertSorted(values, v);
        }
      }
    }
    for (const ExistingNode& node : in.nodes) {
      if (std::string d = NodeDomain(node, g.key); !d.empty()) InsertSorted(values, d);
    }
  }
  for (Group& g : groups_) {
    for (const std::string& d : domains_[g.key]) g.counts.emplace(d, 0);
  }
  // Pods already running count where they run.
  for (const ExistingNode& node : in.nodes) {
    for (const BoundPod& b : node.pods) {
      for (Group& g : groups_) {
        const std::string d = NodeDomain(node, g.key);
        if (d.empty()) continue;
        if (g.kind != Kind::kInverseAntiAffinity && g.Selects(b.ns, b.labels)) ++g.counts[d];
      }
      for (const AffinityTerm& t : b.anti_affinity) {
        const size_t g = GroupFor(Kind::kInverseAntiAffinity, b.ns, t.topology_key, t.selector, t.namespaces,
                                  t.all_namespaces, 1, 1);
        if (std::string d = NodeDomain(node, t.topology_key); !d.empty()) ++groups_[g].counts[d];
      }
    }
  }
}

size_t Topology::GroupFor(Kind kind, const std::string& pod_ns, const std::string& key,
                          const core::LabelSelector& selector, const std::vector<std::string>& namespaces,
                          bool all_namespaces, int32_t max_skew, int32_t min_domains) {
  std::vector<std::string> ns = namespaces.empty() && !all_namespaces ? std::vector<std::string>{pod_ns} : namespaces;
  std::sort(ns.begin(), ns.end());
  ns.erase(std::unique(ns.begin(), ns.end()), ns.end());
  std::string id = std::to_string(static_cast<int>(kind)) + "|" + key + "|" + selector.ToString() + "|" +
                   std::to_string(all_namespaces) + "|" + std::to_string(max_skew) + "|" + std::to_string(min_domains);
  for (const std::string& n : ns) id += "|" + n;
  auto [it, inserted] = group_index_.emplace(id, groups_.size());
  if (!inserted) return it->second;
  Group g{.kind = kind, .key = key, .selector = selector, .namespaces = std::move(ns), .all_namespaces = all_namespaces,
          .max_skew = max_skew, .min_domains = min_domains};
  static constexpr const char* kKinds[] = {"topology spread", "pod affinity", "pod anti-affinity",
                                           "anti-affinity of a placed pod"};
  g.description = std::string(kKinds[static_cast<int>(kind)]) + " on " + key + " (" + selector.ToString() + ")";
  if (kind == Kind::kSpread) g.description += " maxSkew " + std::to_string(max_skew);
  if (auto d = domains_.find(key); d != domains_.end()) {
    for (const std::string& v : d->second) g.counts.emplace(v, 0);
  }
  groups_.push_back(std::move(g));
  return groups_.size() - 1;
}

bool Topology::Active(const Constraint& c, const Relaxation& relax) {
  switch (c.source) {
    case Source::kRequired: return true;
    case Source::kPreferredAffinity: return !relax.ignore_preferences && c.rank >= relax.preferred_affinity;
    case Source::kPreferredAnti: return !relax.ignore_preferences && c.rank >= relax.preferred_anti;
    case Source::kScheduleAnyway: return !relax.ignore_preferences && c.rank >= relax.schedule_anyway;
  }
  return true;
}

void Topology::RegisterClaimHostname(const std::string& hostname) {
  // Hostname domains need no universe list: a claim's hostname is always pinned, and a missing
  // count reads as zero. Only the anti-affinity groups track which claims they leave open.
  claim_hostnames_.insert(hostname);
  for (Group& g : groups_) {
    if ((g.kind == Kind::kAntiAffinity || g.kind == Kind::kInverseAntiAffinity) && g.key == kHostname &&
        Count(g, hostname) == 0) {  // registered after its first pod was recorded, which may block it
      g.unblocked_claims.insert(hostname);
    }
  }
}

const std::unordered_set<std::string>* Topology::UnblockedClaimHostnames(size_t pod_index,
                                                                          const Relaxation& relax) const {
  const std::unordered_set<std::string>* best = nullptr;
  for (const Constraint& c : constrained_by_[pod_index]) {
    if (!Active(c, relax)) continue;
    const Group& g = groups_[c.group];
    if ((g.kind == Kind::kAntiAffinity || g.kind == Kind::kInverseAntiAffinity) && g.key == kHostname &&
        (best == nullptr || g.unblocked_claims.size() < best->size())) {
      best = &g.unblocked_claims;
    }
  }
  return best;
}

int Topology::Count(const Group& g, const std::string& domain) {
  auto it = g.counts.find(domain);
  return it == g.counts.end() ? 0 : it->second;
}

int Topology::SpreadMinimum(const Group& g, const core::Requirement* pod_domains) const {
  if (g.key == kHostname) return 0;  // a new node is always possible
  int min = INT_MAX, eligible = 0;
  if (auto it = domains_.find(g.key); it != domains_.end()) {
    for (const std::string& d : it->second) {
      if (pod_domains != nullptr && !pod_domains->Has(d)) continue;
      ++eligible;
      min = std::min(min, Count(g, d));
    }
  }
  return eligible < g.min_domains || eligible == 0 ? 0 : min;
}

bool Topology::Admits(const Group& g, const std::string& domain, bool self, int spread_min) {
  switch (g.kind) {
    case Kind::kSpread: return Count(g, domain) + (self ? 1 : 0) - spread_min <= g.max_skew;
    case Kind::kAffinity: return Count(g, domain) > 0;
    case Kind::kAntiAffinity:
    case Kind::kInverseAntiAffinity: return Count(g, domain) == 0;
  }
  return false;
}

std::optional<std::vector<std::string>> Topology::AdmissibleDomains(size_t pod_index, const std::string& key,
                                                                    const core::Requirements& pod_reqs,
                                                                    const Relaxation& relax) const {
  auto universe = domains_.find(key);
  if (universe == domains_.end()) return std::nullopt;
  const Pod& pod = in_.pods[pod_index];
  const core::Requirement* pod_domains = pod_reqs.Find(key);
  std::optional<std::vector<std::string>> out;
  if (pod_domains != nullptr) {
    out.emplace();
    for (const std::string& d : universe->second) {
      if (pod_domains->Has(d)) out->push_back(d);
    }
  }
  for (const Constraint& c : constrained_by_[pod_index]) {
    if (!Active(c, relax)) continue;
    const Group& g = groups_[c.group];
    if (g.key != key) continue;
    const bool self = g.Selects(pod.ns, pod.labels);
    const int spread_min = g.kind == Kind::kSpread ? SpreadMinimum(g, pod_domains) : 0;
    std::vector<std::string> ok;
    for (const std::string& d : universe->second) {
      if (Admits(g, d, self, spread_min)) ok.push_back(d);
    }
    if (g.kind == Kind::kAffinity && ok.empty() && self) ok = universe->second;  // may start anywhere
    if (!out) {
      out = std::move(ok);
    } else {
      std::vector<std::string> both;
      std::set_intersection(out->begin(), out->end(), ok.begin(), ok.end(), std::back_inserter(both));
      out = std::move(both);
    }
  }
  return out;
}

Status Topology::Allowed(const Group& g, size_t pod_index, const core::Requirement* pod_domains,
                         const core::Requirement* node_domains, std::vector<std::string>& out, bool explain) const {
  const Pod& pod = in_.pods[pod_index];
  auto pod_allows = [&](const std::string& d) { return pod_domains == nullptr || pod_domains->Has(d); };
  // Calls fn for the domains the node could be in and the pod may use, in name order.
  auto for_candidates = [&](auto fn) {
    if (node_domains != nullptr && !node_domains->complement()) {
      for (const std::string& d : node_domains->values()) {
        if (pod_allows(d)) fn(d);
      }
    } else if (auto it = domains_.find(g.key); it != domains_.end()) {
      for (const std::string& d : it->second) {
        if ((node_domains == nullptr || node_domains->Has(d)) && pod_allows(d)) fn(d);
      }
    }
  };
  const bool self = g.Selects(pod.ns, pod.labels);
  const int spread_min = g.kind == Kind::kSpread ? SpreadMinimum(g, pod_domains) : 0;
  const std::string* first = nullptr;
  const std::string* least = nullptr;  // spread: the least-loaded admitted domain
  for_candidates([&](const std::string& d) {
    if (first == nullptr) first = &d;
    if (!Admits(g, d, self, spread_min)) return;
    if (g.kind != Kind::kSpread) {
      out.push_back(d);
    } else if (least == nullptr || Count(g, d) < Count(g, *least)) {
      least = &d;
    }
  });
  if (least != nullptr) out.push_back(*least);
  if (g.kind == Kind::kAffinity && out.empty() && self && first != nullptr) {
    bool any_selected = false;
    for (const auto& [d, c] : g.counts) any_selected = any_selected || (c > 0 && pod_allows(d));
    if (!any_selected) out.push_back(*first);  // the first pod of a self-affine group
  }
  static const Status kUnsatisfiable = FailedPreconditionError("unsatisfiable topology");
  if (out.empty()) return explain ? FailedPreconditionError("unsatisfiable " + g.description) : kUnsatisfiable;
  return OkStatus();
}

Status Topology::Narrow(size_t pod_index, const core::Requirements& pod_reqs, const core::Requirements& node_reqs,
                        std::vector<core::Requirement>& narrowings, bool explain, const Relaxation& relax) const {
  for (const Constraint& c : constrained_by_[pod_index]) {
    if (!Active(c, relax)) continue;
    const Group& g = groups_[c.group];
    const core::Requirement* pod_domains = pod_reqs.Find(g.key);
    const core::Requirement* node_domains = node_reqs.Find(g.key);
    std::vector<std::string> allowed;
    GF_RETURN_IF_ERROR(Allowed(g, pod_index, pod_domains, node_domains, allowed, explain));
    // A no-op when every domain the node could still be in is allowed.
    bool narrows = node_domains == nullptr || node_domains->complement();
    if (!narrows) {
      for (const std::string& d : node_domains->values()) {
        if ((pod_domains == nullptr || pod_domains->Has(d)) &&
            !std::binary_search(allowed.begin(), allowed.end(), d)) {
          narrows = true;
          break;
        }
      }
    }
    if (narrows) narrowings.push_back(core::Requirement::In(g.key, std::move(allowed)));
  }
  return OkStatus();
}

void Topology::Record(size_t pod_index, const core::Requirements& node_reqs) {
  for (size_t gi : counted_in_[pod_index]) {
    Group& g = groups_[gi];
    const core::Requirement* r = node_reqs.Find(g.key);
    if (r == nullptr || r->complement()) continue;
    if (g.kind == Kind::kAntiAffinity || g.kind == Kind::kInverseAntiAffinity) {
      // Anti-affinity must block every domain the pod may still land in (Karpenter's rule).
      for (const std::string& d : r->values()) {
        if (++g.counts[d] == 1 && g.key == kHostname && claim_hostnames_.count(d) != 0) {
          g.unblocked_claims.erase(d);
        }
      }
    } else if (r->values().size() == 1) {
      ++g.counts[r->values().front()];
    }
  }
}

}  // namespace gpufleet::scheduling
