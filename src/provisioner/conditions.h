// Status conditions as Karpenter writes them (metav1.Condition): a condition's
// lastTransitionTime moves only when its status changes; reason is CamelCase and never empty;
// observedGeneration is the object's generation the condition was computed from.
#pragma once

#include <string_view>
#include <vector>

#include "core/clock.h"
#include "kube/types/meta.h"

namespace gpufleet::provisioner {

// Sets `type` to `status` ("True", "False", "Unknown"). An empty reason becomes
// "AwaitingReconciliation" for Unknown and `type` otherwise, as Karpenter's status library does.
// True when anything changed (so the caller knows whether to write status).
bool SetCondition(std::vector<kube::Condition>& conditions, std::string_view type, std::string_view status,
                  std::string_view reason, std::string_view message, int64_t generation, core::TimePoint now);

inline bool SetTrue(std::vector<kube::Condition>& conditions, std::string_view type, int64_t generation,
                    core::TimePoint now) {
  return SetCondition(conditions, type, "True", type, "", generation, now);
}

}  // namespace gpufleet::provisioner
