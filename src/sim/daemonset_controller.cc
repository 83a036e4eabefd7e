#include "sim/daemonset_controller.h"

#include <algorithm>
#include <charconv>
#include <memory>
#include <thread>
#include <vector>

#include "core/log.h"
#include "sim/daemon_pod.h"

namespace gpufleet::sim {
namespace {

const core::log::Logger kLog("daemonset-controller");

using PodPtr = std::shared_ptr<const kube::Pod>;

// Pods by the uid of the DaemonSet that controls them.
constexpr const char* kByDaemonSet = "daemonset-uid";

std::string DaemonSetUid(const kube::Pod& pod) {
  const kube::OwnerReference* owner = pod.metadata.ControllerRef();
  return owner != nullptr && owner->kind == "DaemonSet" ? owner->uid.str() : "";
}

// Resource versions are opaque to clients, but the API server's are increasing integers; 0 when
// one is not (the expectation is then dropped at the next pass and the cache alone decides).
uint64_t ParseResourceVersion(std::string_view rv) {
  uint64_t out = 0;
  auto [end, ec] = std::from_chars(rv.data(), rv.data() + rv.size(), out);
  return ec == std::errc() && end == rv.data() + rv.size() ? out : 0;
}

// The involvedObject of the DaemonSet's events.
nlohmann::json Ref(const nlohmann::json& daemon_set) {
  const nlohmann::json meta = daemon_set.value("metadata", nlohmann::json::object());
  return {{"apiVersion", "apps/v1"},
          {"kind", "DaemonSet"},
          {"metadata",
           {{"name", meta.value("name", "")}, {"namespace", meta.value("namespace", "")}, {"uid", meta.value("uid", "")}}}};
}

bool IsReady(const kube::Pod& pod) {
  const kube::PodCondition* ready = pod.FindCondition("Ready");
  return ready != nullptr && ready->status == "True";
}

// Oldest first: the pod a node keeps when it has several, and the one its status counts.
void SortOldestFirst(std::vector<PodPtr>& pods) {
  std::sort(pods.begin(), pods.end(), [](const PodPtr& a, const PodPtr& b) {
    if (a->metadata.creation_timestamp != b->metadata.creation_timestamp) {
      return a->metadata.creation_timestamp < b->metadata.creation_timestamp;
    }
    return a->metadata.name < b->metadata.name;
  });
}

// IsPodUpdated: made from the current template, by hash or by the DaemonSet's generation.
bool IsUpdated(const kube::Pod& pod, const std::string& hash, const std::string& generation) {
  const core::Labels& labels = pod.metadata.labels;
  auto h = labels.find("controller-revision-hash");
  auto g = labels.find("pod-template-generation");
  return (h != labels.end() && h->second == hash) || (g != labels.end() && g->second == generation);
}

}  // namespace

DaemonSetController::DaemonSetController(kube::Client& client, core::Clock& clock, DaemonSetControllerOptions options)
    : client_(client),
      clock_(clock),
      options_(options),
      daemonsets_(client, kube::StrippedInformerOptions(kube::DaemonSet::Resource()), clock),
      nodes_(client, kube::StrippedInformerOptions(kube::Node::Resource()), clock),
      pods_(client, kube::StrippedInformerOptions(kube::Pod::Resource()), clock),
      recorder_(client, clock, "daemonset-controller") {
  pods_.AddIndex(kByDaemonSet, [](const kube::Pod& p) {
    std::string uid = DaemonSetUid(p);
    return uid.empty() ? std::vector<std::string>{} : std::vector<std::string>{uid};
  });
  auto wake = [this] { wakeup_.Trigger(); };
  daemonsets_.AddEventHandler({
      .on_add = [wake](const auto&) { wake(); },
      .on_update = [wake](const auto&, const auto&) { wake(); },
      .on_delete = [wake](const auto&) { wake(); },
  });
  nodes_.AddEventHandler({
      .on_add = [wake](const auto&) { wake(); },
      .on_update = [wake](const auto&, const auto&) { wake(); },
      .on_delete = [wake](const auto&) { wake(); },
  });
  // Daemon pods change the status; any pod on a node that is gone is pod GC's.
  auto pod_matters = [this](const kube::Pod& pod) {
    return !DaemonSetUid(pod).empty() || (!pod.spec.node_name.empty() && nodes_.Get(pod.spec.node_name.str()) == nullptr);
  };
  pods_.AddEventHandler({
      .on_add = [this, pod_matters](const auto& pod) {
        if (pod_matters(*pod)) wakeup_.Trigger();
      },
      .on_update = [this, pod_matters](const auto&, const auto& pod) {
        if (pod_matters(*pod)) wakeup_.Trigger();
      },
      .on_delete = [this, pod_matters](const auto& pod) {
        if (pod_matters(*pod)) wakeup_.Trigger();
      },
  });
}

DaemonSetController::~DaemonSetController() = default;

void DaemonSetController::Run(std::stop_token stop) {
  std::vector<std::jthread> threads;
  threads.emplace_back([this, stop] { daemonsets_.Run(stop); });
  threads.emplace_back([this, stop] { nodes_.Run(stop); });
  threads.emplace_back([this, stop] { pods_.Run(stop); });
  threads.emplace_back([this, stop] {
    while (clock_.SleepFor(options_.resync, stop)) wakeup_.Trigger();
  });
  const auto step = std::chrono::milliseconds(200);
  while (!daemonsets_.WaitForSync(step) || !nodes_.WaitForSync(step) || !pods_.WaitForSync(step)) {
    if (stop.stop_requested()) return;
  }
  kLog.Info("caches synced; running daemonsets",
            {{"daemonsets", daemonsets_.Size()}, {"nodes", nodes_.Size()}, {"pods", pods_.Size()}});
  ready_ = true;
  while (wakeup_.Wait(stop)) Pass();
  ready_ = false;
  recorder_.Flush();
}

void DaemonSetController::Pass() {
  const uint64_t synced = ParseResourceVersion(pods_.LastSyncResourceVersion());
  std::erase_if(creating_, [&](const auto& entry) { return synced >= entry.second; });
  std::erase_if(deleting_, [&](const auto& entry) { return synced >= entry.second; });
  for (const auto& daemon_set : daemonsets_.List()) {
    Status s = Sync(*daemon_set);
    if (!s.ok()) {
      const std::string key = kube::Informer::KeyOf(*daemon_set);
      // A conflict is a stale cache: routine, retried next pass.
      if (s.code() == StatusCode::kAborted) {
        kLog.Debug("syncing daemonset; retrying", {{"daemonset", key}, {"error", s}});
      } else {
        kLog.Warn("syncing daemonset; retrying", {{"daemonset", key}, {"error", s}});
      }
    }
  }
  CollectOrphanedPods();
}

Status DaemonSetController::Sync(const nlohmann::json& daemon_set) {
  GF_ASSIGN_OR_RETURN(kube::DaemonSet ds, kube::FromJson<kube::DaemonSet>(daemon_set));
  // Being deleted: its pods are the garbage collector's, as with kube-controller-manager.
  if (ds.metadata.deletion_timestamp) return OkStatus();
  const nlohmann::json pod_template =
      daemon_set.value("spec", nlohmann::json::object()).value("template", nlohmann::json::object());
  const std::string hash = TemplateHash(pod_template);
  const std::string generation = std::to_string(ds.metadata.generation);

  std::map<std::string, std::vector<PodPtr>> by_node;
  for (auto& pod : pods_.ByIndex(kByDaemonSet, ds.metadata.uid)) {
    // A finished pod already being deleted is its kubelet's (or pod GC's) to remove.
    if (pod->IsTerminal() && pod->metadata.deletion_timestamp) continue;
    if (pod->spec.node_name.empty()) continue;
    by_node[pod->spec.node_name.str()].push_back(std::move(pod));
  }
  auto nodes = nodes_.List();
  std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a->metadata.name < b->metadata.name; });

  Status first_error;
  auto note = [&](Status s) {
    if (!s.ok() && first_error.ok()) first_error = std::move(s);
  };
  int64_t desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0;
  for (const auto& node : nodes) {
    const std::string& name = node->metadata.name;
    const NodeDecision decision = ShouldRun(ds.spec.template_.spec, *node);
    std::vector<PodPtr>& pods = by_node[name];
    SortOldestFirst(pods);
    const auto expectation = std::make_pair(ds.metadata.uid, name);
    if (!pods.empty()) creating_.erase(expectation);

    if (decision.should_run && pods.empty()) {
      if (!creating_.contains(expectation)) note(CreatePod(daemon_set, hash, name));
    } else if (decision.should_continue_running) {
      // Failed pods are replaced (deleted now, recreated once gone); extras go, oldest stays.
      bool kept = false;
      for (const PodPtr& pod : pods) {
        if (pod->metadata.deletion_timestamp) continue;
        if (pod->status.phase == "Failed") {
          recorder_.Event(Ref(daemon_set), "Warning", "FailedDaemonPod",
                          "Found failed daemon pod " + pod->metadata.Key() + " on node " + name + ", will try to kill it");
          DeletePod(daemon_set, *pod);
        } else if (kept) {
          DeletePod(daemon_set, *pod);
        } else {
          kept = true;
        }
      }
    } else {
      for (const PodPtr& pod : pods) {
        if (!pod->metadata.deletion_timestamp) DeletePod(daemon_set, *pod);
      }
    }

    if (!decision.should_run) {
      if (!pods.empty()) ++misscheduled;
      continue;
    }
    ++desired;
    if (pods.empty()) continue;
    ++current;
    if (IsReady(*pods.front())) ++ready;
    if (IsUpdated(*pods.front(), hash, generation)) ++updated;
  }
  // numberAvailable counts ready pods: minReadySeconds (ready for that long) is not modelled,
  // the embedded cluster's daemons have none.
  const int64_t available = ready;
  nlohmann::json status = {{"observedGeneration", ds.metadata.generation},
                           {"desiredNumberScheduled", desired},
                           {"currentNumberScheduled", current},
                           {"numberMisscheduled", misscheduled},
                           {"numberReady", ready},
                           {"updatedNumberScheduled", updated},
                           {"numberAvailable", available},
                           {"numberUnavailable", desired - available}};
  note(WriteStatus(daemon_set, status));
  return first_error;
}

