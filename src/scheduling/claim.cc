#include "scheduling/claim.h"

#include <algorithm>
#include <limits>

namespace gpufleet::scheduling {
namespace {

constexpr std::string_view kZone = core::labels::kZone;

bool NeedsAccelerators(const core::ResourceList& requests) {
  for (std::string_view name : {"nvidia.com/gpu", "amd.com/gpu", "aws.amazon.com/neuron", "aws.amazon.com/neuroncore",
                                "habana.ai/gaudi"}) {
    if (const core::Quantity* q = requests.Find(name); q != nullptr && q->Sign() > 0) return true;
  }
  return false;
}

bool OfferingAllowed(const Offering& o, const core::Requirements& reqs) {
  if (!o.available) return false;
  if (reqs.Has(kZone) && !reqs.Get(kZone).Has(o.zone)) return false;
  if (reqs.Has(keys::kCapacityType) && !reqs.Get(keys::kCapacityType).Has(CapacityTypeName(o.capacity_type))) {
    return false;
  }
  if (reqs.Has(keys::kReservationId)) {
    const core::Requirement r = reqs.Get(keys::kReservationId);
    if (o.reservation_id.empty()) {
      // The label is absent on such nodes: only NotIn/DoesNotExist allow that.
      if (r.op() != core::Operator::kNotIn && r.op() != core::Operator::kDoesNotExist) return false;
    } else if (!r.Has(o.reservation_id)) {
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

NodeState::NodeState(const ExistingNode& node)
    : node_(&node),
      requirements_(core::Requirements::FromLabels(node.labels)),
      requested_(node.requested),
      host_ports_(node.host_ports) {
  if (!requirements_.Has(core::labels::kHostname)) {
    requirements_.Add(core::Requirement::In(core::labels::kHostname, {node.name}));
  }
  for (const core::Taint& t : node.taints) {
    if (!node.initialized && core::IsKnownEphemeralTaint(t)) continue;
    taints_.push_back(t);
  }
}

bool NodeState::TryAdd(size_t pod_index, const Pod& pod, const core::Requirements& reqs, Topology& topology) {
  if (!core::ToleratesAll(taints_, pod.tolerations).ok()) return false;
  if (HostPortConflict(host_ports_, pod.host_ports)) return false;
  if (!requirements_.IsCompatible(reqs)) return false;
  auto total = core::Merge(requested_, pod.requests);
  if (!total.ok() || !core::Fits(*total, node_->allocatable)) return false;
  core::Requirements merged = requirements_;
  merged.Add(reqs);
  if (!topology.AddRequirements(pod_index, reqs, merged).ok()) return false;
  topology.Record(pod_index, merged);
  requested_ = std::move(total).value();
  host_ports_.insert(host_ports_.end(), pod.host_ports.begin(), pod.host_ports.end());
  return true;
}

ClaimTemplate ClaimTemplate::Build(const Input& in, size_t nodepool) {
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
  for (const DaemonSetPod& ds : in.daemonsets) {
    if (!core::ToleratesAll(pool.taints, ds.tolerations).ok()) continue;
    if (!t.requirements_.IsCompatible(ds.requirements, DefaultWellKnownLabels())) continue;
    (void)core::MergeInto(t.daemon_overhead_, ds.requests);
  }
  t.limited_ = !pool.limits.empty();
  if (t.limited_) {
    auto remaining = core::Subtract(pool.limits, pool.in_use);
    t.remaining_ = remaining.ok() ? std::move(remaining).value() : core::ResourceList();
  }
  return t;
}

Claim ClaimTemplate::NewClaim(const Input& in, const std::string& hostname) const {
  std::vector<size_t> types;
  bool any_exceeded = false;
  for (size_t i : instance_types_) {
    if (limited_) {
      bool within = true;
      for (const auto& [name, left] : remaining_) {
        if (in.instance_types[i].capacity.Get(name) > left) within = false;
      }
      if (!within) {
        any_exceeded = true;
        continue;
      }
    }
    types.push_back(i);
  }
  std::string note;
  if (types.empty()) {
    note = any_exceeded ? "all available instance types exceed limits for nodepool: \"" +
                              in.nodepools[nodepool_].name + "\" (remaining " + Describe(remaining_) + ")"
                        : "no instance types are available for nodepool \"" + in.nodepools[nodepool_].name + "\"";
  }
  core::Requirements reqs = requirements_;
  reqs.Add(core::Requirement::In(core::labels::kHostname, {hostname}));
  return Claim(nodepool_, std::move(reqs), daemon_overhead_, std::move(types), std::move(note));
}

void ClaimTemplate::Consume(const Input& in, const Claim& claim) {
  if (!limited_) return;
  core::ResourceList largest;
  for (size_t i : claim.instance_types()) largest = core::MaxResources(largest, in.instance_types[i].capacity);
  auto left = core::Subtract(remaining_, largest);
  if (left.ok()) remaining_ = std::move(left).value();
}

Claim::Claim(size_t nodepool, core::Requirements reqs, core::ResourceList overhead, std::vector<size_t> types,
             std::string limit_note)
    : nodepool_(nodepool),
      requirements_(std::move(reqs)),
      requests_(std::move(overhead)),
      instance_types_(std::move(types)),
      limit_note_(std::move(limit_note)) {}

Status Claim::TryAdd(const Input& in, size_t pod_index, const Pod& pod, const core::Requirements& reqs,
                     const Options& options, Topology& topology) {
  if (!limit_note_.empty()) return FailedPreconditionError(limit_note_);
  const NodePool& pool = in.nodepools[nodepool_];
  GF_RETURN_IF_ERROR(core::ToleratesAll(pool.taints, pod.tolerations));
  if (HostPortConflict(host_ports_, pod.host_ports)) {
    return FailedPreconditionError("a host port the pod needs is taken on this node");
  }
  GF_RETURN_IF_ERROR(requirements_.Compatible(reqs, options.well_known_labels));
  core::Requirements merged = requirements_;
  merged.Add(reqs);
  GF_RETURN_IF_ERROR(topology.AddRequirements(pod_index, reqs, merged));
  auto total = core::Merge(requests_, pod.requests);
  if (!total.ok()) return total.status();

  std::vector<size_t> kept;
  size_t compatible = 0, fitting = 0, offered = 0;
  for (size_t i : instance_types_) {
    const InstanceType& type = in.instance_types[i];
    const bool c = type.requirements.DoesIntersect(merged);
    const bool f = core::Fits(*total, type.allocatable);
    const bool o = c && CheapestOffering(type, merged) != nullptr;
    compatible += c;
    fitting += f;
    offered += o;
    if (c && f && o) kept.push_back(i);
  }
  if (kept.empty()) {
    std::string why = compatible == 0 ? "no instance type met the scheduling requirements"
                      : fitting == 0  ? "no instance type has enough resources"
                      : offered == 0  ? "no instance type has an available offering that meets the scheduling requirements"
                                      : "no instance type which had enough resources and the required offering met the "
                                        "scheduling requirements";
    return FailedPreconditionError(why + ", daemonset overhead=" + Describe(requests_) + " + pod requests " +
                                   Describe(pod.requests) + ", requirements " + merged.ToString());
  }
  topology.Record(pod_index, merged);
  requirements_ = std::move(merged);
  requests_ = std::move(total).value();
  instance_types_ = std::move(kept);
  pods_.push_back(pod_index);
  host_ports_.insert(host_ports_.end(), pod.host_ports.begin(), pod.host_ports.end());
  needs_accelerators_ = needs_accelerators_ || NeedsAccelerators(pod.requests);
  return OkStatus();
}

NewNodeClaim Claim::Finalize(const Input& in, const Options& options) const {
  NewNodeClaim out;
  out.nodepool = nodepool_;
  for (const auto& [key, r] : requirements_.ByKey()) {
    if (key != core::labels::kHostname) out.requirements.Add(r);
  }
  out.requests = requests_;
  out.pods = pods_;
  struct Priced {
    size_t type;
    double price;
  };
  std::vector<Priced> priced;
  bool any_plain = false;
  for (size_t i : instance_types_) {
    const Offering* o = CheapestOffering(in.instance_types[i], requirements_);
    priced.push_back({i, o == nullptr ? std::numeric_limits<double>::infinity() : o->price});
    any_plain = any_plain || !in.instance_types[i].HasAccelerators();
  }
  std::stable_sort(priced.begin(), priced.end(), [&](const Priced& a, const Priced& b) {
    if (a.price != b.price) return a.price < b.price;
    return in.instance_types[a.type].name < in.instance_types[b.type].name;
  });
  for (const Priced& p : priced) {
    // Accelerators cost extra for nothing when no pod uses them (Karpenter's exotic filter).
    if (!needs_accelerators_ && any_plain && in.instance_types[p.type].HasAccelerators()) continue;
    if (out.instance_types.size() >= options.max_instance_types) break;
    out.instance_types.push_back(p.type);
  }
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
