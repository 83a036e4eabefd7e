#include "provisioner/lifecycle.h"

#include <algorithm>

#include "core/crash_point.h"
#include "core/labels.h"
#include "core/log.h"
#include "core/time_format.h"
#include "kube/types/typed_client.h"
#include "provisioner/conditions.h"
#include "provisioner/scheduling_input.h"

namespace gpufleet::provisioner {
namespace {

const core::log::Logger kLog("nodeclaim.lifecycle");

constexpr std::string_view kLaunched = "Launched";
constexpr std::string_view kRegistered = "Registered";
constexpr std::string_view kInitialized = "Initialized";
constexpr std::string_view kReady = "Ready";
constexpr std::string_view kDrained = "Drained";
constexpr std::string_view kUnregisteredTaint = "karpenter.sh/unregistered";
constexpr std::string_view kRegisteredLabel = "karpenter.sh/registered";
constexpr std::string_view kInitializedLabel = "karpenter.sh/initialized";

// Taints that go away by themselves as a node starts (Karpenter's known ephemeral taints).
bool IsEphemeralTaint(const core::Taint& t) {
  return t.key == "node.kubernetes.io/not-ready" || t.key == "node.kubernetes.io/unreachable" ||
         t.key == "node.cloudprovider.kubernetes.io/uninitialized" || t.key == kUnregisteredTaint;
}

bool HasFinalizer(const kube::ObjectMeta& meta) {
  return std::any_of(meta.finalizers.begin(), meta.finalizers.end(),
                     [](const core::InternedString& f) { return f == kTerminationFinalizer; });
}

nlohmann::json FinalizersWithout(const kube::ObjectMeta& meta) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : meta.finalizers) {
    if (f != kTerminationFinalizer) out.push_back(f.str());
  }
  return out;
}

// When the condition last changed, or the object's creation when it never did.
core::TimePoint Since(const kube::NodeClaim& claim, std::string_view type) {
  const kube::Condition* c = kube::FindCondition(claim.status.conditions, type);
  auto parsed = core::ParseRfc3339(c != nullptr ? c->last_transition_time : claim.metadata.creation_timestamp);
  return parsed.ok() ? *parsed : core::TimePoint{};
}

// Ready summarises the three lifecycle conditions, as Karpenter's status library does.
void SetReady(kube::NodeClaim& claim, core::TimePoint now) {
  std::string status = "True", message;
  for (auto type : {kLaunched, kRegistered, kInitialized}) {
    const kube::Condition* c = kube::FindCondition(claim.status.conditions, type);
    std::string s = c == nullptr ? "Unknown" : c->status;
    if (s == "True") continue;
    if (!message.empty()) message += ", ";
    message += std::string(type) + "=" + s;
    if (s == "False") status = "False";
    if (s != "True" && status == "True") status = "Unknown";
  }
  SetCondition(claim.status.conditions, kReady, status, status == "True" ? "Ready" : "UnhealthyDependents", message,
               claim.metadata.generation, now);
}

cloud::NodeClaim ToCloudClaim(const kube::NodeClaim& claim, const kube::NodePool* pool) {
  cloud::NodeClaim out;
  out.name = claim.metadata.name;
  out.uid = claim.metadata.uid;
  out.nodepool = std::string(claim.NodePoolName());
  out.node_class = cloud::NodeClassRef{.group = claim.spec.node_class_ref.group,
                                       .kind = claim.spec.node_class_ref.kind,
                                       .name = claim.spec.node_class_ref.name};
  auto reqs = core::Requirements::FromNodeSelectorRequirements(claim.spec.requirements);
  if (reqs.ok()) out.requirements = std::move(reqs).value();
  out.requests = claim.spec.resources.requests;
  out.labels = NodeClaimLabels(claim, pool);
  out.taints = claim.spec.taints;
  out.startup_taints = claim.spec.startup_taints;
  return out;
}

double SecondsSince(std::chrono::steady_clock::time_point begin) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
}

}  // namespace

bool LifecycleShouldReconcile(const kube::NodeClaim& before, const kube::NodeClaim& after) {
  const kube::ObjectMeta& a = before.metadata;
  const kube::ObjectMeta& b = after.metadata;
  return a.uid != b.uid || a.generation != b.generation || a.deletion_timestamp != b.deletion_timestamp ||
         a.finalizers != b.finalizers || a.labels != b.labels || a.annotations != b.annotations ||
         before.status.provider_id != after.status.provider_id || before.status.node_name != after.status.node_name;
}

