#include "provisioner/garbage_collection.h"

#include <set>

#include "core/log.h"
#include "core/time_format.h"
#include "kube/types/typed_client.h"

namespace gpufleet::provisioner {
namespace {

const core::log::Logger kLog("garbagecollection");

}  // namespace

GarbageCollector::GarbageCollector(Cluster& cluster, cloud::CloudProvider& cloud, Metrics& metrics,
                                   std::chrono::seconds min_age)
    : cluster_(cluster), cloud_(cloud), metrics_(metrics), min_age_(min_age) {}

Result<GarbageCollectionResult> GarbageCollector::Collect() {
  GarbageCollectionResult out;
  // The claims are read before the instances: a claim created after this point cannot own an
  // instance listed below that is older than min_age.
  auto claims = cluster_.nodeclaims.List();
  GF_ASSIGN_OR_RETURN(std::vector<cloud::Machine> machines, cloud_.List());
  const core::TimePoint now = cluster_.clock().Now();

  std::set<std::string> owned_ids, owned_names;
  for (const auto& c : claims) {
    owned_names.insert(c->metadata.name);
    if (!c->status.provider_id.empty()) owned_ids.insert(c->status.provider_id);
  }
  std::set<std::string> live;
  for (const auto& m : machines) {
    live.insert(m.provider_id);
    if (owned_ids.contains(m.provider_id) || owned_names.contains(m.nodeclaim)) continue;
    if (m.state == "shutting-down" || now - m.launch_time < min_age_) continue;
    // The cache may lag the API server: confirm the owner is really gone before terminating.
    if (!m.nodeclaim.empty()) {
      auto owner = kube::TypedClient<kube::NodeClaim>(cluster_.client()).Get("", m.nodeclaim);
      if (owner.ok()) continue;
      if (owner.status().code() != StatusCode::kNotFound) return owner.status();
    }
    Status s = cloud_.Delete(m.provider_id);
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      kLog.Error("terminating leaked instance", {{"provider-id", m.provider_id}, {"error", s}});
      continue;
    }
    ++out.instances_terminated;
    kLog.Info("garbage collected instance", {{"provider-id", m.provider_id}, {"nodeclaim", m.nodeclaim}});
    if (auto node = cluster_.NodeByProviderId(m.provider_id)) {
      auto deleted = kube::TypedClient<kube::Node>(cluster_.client()).Delete("", node->metadata.name);
      if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) kLog.Warn("deleting node", {{"error", deleted.status()}});
    }
  }

  for (const auto& c : claims) {
    if (c->metadata.deletion_timestamp || c->status.provider_id.empty() || live.contains(c->status.provider_id)) {
      continue;
    }
    const kube::Condition* launched = kube::FindCondition(c->status.conditions, "Launched");
    auto since = core::ParseRfc3339(launched != nullptr ? launched->last_transition_time : c->metadata.creation_timestamp);
    if (since.ok() && now - *since < min_age_) continue;
    auto machine = cloud_.Get(c->status.provider_id);
    if (machine.ok() || machine.status().code() != StatusCode::kNotFound) continue;
    kLog.Info("garbage collecting nodeclaim: its instance is gone",
              {{"nodeclaim", c->metadata.name}, {"provider-id", c->status.provider_id}});
    cluster_.recorder().Event(ObjectRef(*c), "Warning", "Disrupting",
                              "Deleting NodeClaim: instance " + c->status.provider_id + " no longer exists");
    auto deleted = kube::TypedClient<kube::NodeClaim>(cluster_.client())
                       .Delete("", c->metadata.name, {.precondition_uid = c->metadata.uid});
    if (!deleted.ok() && deleted.status().code() != StatusCode::kNotFound) return deleted.status();
    ++out.nodeclaims_deleted;
    metrics_.Inc("karpenter_nodeclaims_disrupted_total",
                 {{"nodepool", std::string(c->NodePoolName())}, {"reason", "garbage_collected"}});
  }
  return out;
}

}  // namespace gpufleet::provisioner
