// GarbageCollector: Karpenter's two garbage collections, one pass per Collect():
//   - instances this cluster launched (tagged with the cluster and a NodePool) that no NodeClaim
//     owns, by providerID or by the karpenter.sh/nodeclaim tag, are terminated once older than
//     `min_age` (a launch that has not written its providerID yet is still owned by name);
//   - NodeClaims whose instance the cloud no longer knows are deleted.
#pragma once

#include <chrono>

#include "cloud/cloud_provider.h"
#include "core/status.h"
#include "provisioner/cluster.h"
#include "provisioner/metrics.h"

namespace gpufleet::provisioner {

struct GarbageCollectionResult {
  int instances_terminated = 0;
  int nodeclaims_deleted = 0;
};

class GarbageCollector {
 public:
  GarbageCollector(Cluster& cluster, cloud::CloudProvider& cloud, Metrics& metrics,
                   std::chrono::seconds min_age = std::chrono::seconds(30));
  Result<GarbageCollectionResult> Collect();

 private:
  Cluster& cluster_;
  cloud::CloudProvider& cloud_;
  Metrics& metrics_;
  std::chrono::seconds min_age_;
};

}  // namespace gpufleet::provisioner
