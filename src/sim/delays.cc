#include "sim/delays.h"

#include <cmath>
#include <string>

namespace gpufleet::sim {

Result<SimDelays> ScaledDelays(double time_scale, const SimDelays& base) {
  if (!(time_scale > 0) || !std::isfinite(time_scale) || time_scale > 1e6) {
    return InvalidArgumentError("--time-scale " + std::to_string(time_scale) +
                                ": must be a number above 0 and at most 1000000 (1 is real time, 20 is 20x faster)");
  }
  auto scale = [time_scale](Millis d) {
    return Millis(static_cast<int64_t>(std::llround(static_cast<double>(d.count()) / time_scale)));
  };
  SimDelays out = base;
  for (Millis* d : {&out.instance_boot, &out.kubelet_register, &out.node_ready, &out.image_pull,
                    &out.container_start, &out.pod_stop, &out.batch_idle, &out.batch_max}) {
    *d = scale(*d);
  }
  return out;
}

}  // namespace gpufleet::sim