NodeClaimLifecycle::NodeClaimLifecycle(Cluster& cluster, cloud::CloudProvider& cloud, Metrics& metrics,
                                       LifecycleOptions options, std::function<void()> on_capacity_error)
    : cluster_(cluster),
      cloud_(cloud),
      metrics_(metrics),
      options_(options),
      on_capacity_error_(std::move(on_capacity_error)),
      drainer_(cluster, metrics) {}

Result<core::Duration> NodeClaimLifecycle::Reconcile(const std::string& name) {
  auto cached = cluster_.nodeclaims.Get(name);
  if (cached == nullptr) return core::Duration::zero();
  kube::NodeClaim claim = *cached;
  if (claim.metadata.deletion_timestamp) return Finalize(std::move(claim));
  if (!HasFinalizer(claim.metadata)) {
    claim.metadata.finalizers.push_back(core::InternedString(kTerminationFinalizer));
    GF_RETURN_IF_ERROR(kube::TypedClient<kube::NodeClaim>(cluster_.client()).Update(claim).status());
    return core::Duration::zero();  // the update event brings it back
  }
  if (!kube::IsConditionTrue(claim.status.conditions, kLaunched)) return Launch(std::move(claim));
  // A registered Node someone deleted (kubectl delete node) takes its NodeClaim with it.
  if (auto node = cluster_.NodeByProviderId(claim.status.provider_id); node && node->metadata.deletion_timestamp) {
    GF_RETURN_IF_ERROR(Remove(claim, "node_deleted", "Node " + node->metadata.name + " is being deleted"));
    return core::Duration::zero();
  }
  if (!kube::IsConditionTrue(claim.status.conditions, kRegistered)) return Register(std::move(claim));
  if (!kube::IsConditionTrue(claim.status.conditions, kInitialized)) return Initialize(std::move(claim));
  return core::Duration::zero();
}

Status NodeClaimLifecycle::WriteStatus(kube::NodeClaim& claim) {
  SetReady(claim, cluster_.clock().Now());
  GF_ASSIGN_OR_RETURN(claim, kube::TypedClient<kube::NodeClaim>(cluster_.client()).UpdateStatus(claim));
  return OkStatus();
}

Status NodeClaimLifecycle::Remove(const kube::NodeClaim& claim, std::string_view reason, std::string_view message) {
  kLog.Info("deleting nodeclaim", {{"nodeclaim", claim.metadata.name}, {"reason", reason}, {"message", message}});
  cluster_.recorder().Event(ObjectRef(claim), "Warning", "Disrupting",
                            "Deleting NodeClaim: " + std::string(message));
  auto deleted = kube::TypedClient<kube::NodeClaim>(cluster_.client())
                     .Delete("", claim.metadata.name, {.precondition_uid = claim.metadata.uid});
  if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) return deleted.status();
  metrics_.Inc("karpenter_nodeclaims_disrupted_total",
               {{"nodepool", std::string(claim.NodePoolName())}, {"reason", std::string(reason)}});
  return OkStatus();
}

