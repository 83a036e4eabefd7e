#include "sim/binder.h"

#include <algorithm>
#include <set>
#include <thread>
#include <vector>

#include "core/log.h"
#include "core/time_format.h"
#include "provisioner/cluster.h"
#include "provisioner/scheduling_input.h"
#include "scheduling/scheduler.h"
#include "sim/fit_error.h"

namespace gpufleet::sim {
namespace {

const core::log::Logger kLog("binder");

// Pods without a node, under the single value "true": a pass reads these, not every pod.
constexpr const char* kUnbound = "unbound";

// A node pods may be bound to. Cordoned nodes stay candidates: ToExistingNode gives them the
// unschedulable taint, so only pods that tolerate it go there, as with kube-scheduler.
bool Candidate(const kube::Node& node) { return node.IsReady() && !node.metadata.deletion_timestamp; }

// What a pod bound to a node takes from it: its usage, plus one of the node's allocatable
// "pods" (kube-scheduler's pod count; the provisioner's usage leaves it out).
Result<provisioner::PodUsage> BoundUsage(const kube::Pod& pod) {
  GF_ASSIGN_OR_RETURN(provisioner::PodUsage usage, provisioner::UsageOf(pod));
  GF_RETURN_IF_ERROR(core::MergeInto(usage.requests, core::ResourceList{{"pods", core::Quantity::FromInt(1)}}));
  return usage;
}

}  // namespace

Binder::Binder(kube::Client& client, core::Clock& clock, BinderOptions options)
    : client_(client),
      clock_(clock),
      options_(std::move(options)),
      pods_(client, kube::StrippedInformerOptions(kube::Pod::Resource()), clock),
      nodes_(client, kube::StrippedInformerOptions(kube::Node::Resource()), clock),
      recorder_(client, clock, "default-scheduler") {
  pods_.AddIndex(kube::kPodsByNodeName, kube::PodNodeNameIndex);
  pods_.AddIndex(kUnbound, [](const kube::Pod& p) {
    return p.spec.node_name.empty() ? std::vector<std::string>{"true"} : std::vector<std::string>{};
  });
  // A pass can place something when a pod starts waiting, when a bound pod stops holding its
  // node's resources, or when a node appears or changes (Ready, taints, allocatable).
  pods_.AddEventHandler({
      .on_add = [this](const auto& pod) {
        if (Pending(*pod)) wakeup_.Trigger();
      },
      .on_update = [this](const auto& old_pod, const auto& pod) {
        if (Pending(*pod) || provisioner::HoldsResources(*old_pod) != provisioner::HoldsResources(*pod)) {
          wakeup_.Trigger();
        }
      },
      .on_delete = [this](const auto& pod) {
        if (provisioner::HoldsResources(*pod)) wakeup_.Trigger();
      },
  });
  nodes_.AddEventHandler({
      .on_add = [this](const auto&) { wakeup_.Trigger(); },
      .on_update = [this](const auto&, const auto&) { wakeup_.Trigger(); },
      .on_delete = {},
  });
}

Binder::~Binder() = default;

bool Binder::Pending(const kube::Pod& pod) const {
  if (!pod.spec.node_name.empty() || pod.metadata.deletion_timestamp || pod.IsTerminal()) return false;
  return pod.spec.scheduler_name.empty() || pod.spec.scheduler_name == options_.scheduler_name;
}

void Binder::Run(std::stop_token stop) {
  std::vector<std::jthread> threads;
  threads.emplace_back([this, stop] { pods_.Run(stop); });
  threads.emplace_back([this, stop] { nodes_.Run(stop); });
  threads.emplace_back([this, stop] {
    while (clock_.SleepFor(options_.resync, stop)) wakeup_.Trigger();
  });
  while (!pods_.WaitForSync(std::chrono::milliseconds(200)) || !nodes_.WaitForSync(std::chrono::milliseconds(200))) {
    if (stop.stop_requested()) return;
  }
  kLog.Info("caches synced; binding pods", {{"nodes", nodes_.Size()}, {"pods", pods_.Size()}});
  ready_ = true;
  while (wakeup_.Wait(stop)) Pass();
  ready_ = false;
  recorder_.Flush();
}

void Binder::Pass() {
  // An assumed pod the cache now shows bound (or that is gone) is counted by the cache itself.
  std::erase_if(assumed_, [&](const auto& entry) {
    auto pod = pods_.Get(entry.second.key);
    return pod == nullptr || pod->metadata.uid != entry.first || !pod->spec.node_name.empty();
  });
  std::vector<std::shared_ptr<const kube::Pod>> pending;
  std::set<std::string> pending_uids;
  for (auto& pod : pods_.ByIndex(kUnbound, "true")) {
    if (!Pending(*pod) || assumed_.contains(pod->metadata.uid)) continue;
    pending_uids.insert(pod->metadata.uid);
    pending.push_back(std::move(pod));
  }
  std::erase_if(reported_, [&](const auto& entry) { return !pending_uids.contains(entry.first); });
  if (pending.empty()) return;

  auto nodes = nodes_.List();
  std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a->metadata.name < b->metadata.name; });
  scheduling::Input input;
  std::vector<int> state_of(nodes.size(), -1);  // node -> index into input.nodes
  for (size_t i = 0; i < nodes.size(); ++i) {
    const kube::Node& node = *nodes[i];
    if (!Candidate(node)) continue;
    std::vector<provisioner::PodUsage> usages;
    auto add = [&](const kube::Pod& pod) {
      auto usage = BoundUsage(pod);
      if (usage.ok()) {
        usages.push_back(std::move(usage).value());
      } else {
        kLog.Debug("not counting pod", {{"pod", pod.metadata.Key()}, {"error", usage.status()}});
      }
    };
    for (const auto& pod : pods_.ByIndex(kube::kPodsByNodeName, node.metadata.name)) {
      if (provisioner::HoldsResources(*pod)) add(*pod);
    }
    for (const auto& [uid, assumed] : assumed_) {
      if (assumed.node != node.metadata.name) continue;
      if (auto pod = pods_.Get(assumed.key)) add(*pod);
    }
    std::vector<const provisioner::PodUsage*> usage_ptrs;
    for (const auto& u : usages) usage_ptrs.push_back(&u);
    auto existing = provisioner::ToExistingNode(node, usage_ptrs, nullptr, nullptr);
    if (!existing.ok()) {
      kLog.Warn("skipping node", {{"node", node.metadata.name}, {"error", existing.status()}});
      continue;
    }
    // PreferNoSchedule only lowers a node's score in kube-scheduler; the solver would refuse it.
    std::erase_if(existing->taints, [](const core::Taint& t) { return t.effect == core::TaintEffect::kPreferNoSchedule; });
    state_of[i] = static_cast<int>(input.nodes.size());
    input.nodes.push_back(std::move(existing).value());
  }

  std::vector<const kube::Pod*> solved;  // parallel to input.pods
  for (const auto& pod : pending) {
    auto converted = provisioner::ToSchedulingPod(*pod);
    if (!converted.ok()) {
      MarkUnschedulable(*pod, std::string(converted.status().message()));
      continue;
    }
    input.pods.push_back(std::move(converted).value());
    solved.push_back(pod.get());
  }
  scheduling::Options options;
  options.optimize_gpu_cost = false;  // it re-packs new NodeClaims, and there are none here
  const scheduling::Result result = scheduling::Solve(input, options);

  for (size_t i = 0; i < solved.size(); ++i) {
    const scheduling::Placement& placement = result.placements[i];
    if (placement.kind != scheduling::Placement::Kind::kExistingNode) continue;
    scheduling::ExistingNode& node = input.nodes[placement.index];
    Bind(*solved[i], node.name);
    // The unplaced pods' messages see the node as the solve left it.
    (void)core::MergeInto(node.requested, input.pods[i].requests);
    (void)core::MergeInto(node.requested, core::ResourceList{{"pods", core::Quantity::FromInt(1)}});
    node.host_ports.insert(node.host_ports.end(), input.pods[i].host_ports.begin(), input.pods[i].host_ports.end());
  }
  std::vector<NodeFit> fits;
  for (size_t i = 0; i < nodes.size(); ++i) {
    fits.push_back({.node = nodes[i].get(), .state = state_of[i] < 0 ? nullptr : &input.nodes[state_of[i]]});
  }
  for (size_t i = 0; i < solved.size(); ++i) {
    if (result.placements[i].kind != scheduling::Placement::Kind::kUnplaced) continue;
    MarkUnschedulable(*solved[i], UnschedulableMessage(input.pods[i], fits));
  }
}

