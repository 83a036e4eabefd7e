// Fuzzes the typed views' decoders (src/kube/types), which read what an API server sends.
// Input: one byte choosing the kind, then a JSON document. Traps when an error has no message,
// or when a decoded view does not survive an encode/decode round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kube/types/daemon_set.h"
#include "kube/types/event.h"
#include "kube/types/karpenter.h"
#include "kube/types/lease.h"
#include "kube/types/node.h"
#include "kube/types/pod.h"
#include "kube/types/pod_disruption_budget.h"

namespace {

template <typename T>
void Check(const nlohmann::json& doc) {
  auto view = gpufleet::kube::FromJson<T>(doc);
  if (!view.ok()) {
    if (view.status().message().empty()) __builtin_trap();
    return;
  }
  auto again = gpufleet::kube::FromJson<T>(gpufleet::kube::ToJson(*view));
  if (!again.ok() || !(*again == *view)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  nlohmann::json doc = nlohmann::json::parse(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1),
                                             nullptr, false);
  if (doc.is_discarded()) return 0;
  using namespace gpufleet::kube;
  switch (data[0] % 9) {
    case 0: Check<Pod>(doc); break;
    case 1: Check<Node>(doc); break;
    case 2: Check<Lease>(doc); break;
    case 3: Check<Event>(doc); break;
    case 4: Check<DaemonSet>(doc); break;
    case 5: Check<PodDisruptionBudget>(doc); break;
    case 6: Check<NodePool>(doc); break;
    case 7: Check<NodeClaim>(doc); break;
    default: Check<EC2NodeClass>(doc); break;
  }
  return 0;
}
