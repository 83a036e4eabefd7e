// CrashPoint: fault injection for crash-safety tests. With GPUFLEET_CRASH_POINT=name (or
// name:N) in the environment, the first (or Nth) time the process passes CrashPoint(name) it
// kills itself with SIGKILL: no destructors, no flushing, exactly what `kill -9` at that step
// does, but at a step the test chooses instead of wherever a timer happens to land. Without the
// variable a call costs one atomic load. Names are "module.step", e.g. "launch.after-create".
#pragma once

#include <string_view>

namespace gpufleet::core {

void CrashPoint(std::string_view name);

}  // namespace gpufleet::core
