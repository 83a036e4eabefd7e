// Cluster: the controller's view of the API server: one informer per kind it reads, with the
// indexes its controllers look things up by, the client it writes with and the event recorder.
// Every controller reads from these caches; none lists from the API server on its hot path.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/types/informers.h"
#include "provisioner/cached_pod.h"

namespace gpufleet::provisioner {

// Index names (besides kube::kPodsByNodeName).
inline constexpr const char* kNodesByProviderId = "spec.providerID";
inline constexpr const char* kNodeClaimsByProviderId = "status.providerID";
inline constexpr const char* kNodeClaimsByNodePool = "nodepool";
// Pods without a node, under the single value "true": a batch reads these, not all 100k pods.
inline constexpr const char* kUnboundPods = "unbound";

// Karpenter's finalizer on NodeClaims and their Nodes: the instance goes before the object.
inline constexpr std::string_view kTerminationFinalizer = "karpenter.sh/termination";

class Cluster {
 public:
  Cluster(kube::Client& client, core::Clock& clock);
  ~Cluster();

  // Starts every informer on its own thread; they stop with `stop` (or the destructor).
  void Start(std::stop_token stop);
  bool HasSynced() const;
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  kube::Client& client() { return client_; }
  kube::EventRecorder& recorder() { return recorder_; }
  core::Clock& clock() { return clock_; }

  // Cache lookups.
  std::shared_ptr<const kube::Node> NodeByProviderId(const std::string& provider_id) const;
  std::shared_ptr<const kube::NodeClaim> NodeClaimByProviderId(const std::string& provider_id) const;

  CachedPodInformer pods;  // bound pods as their usage only (cached_pod.h)
  kube::NodeInformer nodes;
  kube::NodePoolInformer nodepools;
  kube::NodeClaimInformer nodeclaims;
  kube::EC2NodeClassInformer nodeclasses;
  kube::DaemonSetInformer daemonsets;

 private:
  kube::Client& client_;
  core::Clock& clock_;
  kube::EventRecorder recorder_;
  std::vector<std::jthread> threads_;
};

// {apiVersion, kind, metadata{name, namespace, uid}}: what an Event's involvedObject needs.
template <typename T>
nlohmann::json ObjectRef(const T& obj) {
  nlohmann::json meta = {{"name", obj.metadata.name}, {"uid", obj.metadata.uid}};
  if (!obj.metadata.ns.empty()) meta["namespace"] = obj.metadata.ns.str();
  if (!obj.metadata.resource_version.empty()) meta["resourceVersion"] = obj.metadata.resource_version;
  return {{"apiVersion", T::kApiVersion}, {"kind", T::kKind}, {"metadata", meta}};
}

}  // namespace gpufleet::provisioner
