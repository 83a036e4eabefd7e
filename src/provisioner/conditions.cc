#include "provisioner/conditions.h"

#include <string>

#include "core/time_format.h"

namespace gpufleet::provisioner {

bool SetCondition(std::vector<kube::Condition>& conditions, std::string_view type, std::string_view status,
                  std::string_view reason, std::string_view message, int64_t generation, core::TimePoint now) {
  std::string why(reason);
  if (why.empty()) why = status == "Unknown" ? "AwaitingReconciliation" : std::string(type);
  for (auto& c : conditions) {
    if (c.type != type) continue;
    bool changed = c.status != status || c.reason != why || c.message != message || c.observed_generation != generation;
    if (c.status != status) c.last_transition_time = core::FormatRfc3339(now);
    c.status = std::string(status);
    c.reason = why;
    c.message = std::string(message);
    c.observed_generation = generation;
    return changed;
  }
  conditions.push_back(kube::Condition{.type = std::string(type),
                                       .status = std::string(status),
                                       .observed_generation = generation,
                                       .last_transition_time = core::FormatRfc3339(now),
                                       .reason = why,
                                       .message = std::string(message)});
  return true;
}

}  // namespace gpufleet::provisioner
