#include "scheduling/claim.h"

#include <algorithm>
#include <limits>

namespace gpufleet::scheduling {
namespace {

constexpr std::string_view kZone = core::labels::kZone;

bool NeedsAccelerators(const core::ResourceList& requests) {
  for (const auto& [name, q] : requests) {
    if (IsAcceleratorResource(name) && q.Sign() > 0) return true;
  }
  return false;
}

bool OfferingAllowed(const Offering& o, const core::Requirements& reqs) {
  if (!o.available) return false;
  if (const core::Requirement* zone = reqs.Find(kZone); zone != nullptr && !zone->Has(o.zone)) return false;
  if (const core::Requirement* ct = reqs.Find(keys::kCapacityType);
      ct != nullptr && !ct->Has(CapacityTypeName(o.capacity_type))) {
    return false;
  }
  if (const core::Requirement* r = reqs.Find(keys::kReservationId); r != nullptr) {
    if (o.reservation_id.empty()) {
      // The label is absent on such nodes: only NotIn/DoesNotExist allow that.
      if (r->op() != core::Operator::kNotIn && r->op() != core::Operator::kDoesNotExist) return false;
    } else if (!r->Has(o.reservation_id)) {
      return false;
    }
  }
  return true;
}

std::string Describe(const core::ResourceList& r) { return r.ToJson(); }

}  // namespace

std::set<std::string, std::less<>> DefaultWellKnownLabels() {
  return {std::string(keys::kNodePool), std::string(keys::kCapacityType), std::string(core::labels::kZone),
          std::string(core::labels::kRegion), std::string(core::labels::kInstanceType),
          std::string(core::labels::kArch), std::string(core::labels::kOs), std::string(core::labels::kWindowsBuild),
          std::string(keys::kReservationId), "karpenter.k8s.aws/capacity-reservation-type",
          "karpenter.k8s.aws/instance-category", "karpenter.k8s.aws/instance-family",
          "karpenter.k8s.aws/instance-generation", "karpenter.k8s.aws/instance-size",
          "karpenter.k8s.aws/instance-cpu", "karpenter.k8s.aws/instance-cpu-manufacturer",
          "karpenter.k8s.aws/instance-memory", "karpenter.k8s.aws/instance-hypervisor",
          "karpenter.k8s.aws/instance-network-bandwidth", "karpenter.k8s.aws/instance-local-nvme",
          "karpenter.k8s.aws/instance-ebs-bandwidth", "karpenter.k8s.aws/instance-encryption-in-transit-supported",
          std::string(keys::kGpuCount), std::string(keys::kGpuMemory), std::string(keys::kGpuName),
          "karpenter.k8s.aws/instance-gpu-manufacturer", "karpenter.k8s.aws/instance-accelerator-name",
          "karpenter.k8s.aws/instance-accelerator-count", "karpenter.k8s.aws/instance-accelerator-manufacturer",
          "topology.k8s.aws/zone-id"};
}

bool HostPortConflict(const std::vector<HostPort>& used, const std::vector<HostPort>& wanted) {
  auto wildcard = [](const std::string& ip) { return ip.empty() || ip == "0.0.0.0" || ip == "::"; };
  for (const HostPort& w : wanted) {
    for (const HostPort& u : used) {
      if (w.port != u.port || w.protocol != u.protocol) continue;
      if (wildcard(w.host_ip) || wildcard(u.host_ip) || w.host_ip == u.host_ip) return true;
    }
  }
  return false;
}

ReservationLedger::ReservationLedger(const Input& in) {
  for (const InstanceType& t : in.instance_types) {
    for (const Offering& o : t.offerings) {
      if (o.capacity_type != CapacityType::kReserved || o.reservation_id.empty()) continue;
      int64_t& left = remaining_[o.reservation_id];
      left = std::max<int64_t>(left, o.reservation_capacity);
    }
  }
}

bool ReservationLedger::Reserve(const std::string& claim, const std::string& id) {
  if (Holds(claim, id)) return true;
  auto it = remaining_.find(id);
  if (it == remaining_.end() || it->second <= 0) return false;
  --it->second;
  held_[claim].insert(id);
  return true;
}

void ReservationLedger::Release(const std::string& claim, const std::string& id) {
  auto it = held_.find(claim);
  if (it == held_.end() || it->second.erase(id) == 0) return;
  ++remaining_[id];
}

bool ReservationLedger::Holds(const std::string& claim, const std::string& id) const {
  auto it = held_.find(claim);
  return it != held_.end() && it->second.count(id) != 0;
}

std::vector<std::string> ReservationLedger::Held(const std::string& claim) const {
  auto it = held_.find(claim);
  return it == held_.end() ? std::vector<std::string>() : std::vector<std::string>(it->second.begin(), it->second.end());
}

int64_t ReservationLedger::Remaining(const std::string& id) const {
  auto it = remaining_.find(id);
  return it == remaining_.end() ? 0 : it->second;
}

SolveContext::SolveContext(const Input& input, const Options& opts) : in(input), options(opts), reservations(input) {
  for (const Pod& p : in.pods) resources.Register(p.requests);
  for (const InstanceType& t : in.instance_types) resources.Register(t.capacity);
  for (const ExistingNode& n : in.nodes) resources.Register(n.allocatable);
  for (const DaemonSetPod& d : in.daemonsets) resources.Register(d.requests);
  for (const NodePool& p : in.nodepools) resources.Register(p.limits);
  resources.Register(core::ResourceList{{"pods", core::Quantity::FromInt(1)}});
  const size_t pods = resources.Find("pods");
  for (const Pod& p : in.pods) {
    pod_requests.push_back(resources.ToVector(p.requests));
    // Every pod takes one of the node's pods.
    pod_requests.back()[pods] = SatAdd(pod_requests.back()[pods], core::int128{1'000'000'000});
  }
  for (const InstanceType& t : in.instance_types) {
    type_allocatable.push_back(resources.ToVector(t.allocatable));
    type_capacity.push_back(resources.ToVector(t.capacity));
    type_has_reserved.push_back(std::any_of(t.offerings.begin(), t.offerings.end(), [](const Offering& o) {
      return o.capacity_type == CapacityType::kReserved && !o.reservation_id.empty();
    }));
  }
  cpu_ = resources.Find("cpu");
  memory_ = resources.Find("memory");

  for (const InstanceType& t : in.instance_types) {
    for (const Offering& o : t.offerings) {
      auto it = std::lower_bound(zones_.begin(), zones_.end(), o.zone);
      if (it == zones_.end() || *it != o.zone) zones_.insert(it, o.zone);
    }
  }
  masks_.assign(in.instance_types.size(), 0);
  offering_bits_.resize(in.instance_types.size());
  if (zones_.size() > 21) return;
  for (size_t i = 0; i < in.instance_types.size(); ++i) {
    for (const Offering& o : in.instance_types[i].offerings) {
      const auto z = static_cast<size_t>(std::lower_bound(zones_.begin(), zones_.end(), o.zone) - zones_.begin());
      const uint64_t bit = uint64_t{1} << (z * 3 + static_cast<size_t>(o.capacity_type));
      offering_bits_[i].push_back(o.available ? bit : 0);
      if (o.available) masks_[i] |= bit;
    }
  }
}

bool SolveContext::TypesDefine(std::string_view key) const {
  // Asked for the few keys whose requirements change in a solve, so answered per key and
  // remembered, rather than collecting every type's keys up front (~25 keys x ~700 types).
  auto it = types_define_.find(key);
  if (it != types_define_.end()) return it->second;
  bool defined = std::any_of(in.instance_types.begin(), in.instance_types.end(),
                             [&](const InstanceType& t) { return t.requirements.Has(key); });
  types_define_.emplace(std::string(key), defined);
  return defined;
}

double SolveContext::CheapestPrice(size_t type, uint64_t allowed) const {
  double best = std::numeric_limits<double>::infinity();
  const std::vector<Offering>& offerings = in.instance_types[type].offerings;
  for (size_t o = 0; o < offerings.size(); ++o) {
    if ((offering_bits_[type][o] & allowed) != 0) best = std::min(best, offerings[o].price);
  }
  return best;
}

std::optional<uint64_t> SolveContext::AllowedOfferings(const core::Requirements& reqs) const {
  if (zones_.size() > 21 || reqs.Find(keys::kReservationId) != nullptr) return std::nullopt;
  const core::Requirement* zone = reqs.Find(kZone);
  const core::Requirement* ct = reqs.Find(keys::kCapacityType);
  uint64_t mask = 0;
  for (size_t z = 0; z < zones_.size(); ++z) {
    if (zone != nullptr && !zone->Has(zones_[z])) continue;
    for (CapacityType c : {CapacityType::kOnDemand, CapacityType::kSpot, CapacityType::kReserved}) {
      if (ct != nullptr && !ct->Has(CapacityTypeName(c))) continue;
      mask |= uint64_t{1} << (z * 3 + static_cast<size_t>(c));
    }
  }
  return mask;
}

bool SolveContext::Larger(size_t a, size_t b) const {
  const ResourceVector& x = type_allocatable[a];
  const ResourceVector& y = type_allocatable[b];
  if (cpu_ < x.size() && x[cpu_] != y[cpu_]) return x[cpu_] > y[cpu_];
  return memory_ < x.size() && x[memory_] > y[memory_];
}

NodeState::NodeState(const SolveContext& ctx, const ExistingNode& node)
    : requirements_(core::Requirements::FromLabels(node.labels)),
      allocatable_(ctx.resources.ToVector(node.allocatable)),
      requested_(ctx.resources.ToVector(node.requested)),
      host_ports_(node.host_ports) {
  if (!requirements_.Has(core::labels::kHostname)) {
    requirements_.Add(core::Requirement::In(core::labels::kHostname, {node.name}));
  }
  // Until a node is initialized its pool's startup taints and the known ephemeral taints are
  // expected to go away (Karpenter); on an initialized node every taint is real.
  const NodePool* pool = nullptr;
  for (const NodePool& p : ctx.in.nodepools) {
    if (!node.nodepool.empty() && p.name == node.nodepool) pool = &p;
  }
  for (const core::Taint& t : node.taints) {
    if (!node.initialized) {
      if (core::IsKnownEphemeralTaint(t)) continue;
      if (pool != nullptr && std::any_of(pool->startup_taints.begin(), pool->startup_taints.end(),
                                         [&](const core::Taint& s) { return s.MatchesIdentity(t); })) {
        continue;
      }
    }
    taints_.push_back(t);
  }
}

bool NodeState::TryAdd(const SolveContext& ctx, size_t pod_index, const core::Requirements& reqs,
                       Topology& topology, const Relaxation& relax) {
  const Pod& pod = ctx.in.pods[pod_index];
  const ResourceVector& need = ctx.pod_requests[pod_index];
  if (!FitsSum(requested_, need, allocatable_)) return false;
  if (!taints_.empty() && !core::ToleratesAll(taints_, pod.tolerations, relax.tolerate_prefer_no_schedule).ok()) {
    return false;
  }
  if (!pod.host_ports.empty() && HostPortConflict(host_ports_, pod.host_ports)) return false;
  if (!reqs.empty() && !requirements_.IsCompatible(reqs)) return false;
  std::vector<core::Requirement> narrowings;
  if (!topology.Narrow(pod_index, reqs, requirements_, narrowings, /*explain=*/false, relax).ok()) return false;
  // A node's domains are its label values, fixed: any narrowing means its domain is not allowed
  // (or it lacks the topology label), so the pod cannot go there.
  if (!narrowings.empty()) return false;
  topology.Record(pod_index, requirements_);
  AddTo(requested_, need);
  host_ports_.insert(host_ports_.end(), pod.host_ports.begin(), pod.host_ports.end());
  return true;
}

ClaimTemplate ClaimTemplate::Build(const SolveContext& ctx, size_t nodepool) {
  const Input& in = ctx.in;
  const NodePool& pool = in.nodepools[nodepool];
  ClaimTemplate t;
  t.nodepool_ = nodepool;
  t.requirements_ = pool.requirements;
  t.requirements_.Add(core::Requirements::FromLabels(pool.labels));
  t.requirements_.Add(core::Requirement::In(keys::kNodePool, {pool.name}));
  for (size_t i : pool.instance_types) {
    const InstanceType& type = in.instance_types[i];
    if (!type.requirements.DoesIntersect(t.requirements_)) continue;
    if (CheapestOffering(type, t.requirements_) == nullptr) continue;
    t.instance_types_.push_back(i);
  }
  std::stable_sort(t.instance_types_.begin(), t.instance_types_.end(),
                   [&](size_t a, size_t b) { return ctx.Larger(a, b); });
  t.shared_types_ = std::make_shared<const std::vector<size_t>>(t.instance_types_);
  // DaemonSet overhead per instance type: a DaemonSet runs on a node of type T when it tolerates
  // the pool's taints and its node requirements are compatible with the pool's and T's labels
  // (a GPU-only DaemonSet such as NVIDIA's device plugin costs nothing on CPU types).
  std::vector<const DaemonSetPod*> tolerating;
  for (const DaemonSetPod& ds : in.daemonsets) {
    if (core::ToleratesAll(pool.taints, ds.tolerations).ok()) tolerating.push_back(&ds);
  }
  auto daemon = std::make_shared<DaemonRoom>();
  daemon->room.resize(in.instance_types.size());
  daemon->overhead.resize(in.instance_types.size());
  for (size_t i : t.instance_types_) {
    core::ResourceList& overhead = daemon->overhead[i];
    if (!tolerating.empty()) {
      core::Requirements node = t.requirements_;
      node.Add(in.instance_types[i].requirements);
      for (const DaemonSetPod* ds : tolerating) {
        // A concrete type: a label neither the pool nor the type defines will be absent.
        if (!node.IsCompatible(ds->requirements)) continue;
        (void)core::MergeInto(overhead, ds->requests);
        (void)core::MergeInto(overhead, core::ResourceList{{"pods", core::Quantity::FromInt(1)}});
      }
    }
    ResourceVector room = ctx.type_allocatable[i];
    const ResourceVector used = ctx.resources.ToVector(overhead);
    for (size_t r = 0; r < room.size(); ++r) room[r] = SatSub(room[r], used[r]);
    daemon->room[i] = std::move(room);
  }
  t.daemon_ = std::move(daemon);
  if (!pool.limits.empty()) {
    const ResourceVector limits = ctx.resources.ToVector(pool.limits);
    const ResourceVector used = ctx.resources.ToVector(pool.in_use);
    for (const auto& [name, q] : pool.limits) {
      const size_t r = ctx.resources.Find(name);
      t.limited_.push_back(r);
      t.remaining_.push_back(SatSub(limits[r], used[r]));
    }
  }
  return t;
}

Claim ClaimTemplate::NewClaim(const SolveContext& ctx, const std::string& hostname) const {
  core::Requirements claim_reqs = requirements_;
  claim_reqs.Add(core::Requirement::In(core::labels::kHostname, {hostname}));
  if (limited_.empty()) {
    std::string note = instance_types_.empty()
                           ? "no instance types are available for nodepool \"" + ctx.in.nodepools[nodepool_].name + "\""
                           : "";
    return Claim(ctx, nodepool_, hostname, std::move(claim_reqs), daemon_, shared_types_, std::move(note));
  }
  std::vector<size_t> types;
  bool any_exceeded = false;
  for (size_t i : instance_types_) {
    bool within = true;
    for (size_t k = 0; k < limited_.size(); ++k) {
      if (ctx.type_capacity[i][limited_[k]] > remaining_[k]) within = false;
    }
    if (!within) {
      any_exceeded = true;
      continue;
    }
    types.push_back(i);
  }
  std::string note;
  if (types.empty()) {
    const std::string& name = ctx.in.nodepools[nodepool_].name;
    note = any_exceeded ? "all available instance types exceed limits for nodepool: \"" + name + "\""
                        : "no instance types are available for nodepool \"" + name + "\"";
  }
  return Claim(ctx, nodepool_, hostname, std::move(claim_reqs), daemon_,
               std::make_shared<const std::vector<size_t>>(std::move(types)), std::move(note));
}

void ClaimTemplate::Consume(const SolveContext& ctx, const Claim& claim) {
  for (size_t k = 0; k < limited_.size(); ++k) {
    core::int128 largest = 0;
    for (size_t i : claim.instance_types()) {
      // Only types that can hold what the claim holds (its list is pruned lazily).
      if (!claim.FitsType(i)) continue;
      largest = std::max(largest, ctx.type_capacity[i][limited_[k]]);
    }
    remaining_[k] = SatSub(remaining_[k], largest);
  }
}

Claim::Claim(const SolveContext& ctx, size_t nodepool, std::string hostname, core::Requirements reqs,
             std::shared_ptr<const DaemonRoom> daemon, std::shared_ptr<const std::vector<size_t>> types,
             std::string limit_note)
    : nodepool_(nodepool),
      hostname_(std::move(hostname)),
      requirements_(std::move(reqs)),
      has_min_values_(requirements_.HasMinValues()),
      daemon_(std::move(daemon)),
      requested_(ctx.resources.Zero()),
      types_(std::move(types)),
      limit_note_(std::move(limit_note)) {
  RecomputeMax(ctx);
}

void Claim::RecomputeMax(const SolveContext& ctx) {
  max_allocatable_ = ctx.resources.Zero();
  for (size_t i : *types_) MaxInto(max_allocatable_, Room(i));
}

Status Claim::CheckMinValues(const SolveContext& ctx, const core::Requirements& reqs,
                             const std::vector<size_t>& types, const ResourceVector& extra, bool explain) const {
  for (const auto& [key, r] : reqs.ByKey()) {
    if (!r.min_values() || *r.min_values() <= 0) continue;
    std::set<std::string> seen;
    for (size_t i : types) {
      if (!FitsSum(requested_, extra, Room(i))) continue;
      const core::Requirement* values = ctx.in.instance_types[i].requirements.Find(key);
      if (values == nullptr || values->complement()) continue;
      for (const std::string& v : values->values()) {
        if (r.Has(v)) seen.insert(v);
      }
      if (seen.size() >= static_cast<size_t>(*r.min_values())) break;
    }
    if (seen.size() < static_cast<size_t>(*r.min_values())) {
      static const Status kRefused = FailedPreconditionError("minValues");
      if (!explain) return kRefused;
      return FailedPreconditionError("minValues requirement is not met for \"" + key + "\": " +
                                     std::to_string(seen.size()) + " of " + std::to_string(*r.min_values()) +
                                     " values left among the instance types that fit");
    }
  }
  return OkStatus();
}

Status Claim::ReserveOfferings(const SolveContext& ctx, const core::Requirements& reqs,
                               const std::vector<size_t>& types, const ResourceVector& extra, bool explain) {
  std::set<std::string> wanted;
  for (size_t i : types) {
    if (!ctx.type_has_reserved[i] || !FitsSum(requested_, extra, Room(i))) continue;
    for (const Offering& o : ctx.in.instance_types[i].offerings) {
      if (o.capacity_type == CapacityType::kReserved && !o.reservation_id.empty() && OfferingAllowed(o, reqs)) {
        wanted.insert(o.reservation_id);
      }
    }
  }
  // Nothing is taken when the strict refusal below applies (no reservation could be held), so
  // a refusal has nothing to give back.
  bool any = false;
  for (const std::string& id : wanted) any = ctx.reservations.Reserve(hostname_, id) || any;
  if (ctx.options.strict_reservations && !wanted.empty() && !any) {
    static const Status kExhausted = ResourceExhaustedError("reserved");
    if (!explain) return kExhausted;
    std::string ids;
    for (const std::string& id : wanted) ids += (ids.empty() ? "" : ", ") + id;
    return ResourceExhaustedError("compatible capacity reservations are used up in this batch (" + ids +
                                  "); the pod waits for them instead of falling back");
  }
  // Reservations the claim can no longer use go back to the pool.
  for (const std::string& id : ctx.reservations.Held(hostname_)) {
    if (wanted.count(id) == 0) ctx.reservations.Release(hostname_, id);
  }
  return OkStatus();
}

bool Claim::FitsType(size_t type) const {
  return Fits(requested_, Room(type));
}

bool Claim::AnyFits(const ResourceVector& extra) const {
  if (!FitsSum(requested_, extra, max_allocatable_)) return false;
  for (size_t i : *types_) {
    if (FitsSum(requested_, extra, Room(i))) return true;
  }
  return false;
}

std::optional<std::vector<size_t>> Claim::Filter(const SolveContext& ctx, const core::Requirements& merged,
                                                 const std::vector<std::string>& changed_keys,
                                                 const ResourceVector& extra) const {
  std::optional<uint64_t> offer_mask;
  bool offerings_changed = false;
  std::vector<std::string_view> type_keys;  // changed keys some type constrains
  for (const std::string& k : changed_keys) {
    if (k == kZone || k == keys::kCapacityType || k == keys::kReservationId) offerings_changed = true;
    if (ctx.TypesDefine(k)) type_keys.push_back(k);
  }
  if (offerings_changed) offer_mask = ctx.AllowedOfferings(merged);
  auto passes = [&](size_t i) {
    if (!FitsSum(requested_, extra, Room(i))) return false;
    const InstanceType& type = ctx.in.instance_types[i];
    for (std::string_view k : type_keys) {
      if (!type.requirements.DoesIntersectOn(merged, k)) return false;
    }
    if (!offerings_changed) return true;
    return offer_mask ? (ctx.OfferingMask(i) & *offer_mask) != 0 : CheapestOffering(type, merged) != nullptr;
  };
  const std::vector<size_t>& types = *types_;
  size_t first_out = 0;
  while (first_out < types.size() && passes(types[first_out])) ++first_out;
  if (first_out == types.size()) return std::nullopt;  // nothing to drop: keep sharing the list
  std::vector<size_t> kept(types.begin(), types.begin() + static_cast<std::ptrdiff_t>(first_out));
  for (size_t k = first_out + 1; k < types.size(); ++k) {
    if (passes(types[k])) kept.push_back(types[k]);
  }
  return kept;
}

Status Claim::NoTypeError(const SolveContext& ctx, const core::Requirements& merged, size_t pod_index) const {
  // The failure path only: say which condition no candidate met.
  size_t compatible = 0, fitting = 0, offered = 0;
  for (size_t i : *types_) {
    const InstanceType& type = ctx.in.instance_types[i];
    const bool c = type.requirements.DoesIntersect(merged);
    compatible += c;
    fitting += FitsSum(requested_, ctx.pod_requests[pod_index], Room(i));
    offered += c && CheapestOffering(type, merged) != nullptr;
  }
  const std::string why = compatible == 0 ? "no instance type met the scheduling requirements"
                          : fitting == 0  ? "no instance type has enough resources"
                          : offered == 0  ? "no instance type has an available offering that meets the scheduling requirements"
                                          : "no instance type which had enough resources and the required offering met the "
                                            "scheduling requirements";
  return FailedPreconditionError(why + ", pod requests " + Describe(ctx.in.pods[pod_index].requests) +
                                 ", requirements " + merged.ToString());
}

Status Claim::TryAdd(const SolveContext& ctx, size_t pod_index, const core::Requirements& reqs, Topology& topology,
                     bool explain, const Relaxation& relax) {
  // Without `explain` a refusal carries no message: scans try many claims and discard why.
  static const Status kRefused = FailedPreconditionError("refused");
  if (!limit_note_.empty()) return explain ? FailedPreconditionError(limit_note_) : kRefused;
  const Pod& pod = ctx.in.pods[pod_index];
  const ResourceVector& need = ctx.pod_requests[pod_index];
  if (!AnyFits(need)) {
    if (!explain) return kRefused;
    return FailedPreconditionError("no instance type has enough resources for the pods already on the claim and " +
                                   Describe(pod.requests));
  }
  const NodePool& pool = ctx.in.nodepools[nodepool_];
  if (!pool.taints.empty()) {
    if (!explain) {
      for (const core::Taint& t : pool.taints) {
        if (relax.tolerate_prefer_no_schedule && t.effect == core::TaintEffect::kPreferNoSchedule) continue;
        if (!core::Tolerated(pod.tolerations, t)) return kRefused;
      }
    } else {
      GF_RETURN_IF_ERROR(core::ToleratesAll(pool.taints, pod.tolerations, relax.tolerate_prefer_no_schedule));
    }
  }
  if (!pod.host_ports.empty() && HostPortConflict(host_ports_, pod.host_ports)) {
    return explain ? FailedPreconditionError("a host port the pod needs is taken on this node") : kRefused;
  }
  if (!reqs.empty()) {
    if (!explain) {
      if (!requirements_.IsCompatible(reqs, ctx.options.well_known_labels)) return kRefused;
    } else {
      GF_RETURN_IF_ERROR(requirements_.Compatible(reqs, ctx.options.well_known_labels));
    }
  }
  std::vector<core::Requirement> narrowings;
  if (Status s = topology.Narrow(pod_index, reqs, requirements_, narrowings, explain, relax); !s.ok()) {
    return explain ? s : kRefused;
  }

  if (!reqs.empty() || !narrowings.empty()) {
    core::Requirements merged = requirements_;
    std::vector<std::string> changed;
    for (const auto& [key, r] : reqs.ByKey()) {
      merged.Add(r);
      changed.push_back(key);
    }
    for (const core::Requirement& r : narrowings) {
      merged.Add(r);
      changed.push_back(r.key());
    }
    std::optional<std::vector<size_t>> kept = Filter(ctx, merged, changed, need);
    const std::vector<size_t>& candidates = kept ? *kept : *types_;
    if (candidates.empty()) return explain ? NoTypeError(ctx, merged, pod_index) : kRefused;
    if (has_min_values_) GF_RETURN_IF_ERROR(CheckMinValues(ctx, merged, candidates, need, explain));
    if (ctx.reservations.Any()) GF_RETURN_IF_ERROR(ReserveOfferings(ctx, merged, candidates, need, explain));
    topology.Record(pod_index, merged);
    requirements_ = std::move(merged);
    if (kept) {
      types_ = std::make_shared<const std::vector<size_t>>(std::move(*kept));
      RecomputeMax(ctx);
    }
  } else {
    if (has_min_values_) GF_RETURN_IF_ERROR(CheckMinValues(ctx, requirements_, *types_, need, explain));
    if (ctx.reservations.Any()) GF_RETURN_IF_ERROR(ReserveOfferings(ctx, requirements_, *types_, need, explain));
    topology.Record(pod_index, requirements_);
  }
  AddTo(requested_, need);
  // Requests only grow: once the largest candidate stops fitting, drop every type that no longer
  // fits, so later fit checks stay short (GPU claims fill up quickly).
  if (!types_->empty() && !Fits(requested_, Room(types_->front()))) {
    std::vector<size_t> fitting;
    for (size_t i : *types_) {
      if (Fits(requested_, Room(i))) fitting.push_back(i);
    }
    types_ = std::make_shared<const std::vector<size_t>>(std::move(fitting));
    RecomputeMax(ctx);
  }
  pods_.push_back(pod_index);
  host_ports_.insert(host_ports_.end(), pod.host_ports.begin(), pod.host_ports.end());
  needs_accelerators_ = needs_accelerators_ || NeedsAccelerators(pod.requests);
  return OkStatus();
}

std::string Claim::PinnedZone() const {
  const core::Requirement* zone = requirements_.Find(kZone);
  return zone != nullptr && !zone->complement() && zone->values().size() == 1 ? zone->values().front() : "";
}

NewNodeClaim Claim::Finalize(const SolveContext& ctx) const {
  const Input& in = ctx.in;
  NewNodeClaim out;
  out.nodepool = nodepool_;
  for (const auto& [key, r] : requirements_.ByKey()) {
    if (key != core::labels::kHostname) out.requirements.Add(r);
  }
  // A claim holding reservations launches into them (Karpenter's FinalizeScheduling).
  const std::vector<std::string> held = ctx.reservations.Held(hostname_);
  if (!held.empty()) {
    out.requirements.Add(core::Requirement::In(keys::kCapacityType, {"reserved"}));
    out.requirements.Add(core::Requirement::In(keys::kReservationId, held));
  }
  for (size_t p : pods_) (void)core::MergeInto(out.requests, in.pods[p].requests);
  out.pods = pods_;
  struct Priced {
    size_t type;
    double price;
  };
  std::vector<Priced> priced;
  bool any_plain = false;
  const std::optional<uint64_t> mask = ctx.AllowedOfferings(out.requirements);
  for (size_t i : *types_) {
    if (!Fits(requested_, Room(i))) continue;
    double price = std::numeric_limits<double>::infinity();
    if (mask) {
      price = ctx.CheapestPrice(i, *mask);
    } else if (const Offering* o = CheapestOffering(in.instance_types[i], out.requirements); o != nullptr) {
      price = o->price;
    }
    if (!held.empty() && price == std::numeric_limits<double>::infinity()) continue;  // not in a held reservation
    priced.push_back({i, price});
    any_plain = any_plain || !in.instance_types[i].HasAccelerators();
  }
  std::stable_sort(priced.begin(), priced.end(), [&](const Priced& a, const Priced& b) {
    if (a.price != b.price) return a.price < b.price;
    return in.instance_types[a.type].name < in.instance_types[b.type].name;
  });
  for (const Priced& p : priced) {
    // Accelerators cost extra for nothing when no pod uses them (Karpenter's exotic filter).
    if (!needs_accelerators_ && any_plain && in.instance_types[p.type].HasAccelerators()) continue;
    if (out.instance_types.size() >= ctx.options.max_instance_types) break;
    out.instance_types.push_back(p.type);
  }
  // The DaemonSet pods the cheapest type will run (Karpenter adds them to the claim's requests).
  if (!out.instance_types.empty()) (void)core::MergeInto(out.requests, daemon_->overhead[out.instance_types.front()]);
  return out;
}

const Offering* CheapestOffering(const InstanceType& type, const core::Requirements& reqs) {
  const Offering* best = nullptr;
  for (const Offering& o : type.offerings) {
    if (!OfferingAllowed(o, reqs)) continue;
    if (best == nullptr || o.price < best->price) best = &o;
  }
  return best;
}

}  // namespace gpufleet::scheduling
