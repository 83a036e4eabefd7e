#include "provisioner/cluster.h"

namespace gpufleet::provisioner {
Cluster::Cluster(kube::Client& client, core::Clock& clock)
    : pods(client, kube::StrippedInformerOptions(kube::Pod::Resource()), clock),
      nodes(client, kube::StrippedInformerOptions(kube::Node::Resource()), clock),
      nodepools(client, kube::StrippedInformerOptions(kube::NodePool::Resource()), clock),
      nodeclaims(client, kube::StrippedInformerOptions(kube::NodeClaim::Resource()), clock),
      nodeclasses(client, kube::StrippedInformerOptions(kube::EC2NodeClass::Resource()), clock),
      daemonsets(client, kube::StrippedInformerOptions(kube::DaemonSet::Resource()), clock),
      client_(client),
      clock_(clock),
      recorder_(client, clock, "karpenter") {
  pods.AddIndex(kube::kPodsByNodeName, [](const CachedPod& p) {
    return p.node_name.empty() ? std::vector<std::string>{} : std::vector<std::string>{p.node_name.str()};
  });
  pods.AddIndex(kUnboundPods, [](const CachedPod& p) {
    return p.unbound ? std::vector<std::string>{"true"} : std::vector<std::string>{};
  });
  nodes.AddIndex(kNodesByProviderId, [](const kube::Node& n) {
    return n.spec.provider_id.empty() ? std::vector<std::string>{} : std::vector<std::string>{n.spec.provider_id};
  });
  nodeclaims.AddIndex(kNodeClaimsByProviderId, [](const kube::NodeClaim& c) {
    return c.status.provider_id.empty() ? std::vector<std::string>{} : std::vector<std::string>{c.status.provider_id};
  });
  nodeclaims.AddIndex(kNodeClaimsByNodePool, [](const kube::NodeClaim& c) {
    return std::vector<std::string>{std::string(c.NodePoolName())};
  });
}

Cluster::~Cluster() {
  for (auto& t : threads_) t.request_stop();
  threads_.clear();
}

void Cluster::Start(std::stop_token stop) {
  auto run = [&, stop](auto& informer) {
    threads_.emplace_back([&informer, stop](std::stop_token own) {
      std::stop_source both;
      std::stop_callback a(stop, [&] { both.request_stop(); });
      std::stop_callback b(own, [&] { both.request_stop(); });
      informer.Run(both.get_token());
    });
  };
  run(pods);
  run(nodes);
  run(nodepools);
  run(nodeclaims);
  run(nodeclasses);
  run(daemonsets);
}

bool Cluster::HasSynced() const {
  return pods.HasSynced() && nodes.HasSynced() && nodepools.HasSynced() && nodeclaims.HasSynced() &&
         nodeclasses.HasSynced() && daemonsets.HasSynced();
}

bool Cluster::WaitForSync(std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  };
  return pods.WaitForSync(left()) && nodes.WaitForSync(left()) && nodepools.WaitForSync(left()) &&
         nodeclaims.WaitForSync(left()) && nodeclasses.WaitForSync(left()) && daemonsets.WaitForSync(left());
}

std::shared_ptr<const kube::Node> Cluster::NodeByProviderId(const std::string& provider_id) const {
  auto found = nodes.ByIndex(kNodesByProviderId, provider_id);
  return found.empty() ? nullptr : found.front();
}

std::shared_ptr<const kube::NodeClaim> Cluster::NodeClaimByProviderId(const std::string& provider_id) const {
  auto found = nodeclaims.ByIndex(kNodeClaimsByProviderId, provider_id);
  return found.empty() ? nullptr : found.front();
}

}  // namespace gpufleet::provisioner
