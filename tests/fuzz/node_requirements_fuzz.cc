// Fuzzes decoding of node selector requirements (NodePool requirements, pod node affinity) from
// JSON and the Karpenter requirement algebra built on them. Checks algebraic invariants:
//  - r ∩ r allows exactly what r allows; a ∩ b and b ∩ a allow the same values;
//  - the wire form (ToNodeSelectorRequirements) rebuilds the same Requirements.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/requirements.h"

namespace {

using gpufleet::core::NodeSelectorRequirement;
using gpufleet::core::Requirement;
using gpufleet::core::Requirements;

std::vector<std::string> Probes(const Requirement& a, const Requirement& b) {
  std::vector<std::string> probes = {"", "0", "1", "-1", "5", "100", "x", "9223372036854775807"};
  for (const auto* r : {&a, &b}) {
    for (const auto& v : r->values()) probes.push_back(v);
    if (r->greater_than() && *r->greater_than() < INT64_MAX) {
      probes.push_back(std::to_string(*r->greater_than() + 1));
    }
    if (r->less_than() && *r->less_than() > INT64_MIN) {
      probes.push_back(std::to_string(*r->less_than() - 1));
    }
  }
  return probes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array() || j.size() > 64) return 0;
  std::vector<NodeSelectorRequirement> wire;
  for (size_t i = 0; i < j.size(); ++i) {
    auto r = gpufleet::core::ParseNodeSelectorRequirement(j[i], "requirements");
    if (!r.ok()) return 0;
    (void)gpufleet::core::ValidateNodeSelectorRequirement(
        *r, gpufleet::core::RequirementDialect::kKarpenter, "requirements");
    (void)gpufleet::core::Matches(*r, {{r->key, "1"}});
    wire.push_back(*r);
  }
  std::vector<Requirement> reqs;
  for (const auto& w : wire) {
    auto r = Requirement::Create(w);
    if (!r.ok()) return 0;
    reqs.push_back(*r);
  }
  for (size_t i = 0; i + 1 < reqs.size(); ++i) {
    const Requirement& a = reqs[i];
    Requirement b = reqs[i + 1];
    if (b.key() != a.key()) continue;
    Requirement ab = a.Intersection(b);
    Requirement ba = b.Intersection(a);
    Requirement aa = a.Intersection(a);
    for (const auto& v : Probes(a, b)) {
      if (ab.Has(v) != ba.Has(v)) __builtin_trap();
      if (ab.Has(v) != (a.Has(v) && b.Has(v))) __builtin_trap();
      if (aa.Has(v) != a.Has(v)) __builtin_trap();
    }
    if (auto any = ab.Any(); any && !ab.Has(*any)) __builtin_trap();
  }
  auto all = Requirements::FromNodeSelectorRequirements(wire);
  if (!all.ok()) return 0;
  auto rebuilt = Requirements::FromNodeSelectorRequirements(all->ToNodeSelectorRequirements());
  if (!rebuilt.ok() || !(*rebuilt == *all)) __builtin_trap();
  (void)all->Compatible(*rebuilt);
  return 0;
}
