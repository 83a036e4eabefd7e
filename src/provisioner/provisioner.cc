#include "provisioner/provisioner.h"

#include <charconv>
#include <map>
#include <set>
#include <thread>

#include "core/crash_point.h"
#include "core/labels.h"
#include "core/log.h"
#include "kube/types/typed_client.h"
#include "provisioner/validation.h"
#include "scheduling/scheduler.h"

namespace gpufleet::provisioner {
namespace {

const core::log::Logger kLog("provisioner");

cloud::NodeClassRef RefOf(const kube::NodePool& pool) {
  const auto& ref = pool.spec.template_.spec.node_class_ref;
  return cloud::NodeClassRef{.group = ref.group, .kind = ref.kind, .name = ref.name};
}

// What a NodeClaim occupies of its pool's limits: the instance's capacity once launched, what it
// was created for before that.
const core::ResourceList& Footprint(const kube::NodeClaim& claim) {
  return claim.status.capacity.empty() ? claim.spec.resources.requests : claim.status.capacity;
}

// The one reservation an unlaunched claim is pinned to, if any.
std::string PinnedReservation(const kube::NodeClaim& claim) {
  for (const auto& r : claim.spec.requirements) {
    if (r.key == scheduling::keys::kReservationId && r.op == core::Operator::kIn && r.values.size() == 1) {
      return r.values[0];
    }
  }
  return "";
}

// Resource versions are opaque to clients, but the API server's (ours and etcd's) are increasing
// integers; 0 when one is not, and the caller falls back to looking the object up by name.
uint64_t ParseResourceVersion(const std::string& rv) {
  uint64_t out = 0;
  auto [end, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), out);
  return ec == std::errc() && end == rv.data() + rv.size() ? out : 0;
}

}  // namespace

Provisioner::Provisioner(Cluster& cluster, cloud::CloudProvider& cloud, Metrics& metrics, ProvisionerOptions options)
    : cluster_(cluster), cloud_(cloud), metrics_(metrics), options_(std::move(options)) {}

bool Provisioner::NodeClassReady(const Cluster& cluster, const kube::NodePool& pool) {
  const auto& ref = pool.spec.template_.spec.node_class_ref;
  if (ref.kind != kube::EC2NodeClass::kKind || ref.group != "karpenter.k8s.aws") return false;
  auto node_class = cluster.nodeclasses.Get(ref.name);
  return node_class != nullptr && !node_class->metadata.deletion_timestamp && node_class->Ready();
}

namespace {

// A claim not yet launched offers what its smallest candidate type will (minus the DaemonSet
// pods it will run), not just the requests of the pods the last solve put on it: the next solve
// may pack the same pods in another order, and with only those requests as room it would find
// some of them no place and launch again.
void WidenUnlaunched(const kube::NodeClaim& claim, scheduling::Input& input) {
  std::vector<std::string> names;
  for (const auto& r : claim.spec.requirements) {
    if (r.key == core::labels::kInstanceType && r.op == core::Operator::kIn) names = r.values;
  }
  if (names.empty()) return;
  std::optional<core::ResourceList> smallest;
  for (const auto& name : names) {
    auto type = std::find_if(input.instance_types.begin(), input.instance_types.end(),
                             [&](const scheduling::InstanceType& t) { return t.name == name; });
    if (type == input.instance_types.end()) return;  // not a type of a pool that may launch now
    if (!smallest) {
      smallest = type->allocatable;
      continue;
    }
    core::ResourceList min;
    for (const auto& [resource, q] : *smallest) {
      const core::Quantity other = type->allocatable.Get(resource);
      min.Set(resource, other < q ? other : q);
    }
    smallest = std::move(min);
  }
  scheduling::ExistingNode& node = input.nodes.back();
  core::ResourceList daemons;
  const core::Requirements labels = core::Requirements::FromLabels(node.labels);
  for (const auto& ds : input.daemonsets) {
    if (!core::ToleratesAll(node.taints, ds.tolerations).ok() || !labels.IsCompatible(ds.requirements)) continue;
    if (!core::MergeInto(daemons, ds.requests).ok()) return;
    if (!core::MergeInto(daemons, core::ResourceList{{"pods", core::Quantity::FromInt(1)}}).ok()) return;
  }
  // Never less than the requests the claim was created with.
  core::ResourceList room = *smallest;
  for (const auto& [resource, q] : node.allocatable) {
    if (room.Get(resource) < q) room.Set(resource, q);
  }
  node.allocatable = std::move(room);
  node.requested = std::move(daemons);
}

}  // namespace