Result<core::Duration> NodeClaimLifecycle::Launch(kube::NodeClaim claim) {
  core::TimePoint now = cluster_.clock().Now();
  core::TimePoint created = Since(claim, "");
  if (now - created > options_.launch_timeout) {
    GF_RETURN_IF_ERROR(Remove(claim, "launch_timeout",
                              "not launched within " + core::FormatGoDuration(options_.launch_timeout)));
    return core::Duration::zero();
  }
  auto pool = cluster_.nodepools.Get(std::string(claim.NodePoolName()));
  core::CrashPoint("launch.before-create");
  auto begin = std::chrono::steady_clock::now();
  Result<cloud::Machine> machine = cloud_.Create(ToCloudClaim(claim, pool.get()));
  metrics_.Observe("karpenter_cloudprovider_duration_seconds", {{"method", "Create"}}, SecondsSince(begin));
  if (!machine.ok()) {
    cloud::ErrorKind kind = cloud::Classify(machine.status());
    metrics_.Inc("karpenter_cloudprovider_errors_total",
                 {{"method", "Create"}, {"error", std::string(cloud::ErrorKindName(kind))}});
    std::string message(machine.status().message());
    if (kind == cloud::ErrorKind::kInsufficientCapacity) {
      cluster_.recorder().Event(ObjectRef(claim), "Warning", "InsufficientCapacityError",
                                "NodeClaim " + claim.metadata.name + " event: " + message);
      GF_RETURN_IF_ERROR(Remove(claim, "insufficient_capacity", message));
      if (on_capacity_error_) on_capacity_error_();
      return core::Duration::zero();
    }
    cluster_.recorder().Event(ObjectRef(claim), "Warning", "LaunchFailed", message);
    kLog.Warn("launch failed", {{"nodeclaim", claim.metadata.name},
                                {"kind", std::string(cloud::ErrorKindName(kind))},
                                {"error", machine.status()}});
    if (SetCondition(claim.status.conditions, kLaunched, "False", "LaunchFailed", message, claim.metadata.generation,
                     now)) {
      Status written = WriteStatus(claim);
      if (!written.ok()) kLog.Warn("writing launch failure", {{"nodeclaim", claim.metadata.name}, {"error", written}});
    }
    // A configuration the cloud refuses will not fix itself soon: look again in a minute
    // instead of hot-looping. Anything else retries with backoff.
    if (kind == cloud::ErrorKind::kInvalidConfiguration || kind == cloud::ErrorKind::kUnauthorized) {
      return core::Duration(std::chrono::minutes(1));
    }
    return machine.status();
  }

  core::CrashPoint("launch.after-create");
  // The instance's labels (type, zone, capacity type, reservation, GPU facts) on the NodeClaim.
  for (const auto& [k, v] : machine->labels) claim.metadata.labels[k] = v;
  kube::TypedClient<kube::NodeClaim> client(cluster_.client());
  GF_ASSIGN_OR_RETURN(claim, client.Update(claim));
  core::CrashPoint("launch.after-labels");
  claim.status.provider_id = machine->provider_id;
  claim.status.image_id = machine->image_id;
  claim.status.capacity = machine->capacity;
  claim.status.allocatable = machine->allocatable;
  SetTrue(claim.status.conditions, kLaunched, claim.metadata.generation, cluster_.clock().Now());
  SetCondition(claim.status.conditions, kRegistered, "Unknown", "", "", claim.metadata.generation,
               cluster_.clock().Now());
  GF_RETURN_IF_ERROR(WriteStatus(claim));
  core::CrashPoint("launch.after-status");
  metrics_.Inc("karpenter_nodeclaims_launched_total", {{"nodepool", std::string(claim.NodePoolName())}});
  kLog.Info("launched nodeclaim", {{"nodeclaim", claim.metadata.name},
                                    {"provider-id", machine->provider_id},
                                    {"instance-type", machine->instance_type},
                                    {"zone", machine->zone},
                                    {"capacity-type", machine->capacity_type},
                                    {"reservation", machine->reservation_id}});
  return core::Duration(options_.registration_timeout);
}