Status DaemonSetController::CreatePod(const nlohmann::json& daemon_set, const std::string& hash, const std::string& node) {
  const nlohmann::json pod = NewDaemonPod(daemon_set, hash, node);
  const std::string ns = kube::MetadataString(pod, "namespace");
  GF_ASSIGN_OR_RETURN(nlohmann::json created, client_.Create(kube::Pod::Resource(), ns, pod));
  const std::string uid = kube::MetadataString(daemon_set, "uid");
  creating_[{uid, node}] = ParseResourceVersion(kube::MetadataString(created, "resourceVersion"));
  const std::string name = kube::MetadataString(created, "name");
  kLog.Info("created daemon pod", {{"daemonset", kube::Informer::KeyOf(daemon_set)}, {"pod", name}, {"node", node}});
  recorder_.Event(Ref(daemon_set), "Normal", "SuccessfulCreate", "Created pod: " + name);
  return OkStatus();
}

void DaemonSetController::DeletePod(const nlohmann::json& daemon_set, const kube::Pod& pod) {
  if (deleting_.contains(pod.metadata.uid)) return;  // the cache has not seen our delete yet
  auto deleted = client_.Delete(kube::Pod::Resource(), pod.metadata.ns.str(), pod.metadata.name,
                                {.precondition_uid = pod.metadata.uid});
  if (!deleted.ok()) {
    const StatusCode code = deleted.status().code();
    if (code != StatusCode::kNotFound && code != StatusCode::kAborted) {
      kLog.Warn("deleting daemon pod; retrying", {{"pod", pod.metadata.Key()}, {"error", deleted.status()}});
    }
    return;
  }
  // A Status answer (the pod is gone) has no resourceVersion: 0 drops the entry next pass.
  deleting_[pod.metadata.uid] = ParseResourceVersion(kube::MetadataString(*deleted, "resourceVersion"));
  kLog.Info("deleted daemon pod", {{"daemonset", kube::Informer::KeyOf(daemon_set)}, {"pod", pod.metadata.Key()},
                                   {"node", pod.spec.node_name.str()}});
  recorder_.Event(Ref(daemon_set), "Normal", "SuccessfulDelete", "Deleted pod: " + pod.metadata.name);
}