Status Provisioner::WaitForCreatedClaims(std::stop_token stop) {
  auto deadline = std::chrono::steady_clock::now() + options_.cache_sync_timeout;
  while (true) {
    // Seen: in the cache now, or the cache has synced past the claim's creation (it was created
    // and already deleted again, which a lookup by name alone would wait on forever).
    uint64_t synced = ParseResourceVersion(cluster_.nodeclaims.LastSyncResourceVersion());
    std::erase_if(created_, [&](const auto& entry) {
      return (entry.second != 0 && synced >= entry.second) || cluster_.nodeclaims.Get(entry.first) != nullptr;
    });
    if (created_.empty()) return OkStatus();
    if (stop.stop_requested()) return CancelledError("stopping");
    if (std::chrono::steady_clock::now() > deadline) {
      // A claim created and deleted again before the cache saw it never shows up; give up on
      // those after the timeout rather than blocking provisioning.
      std::string missing = created_.begin()->first;
      created_.clear();
      return UnavailableError("waiting on cluster sync: NodeClaim " + missing + " not yet in the cache");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Result<ProvisionResult> Provisioner::Provision(std::stop_token stop) {
  ProvisionResult out;
  Status synced = WaitForCreatedClaims(stop);
  if (stop.stop_requested()) return CancelledError("stopping");
  if (!synced.ok()) kLog.Warn("cache behind", {{"error", synced}});
  const auto decision_began = std::chrono::steady_clock::now();

  scheduling::Input input;
  std::vector<std::shared_ptr<const kube::Pod>> pods;
  for (const auto& cached : cluster_.pods.ByIndex(kUnboundPods, "true")) {
    if (!IsProvisionable(*cached, options_.pending_pods)) continue;
    const auto& pod = cached->unbound;
    auto converted = ToSchedulingPod(*pod);
    if (!converted.ok()) {
      cluster_.recorder().Event(ObjectRef(*pod), "Warning", "FailedScheduling",
                                "Failed to schedule pod, " + std::string(converted.status().message()));
      continue;
    }
    input.pods.push_back(std::move(converted).value());
    pods.push_back(pod);
  }
  out.pending_pods = pods.size();
  metrics_.Set("karpenter_scheduler_queue_depth", {}, static_cast<double>(pods.size()));
  if (pods.empty()) return out;

  // NodePools that may launch, each with the instance types its requirements allow: the batch
  // copies and solves over what a pool can launch, not the whole catalog (1,341 types for an
  // EC2NodeClass). Two pools sharing types each get their own copy (their offerings may differ).
  std::vector<std::shared_ptr<const kube::NodePool>> pools;
  double types_seconds = 0;
  for (const auto& pool : cluster_.nodepools.List()) {
    if (pool->metadata.deletion_timestamp || pool->spec.replicas) continue;
    kube::NodePool defaulted = WithDefaults(*pool);
    if (!ValidateNodePool(defaulted).empty() || !NodeClassReady(cluster_, *pool)) continue;
    auto converted = ToSchedulingNodePool(defaulted);
    if (!converted.ok()) continue;
    auto begin = std::chrono::steady_clock::now();
    auto types = cloud_.GetInstanceTypes(RefOf(*pool), &converted->requirements);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    types_seconds += took;
    metrics_.Observe("karpenter_cloudprovider_duration_seconds", {{"method", "GetInstanceTypes"}}, took);
    if (!types.ok()) {
      metrics_.Inc("karpenter_cloudprovider_errors_total",
                   {{"method", "GetInstanceTypes"},
                    {"error", std::string(cloud::ErrorKindName(cloud::Classify(types.status())))}});
      kLog.Error("listing instance types", {{"nodepool", pool->metadata.name}, {"error", types.status()}});
      continue;
    }
    for (auto& t : *types) {
      converted->instance_types.push_back(input.instance_types.size());
      input.instance_types.push_back(std::move(t));
    }
    input.nodepools.push_back(std::move(converted).value());
    pools.push_back(pool);
  }
  std::map<std::string, size_t> pool_index;
  for (size_t i = 0; i < pools.size(); ++i) pool_index[pools[i]->metadata.name] = i;

  // Existing nodes, in-flight claims, pools' usage, reservations held by unlaunched claims.
  std::set<std::string> registered;
  std::map<std::string, int> reserved_unlaunched;
  for (const auto& claim : cluster_.nodeclaims.List()) {
    auto pi = pool_index.find(std::string(claim->NodePoolName()));
    if (pi != pool_index.end()) {
      GF_RETURN_IF_ERROR(core::MergeInto(input.nodepools[pi->second].in_use, Footprint(*claim)));
    }
  }
  for (const auto& node : cluster_.nodes.List()) {
    if (node->metadata.deletion_timestamp) continue;
    auto claim = node->spec.provider_id.empty() ? nullptr : cluster_.NodeClaimByProviderId(node->spec.provider_id);
    if (claim != nullptr) {
      registered.insert(claim->metadata.name);
      if (claim->metadata.deletion_timestamp) continue;
    }
    auto bound = cluster_.pods.ByIndex(kube::kPodsByNodeName, node->metadata.name);
    std::vector<const PodUsage*> usage;
    std::string usage_error;
    for (const auto& p : bound) {
      if (!p->holds_resources) continue;
      if (p->usage) usage.push_back(&*p->usage);
      if (!p->usage_error.empty()) usage_error = "pod " + p->metadata.Key() + ": " + p->usage_error;
    }
    if (!usage_error.empty()) {
      kLog.Warn("skipping node", {{"node", node->metadata.name}, {"error", usage_error}});
      continue;
    }
    auto pool = claim ? cluster_.nodepools.Get(std::string(claim->NodePoolName())) : nullptr;
    auto existing = ToExistingNode(*node, usage, claim.get(), pool.get());
    if (!existing.ok()) {
      kLog.Warn("skipping node", {{"node", node->metadata.name}, {"error", existing.status()}});
      continue;
    }
    input.nodes.push_back(std::move(existing).value());
  }
  for (const auto& claim : cluster_.nodeclaims.List()) {
    if (registered.contains(claim->metadata.name) || claim->metadata.deletion_timestamp) continue;
    auto pool = cluster_.nodepools.Get(std::string(claim->NodePoolName()));
    input.nodes.push_back(InFlightNode(*claim, pool.get()));
    if (claim->status.allocatable.empty()) WidenUnlaunched(*claim, input);
    if (claim->status.provider_id.empty()) {
      if (std::string id = PinnedReservation(*claim); !id.empty()) ++reserved_unlaunched[id];
    }
  }
  for (auto& type : input.instance_types) {
    for (auto& offering : type.offerings) {
      auto held = reserved_unlaunched.find(offering.reservation_id);
      if (offering.reservation_id.empty() || held == reserved_unlaunched.end()) continue;
      offering.reservation_capacity = std::max(0, offering.reservation_capacity - held->second);
      if (offering.reservation_capacity == 0) offering.available = false;
    }
  }
  for (const auto& ds : cluster_.daemonsets.List()) {
    auto converted = ToDaemonSetPod(*ds);
    if (converted.ok()) input.daemonsets.push_back(std::move(converted).value());
  }

  scheduling::Options options = options_.scheduling;
  auto begin = std::chrono::steady_clock::now();
  options.out_of_time = [&] { return std::chrono::steady_clock::now() - begin > options_.solve_timeout; };
  scheduling::Result result = scheduling::Solve(input, options);
  double solve_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  out.decision_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - decision_began).count();
  metrics_.Observe("gpufleet_provisioner_decision_duration_seconds", {}, out.decision_seconds);
  metrics_.Observe("karpenter_scheduler_scheduling_duration_seconds", {{"controller", "provisioner"}}, solve_seconds);

  std::vector<std::string> claim_names(result.new_claims.size());
  for (size_t i = 0; i < result.new_claims.size(); ++i) {
    const auto& pool = *pools[result.new_claims[i].nodepool];
    auto name = CreateNodeClaim(pool, result.new_claims[i], input);
    if (!name.ok()) {
      kLog.Error("creating nodeclaim", {{"nodepool", pool.metadata.name}, {"error", name.status()}});
      continue;
    }
    claim_names[i] = *name;
    ++out.nodeclaims_created;
    metrics_.Inc("karpenter_nodeclaims_created_total", {{"nodepool", pool.metadata.name}, {"reason", "provisioning"}});
  }
  for (size_t i = 0; i < result.placements.size(); ++i) {
    const auto& placement = result.placements[i];
    const kube::Pod& pod = *pods[i];
    switch (placement.kind) {
      case scheduling::Placement::Kind::kUnplaced:
        ++out.unplaced;
        metrics_.Inc("karpenter_pods_unschedulable_total");
        cluster_.recorder().Event(ObjectRef(pod), "Warning", "FailedScheduling",
                                  "Failed to schedule pod, " + placement.error);
        break;
      case scheduling::Placement::Kind::kExistingNode:
        ++out.on_existing;
        cluster_.recorder().Event(ObjectRef(pod), "Normal", "Nominated",
                                  "Pod should schedule on: " + input.nodes[placement.index].name);
        break;
      case scheduling::Placement::Kind::kNewNodeClaim:
        if (!claim_names[placement.index].empty()) {
          cluster_.recorder().Event(ObjectRef(pod), "Normal", "Nominated",
                                    "Pod should schedule on: nodeclaim/" + claim_names[placement.index]);
        }
        break;
    }
  }
  kLog.Info("computed new nodeclaim(s) to fit pod(s)",
            {{"nodeclaims", out.nodeclaims_created}, {"pods", out.pending_pods}, {"unplaced", out.unplaced},
             {"solve_ms", solve_seconds * 1000}, {"decision_ms", out.decision_seconds * 1000},
             {"instance_types_ms", types_seconds * 1000}, {"instance_types", input.instance_types.size()}});
  return out;
}

Result<std::string> Provisioner::CreateNodeClaim(const kube::NodePool& pool, const scheduling::NewNodeClaim& claim,
                                                 const scheduling::Input& input) {
  kube::NodePool defaulted = WithDefaults(pool);
  const auto& tmpl = defaulted.spec.template_;
  core::Requirements requirements = claim.requirements;
  std::vector<std::string> names;
  for (size_t t : claim.instance_types) names.push_back(input.instance_types[t].name);
  if (!names.empty()) requirements.Add(core::Requirement::In(core::labels::kInstanceType, names));

  kube::NodeClaim nc;
  nc.metadata.generate_name = pool.metadata.name + "-";
  nc.metadata.labels = tmpl.metadata.labels;
  for (const auto& [key, r] : requirements.ByKey()) {
    if (key == core::labels::kHostname || r.complement() || r.values().size() != 1) continue;
    nc.metadata.labels[core::InternedString(key)] = core::InternedString(r.values().front());
  }
  nc.metadata.labels[core::InternedString(scheduling::keys::kNodePool)] = pool.metadata.name;
  nc.metadata.annotations = tmpl.metadata.annotations;
  nc.metadata.annotations[core::InternedString(kNodePoolHashAnnotation)] = NodePoolHash(pool);
  nc.metadata.annotations[core::InternedString(kNodePoolHashVersionAnnotation)] = core::InternedString(kNodePoolHashVersion);
  nc.metadata.finalizers.push_back(core::InternedString(kTerminationFinalizer));
  nc.metadata.owner_references.push_back(kube::OwnerReference{.api_version = "karpenter.sh/v1",
                                                              .kind = "NodePool",
                                                              .name = pool.metadata.name,
                                                              .uid = pool.metadata.uid,
                                                              .controller = std::nullopt,
                                                              .block_owner_deletion = true});
  nc.spec.taints = tmpl.spec.taints;
  nc.spec.startup_taints = tmpl.spec.startup_taints;
  nc.spec.node_class_ref = tmpl.spec.node_class_ref;
  nc.spec.expire_after = tmpl.spec.expire_after;
  nc.spec.termination_grace_period = tmpl.spec.termination_grace_period;
  nc.spec.requirements = requirements.ToNodeSelectorRequirements();
  nc.spec.resources.requests = claim.requests;
  // Karpenter counts pods as a resource of the claim ("pods": N). It also matters here: until the
  // launch reports the instance's allocatable, the in-flight claim offers exactly these requests,
  // so its pods (each taking one "pods") fit on it again in the next solve.
  // The solve's requests already count one "pods" per DaemonSet pod; the claim's own pods come
  // on top (missing them let the next solve see room for one pod only and launch again).
  const int64_t daemon_pods = nc.spec.resources.requests.Get("pods").Value();
  nc.spec.resources.requests.Set("pods", core::Quantity::FromInt(daemon_pods + static_cast<int64_t>(claim.pods.size())));

  kube::TypedClient<kube::NodeClaim> client(cluster_.client());
  GF_ASSIGN_OR_RETURN(kube::NodeClaim created, client.Create(nc));
  created_[created.metadata.name] = ParseResourceVersion(created.metadata.resource_version);
  core::CrashPoint("provision.after-nodeclaim-create");
  kLog.Info("created nodeclaim", {{"nodeclaim", created.metadata.name},
                                   {"nodepool", pool.metadata.name},
                                   {"instance_types", names.size()},
                                   {"requests", nc.spec.resources.requests.ToJson()}});
  return created.metadata.name;
}

}  // namespace gpufleet::provisioner
