// Bootstrap: what the seed's cluster already has, installed by `gpufleet up` on first start:
// Karpenter's CRDs, the NodePool and EC2NodeClass "gpu" (deploy/examples/seed) and the agent's
// namespace, RBAC and DaemonSet (deploy/agent/daemonset.yaml). Objects that exist are left as
// they are, so a user's edits survive; once everything is in, <data dir>/bootstrapped records
// it and later starts install nothing (a NodePool the user deleted stays deleted).
#pragma once

#include <string>

#include "core/status.h"

namespace gpufleet::kube {
class Client;
}

namespace gpufleet::sim {

// Creates every embedded manifest that does not exist yet, CRDs first (waiting until they are
// served). Errors name the manifest and the object.
Status InstallManifests(kube::Client& client);

}  // namespace gpufleet::sim