Status DaemonSetController::WriteStatus(const nlohmann::json& daemon_set, const nlohmann::json& status) {
  const nlohmann::json current = daemon_set.value("status", nlohmann::json::object());
  nlohmann::json next = current.is_object() ? current : nlohmann::json::object();
  for (const auto& [field, value] : status.items()) {
    // Go leaves these out when zero (omitempty); the others are always written.
    const bool omit_empty = field == "observedGeneration" || field == "updatedNumberScheduled" ||
                            field == "numberAvailable" || field == "numberUnavailable";
    if (omit_empty && value == 0) {
      next.erase(field);
    } else {
      next[field] = value;
    }
  }
  if (next == current) return OkStatus();
  nlohmann::json object = daemon_set;
  object["apiVersion"] = "apps/v1";
  object["kind"] = "DaemonSet";
  object["status"] = std::move(next);
  const std::string ns = kube::MetadataString(daemon_set, "namespace");
  return client_.UpdateStatus(kube::DaemonSet::Resource(), ns, object).status();
}

void DaemonSetController::CollectOrphanedPods() {
  std::map<std::string, bool> gone;  // node name -> the API server confirmed it does not exist
  for (const auto& pod : pods_.List()) {
    const std::string node = pod->spec.node_name.str();
    if (node.empty() || nodes_.Get(node) != nullptr) continue;
    if (pod->metadata.deletion_grace_period_seconds == 0) continue;  // deleted already; finalizers hold it
    auto [it, fresh] = gone.try_emplace(node, false);
    if (fresh) {
      // The node cache may not have a node just created yet: ask the API server.
      auto found = client_.Get(kube::Node::Resource(), "", node);
      it->second = !found.ok() && found.status().code() == StatusCode::kNotFound;
    }
    if (!it->second) continue;
    auto deleted = client_.Delete(kube::Pod::Resource(), pod->metadata.ns.str(), pod->metadata.name,
                                  {.grace_period_seconds = 0, .precondition_uid = pod->metadata.uid});
    if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) {
      kLog.Warn("deleting orphaned pod; retrying", {{"pod", pod->metadata.Key()}, {"error", deleted.status()}});
      continue;
    }
    kLog.Info("deleted pod of a node that no longer exists", {{"pod", pod->metadata.Key()}, {"node", node}});
  }
}

}  // namespace gpufleet::sim