Result<core::Duration> NodeClaimLifecycle::Register(kube::NodeClaim claim) {
  core::TimePoint now = cluster_.clock().Now();
  auto node = cluster_.NodeByProviderId(claim.status.provider_id);
  if (node == nullptr) {
    core::Duration waited = now - Since(claim, kLaunched);
    if (waited > options_.registration_timeout) {
      GF_RETURN_IF_ERROR(Remove(claim, "registration_timeout",
                                "no Node registered within " + core::FormatGoDuration(options_.registration_timeout)));
      return core::Duration::zero();
    }
    return core::Duration(options_.registration_timeout) - waited + std::chrono::seconds(1);
  }
  auto pool = cluster_.nodepools.Get(std::string(claim.NodePoolName()));
  bool first_registration = !node->metadata.labels.contains(kRegisteredLabel);

  nlohmann::json labels = nlohmann::json::object();
  for (const auto& [k, v] : NodeClaimLabels(claim, pool.get())) labels[k.str()] = v.str();
  labels[std::string(kRegisteredLabel)] = "true";

  std::vector<core::Taint> taints;
  for (const auto& t : node->spec.taints) {
    if (t.key != kUnregisteredTaint) taints.push_back(t);
  }
  if (first_registration) {
    auto add = [&](const core::Taint& t) {
      if (std::none_of(taints.begin(), taints.end(), [&](const core::Taint& have) { return have.MatchesIdentity(t); })) {
        taints.push_back(t);
      }
    };
    for (const auto& t : claim.spec.taints) add(t);
    for (const auto& t : claim.spec.startup_taints) add(t);
  }
  nlohmann::json taint_json = nlohmann::json::array();
  for (const auto& t : taints) taint_json.push_back(core::ToJson(t));

  nlohmann::json finalizers = nlohmann::json::array();
  for (const auto& f : node->metadata.finalizers) finalizers.push_back(f.str());
  if (!HasFinalizer(node->metadata)) finalizers.push_back(std::string(kTerminationFinalizer));

  nlohmann::json owners = nlohmann::json::array();
  bool owned = false;
  for (const auto& o : node->metadata.owner_references) {
    owners.push_back(kube::Encode(o));
    owned = owned || o.uid == claim.metadata.uid;
  }
  if (!owned) {
    owners.push_back({{"apiVersion", "karpenter.sh/v1"}, {"kind", "NodeClaim"}, {"name", claim.metadata.name},
                      {"uid", claim.metadata.uid}, {"blockOwnerDeletion", true}});
  }
  nlohmann::json patch = {{"metadata",
                           {{"resourceVersion", node->metadata.resource_version},
                            {"labels", labels},
                            {"finalizers", finalizers},
                            {"ownerReferences", owners}}},
                          {"spec", {{"taints", taint_json}}}};
  GF_RETURN_IF_ERROR(
      cluster_.client().Patch(kube::Node::Resource(), "", node->metadata.name, kube::PatchType::kMerge, patch).status());

  core::CrashPoint("register.after-node-patch");
  claim.status.node_name = node->metadata.name;
  SetTrue(claim.status.conditions, kRegistered, claim.metadata.generation, now);
  SetCondition(claim.status.conditions, kInitialized, "Unknown", "", "", claim.metadata.generation, now);
  GF_RETURN_IF_ERROR(WriteStatus(claim));
  metrics_.Inc("karpenter_nodeclaims_registered_total", {{"nodepool", std::string(claim.NodePoolName())}});
  metrics_.Inc("karpenter_nodes_created_total", {{"nodepool", std::string(claim.NodePoolName())}});
  kLog.Info("registered nodeclaim", {{"nodeclaim", claim.metadata.name}, {"node", node->metadata.name}});
  return core::Duration::zero();  // the Node's update brings it back for initialization
}

Result<core::Duration> NodeClaimLifecycle::Initialize(kube::NodeClaim claim) {
  auto node = cluster_.NodeByProviderId(claim.status.provider_id);
  if (node == nullptr) return core::Duration::zero();
  std::string waiting;
  if (!node->IsReady()) {
    waiting = "Node not ready";
  } else if (!node->metadata.labels.contains(kRegisteredLabel)) {
    waiting = "Node not yet synced";
  }
  for (const auto& t : node->spec.taints) {
    if (!waiting.empty()) break;
    bool startup = std::any_of(claim.spec.startup_taints.begin(), claim.spec.startup_taints.end(),
                               [&](const core::Taint& s) { return s.MatchesIdentity(t); });
    if (startup || IsEphemeralTaint(t)) waiting = "StartupTaint \"" + t.ToString() + "\" still exists";
  }
  for (const auto& [resource, quantity] : claim.spec.resources.requests) {
    if (!waiting.empty()) break;
    if (quantity.Sign() == 0) continue;
    const core::Quantity* have = node->status.allocatable.Find(resource);
    if (have == nullptr || have->Sign() <= 0) {
      waiting = "Resource \"" + resource + "\" was requested but not registered";
    }
  }
  core::TimePoint now = cluster_.clock().Now();
  if (!waiting.empty()) {
    if (SetCondition(claim.status.conditions, kInitialized, "Unknown", "NotInitialized", waiting,
                     claim.metadata.generation, now)) {
      GF_RETURN_IF_ERROR(WriteStatus(claim));
    }
    return core::Duration::zero();  // the Node's next update brings it back
  }
  nlohmann::json patch = {{"metadata", {{"labels", {{std::string(kInitializedLabel), "true"}}}}}};
  GF_RETURN_IF_ERROR(
      cluster_.client().Patch(kube::Node::Resource(), "", node->metadata.name, kube::PatchType::kMerge, patch).status());
  core::CrashPoint("initialize.after-node-label");
  claim.status.capacity = node->status.capacity;
  claim.status.allocatable = node->status.allocatable;
  SetTrue(claim.status.conditions, kInitialized, claim.metadata.generation, now);
  GF_RETURN_IF_ERROR(WriteStatus(claim));
  metrics_.Inc("karpenter_nodeclaims_initialized_total", {{"nodepool", std::string(claim.NodePoolName())}});
  kLog.Info("initialized nodeclaim", {{"nodeclaim", claim.metadata.name}, {"node", node->metadata.name},
                                       {"allocatable", node->status.allocatable.ToJson()}});
  return core::Duration::zero();
}

