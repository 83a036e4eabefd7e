// SimDelays: how long the simulated parts of the embedded cluster take, at time scale 1 chosen
// so a GPU pod goes from created to Running in the seed's "30 seconds to 1 minute": EC2 boot,
// nodeadm + kubelet start, CNI ready, image pulls (SOCI lazy pulls: seconds, not minutes) and
// container start. `gpufleet up --time-scale N` divides every one of them by N.
#pragma once

#include <chrono>

#include "core/status.h"

namespace gpufleet::sim {

using Millis = std::chrono::milliseconds;

struct SimDelays {
  Millis instance_boot{std::chrono::seconds(20)};    // EC2 pending -> running
  Millis kubelet_register{std::chrono::seconds(8)};  // running -> Node object exists
  Millis node_ready{std::chrono::seconds(4)};        // Node created -> Ready (CNI up)
  Millis image_pull{std::chrono::seconds(3)};        // per container, SOCI lazy pull
  Millis container_start{std::chrono::seconds(1)};   // created -> running
  Millis pod_stop{std::chrono::seconds(1)};          // SIGTERM -> container exited
  Millis batch_idle{std::chrono::seconds(1)};        // Karpenter's BATCH_IDLE_DURATION
  Millis batch_max{std::chrono::seconds(10)};        // BATCH_MAX_DURATION
};

// Every delay divided by `time_scale` (> 0; kInvalidArgument otherwise, naming the value).
Result<SimDelays> ScaledDelays(double time_scale, const SimDelays& base = {});

}  // namespace gpufleet::sim