void Binder::Bind(const kube::Pod& pod, const std::string& node) {
  const std::string key = pod.metadata.Key();
  Status s = client_.Bind(pod.metadata.ns.str(), pod.metadata.name, node);
  if (s.code() == StatusCode::kAborted || s.code() == StatusCode::kNotFound) {
    // Bound already (the cache lags), being deleted, or gone: nothing left to do.
    kLog.Debug("pod not bound", {{"pod", key}, {"node", node}, {"error", s}});
    return;
  }
  if (!s.ok()) {
    kLog.Warn("binding pod; retrying", {{"pod", key}, {"node", node}, {"error", s}});
    return;
  }
  assumed_[pod.metadata.uid] = Assumed{.key = key, .node = node};
  ++bound_;
  kLog.Info("bound pod", {{"pod", key}, {"node", node}});
  recorder_.Event(provisioner::ObjectRef(pod), "Normal", "Scheduled", "Successfully assigned " + key + " to " + node);
}

void Binder::MarkUnschedulable(const kube::Pod& pod, const std::string& message) {
  const std::string& uid = pod.metadata.uid;
  auto reported = reported_.find(uid);
  if (reported != reported_.end() && reported->second == message) return;  // the cache may lag our write
  const kube::PodCondition* current = pod.FindCondition("PodScheduled");
  const bool was_false = current != nullptr && current->status == "False";
  if (was_false && current->reason == "Unschedulable" && current->message == message) {
    reported_[uid] = message;
    return;
  }
  // The transition time moves only when the status does. The resourceVersion makes the patch
  // conditional: a pod bound meanwhile must not be marked unschedulable.
  const std::string since = was_false && !current->last_transition_time.empty()
                                ? current->last_transition_time
                                : core::FormatRfc3339(clock_.Now());
  nlohmann::json patch = {
      {"metadata", {{"resourceVersion", pod.metadata.resource_version}}},
      {"status",
       {{"conditions",
         {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}, {"message", message},
           {"lastTransitionTime", since}}}}}}};
  auto patched = client_.Patch(kube::Pod::Resource(), pod.metadata.ns.str(), pod.metadata.name,
                               kube::PatchType::kStrategicMerge, patch, {}, "status");
  if (!patched.ok()) {
    // A conflict is a stale cache; the next pass sees the pod as it is now.
    kLog.Debug("marking pod unschedulable; retrying", {{"pod", pod.metadata.Key()}, {"error", patched.status()}});
    return;
  }
  reported_[uid] = message;
  kLog.Info("pod unschedulable", {{"pod", pod.metadata.Key()}, {"message", message}});
  recorder_.Event(provisioner::ObjectRef(pod), "Warning", "FailedScheduling", message);
}

}  // namespace gpufleet::sim