Result<core::Duration> NodeClaimLifecycle::Finalize(kube::NodeClaim claim) {
  if (!HasFinalizer(claim.metadata)) return core::Duration::zero();
  std::shared_ptr<const kube::Node> node;
  if (!claim.status.provider_id.empty()) node = cluster_.NodeByProviderId(claim.status.provider_id);
  if (node == nullptr && !claim.status.node_name.empty()) node = cluster_.nodes.Get(claim.status.node_name);
  if (node != nullptr) {
    GF_ASSIGN_OR_RETURN(DrainResult drain, drainer_.Drain(claim, *node));
    const kube::Condition* drained = kube::FindCondition(claim.status.conditions, kDrained);
    const std::string status = drain.drained ? "True" : "False";
    if (drained == nullptr || drained->status != status) {
      SetCondition(claim.status.conditions, kDrained, status, drain.drained ? "Drained" : "Draining",
                   drain.drained ? "" : "Evicting pods from node " + node->metadata.name, claim.metadata.generation,
                   cluster_.clock().Now());
      GF_RETURN_IF_ERROR(WriteStatus(claim));
    }
    if (!drain.drained) return core::Duration(options_.drain_poll);
    core::CrashPoint("terminate.after-drain");
  }
  if (node != nullptr && !node->metadata.deletion_timestamp) {
    auto deleted = kube::TypedClient<kube::Node>(cluster_.client()).Delete("", node->metadata.name);
    if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) return deleted.status();
    metrics_.Inc("karpenter_nodes_terminated_total", {{"nodepool", std::string(claim.NodePoolName())}});
  }

  // Terminate the instance; only a cloud that says it is gone lets the finalizer go.
  bool gone = true;
  std::vector<std::string> provider_ids;
  if (!claim.status.provider_id.empty()) {
    provider_ids.push_back(claim.status.provider_id);
  } else {
    // Never reported launched: a launch may still have happened (crash before the status
    // write), so look for the instance by its NodeClaim tag.
    GF_ASSIGN_OR_RETURN(auto machines, cloud_.List());
    for (const auto& m : machines) {
      if (m.nodeclaim == claim.metadata.name) provider_ids.push_back(m.provider_id);
    }
  }
  for (const auto& id : provider_ids) {
    auto begin = std::chrono::steady_clock::now();
    Status s = cloud_.Delete(id);
    metrics_.Observe("karpenter_cloudprovider_duration_seconds", {{"method", "Delete"}}, SecondsSince(begin));
    if (s.code() == StatusCode::kNotFound) continue;
    if (!s.ok()) {
      metrics_.Inc("karpenter_cloudprovider_errors_total",
                   {{"method", "Delete"}, {"error", std::string(cloud::ErrorKindName(cloud::Classify(s)))}});
      return s;
    }
    core::CrashPoint("terminate.after-cloud-delete");
    gone = false;  // terminating: check again shortly
  }
  if (!gone) return core::Duration(options_.termination_poll);

  if (node != nullptr && HasFinalizer(node->metadata)) {
    nlohmann::json patch = {{"metadata",
                             {{"resourceVersion", node->metadata.resource_version},
                              {"finalizers", FinalizersWithout(node->metadata)}}}};
    auto patched = cluster_.client().Patch(kube::Node::Resource(), "", node->metadata.name, kube::PatchType::kMerge, patch);
    if (!patched.ok() && patched.status().code() != StatusCode::kNotFound) return patched.status();
  }
  core::CrashPoint("terminate.before-nodeclaim-finalizer");
  nlohmann::json patch = {{"metadata",
                           {{"resourceVersion", claim.metadata.resource_version},
                            {"finalizers", FinalizersWithout(claim.metadata)}}}};
  auto patched =
      cluster_.client().Patch(kube::NodeClaim::Resource(), "", claim.metadata.name, kube::PatchType::kMerge, patch);
  if (!patched.ok() && patched.status().code() != StatusCode::kNotFound) return patched.status();
  metrics_.Inc("karpenter_nodeclaims_terminated_total", {{"nodepool", std::string(claim.NodePoolName())}});
  kLog.Info("terminated nodeclaim", {{"nodeclaim", claim.metadata.name}, {"provider-id", claim.status.provider_id}});
  return core::Duration::zero();
}

}  // namespace gpufleet::provisioner
