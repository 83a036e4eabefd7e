// Fuzzes the label selector string parser (kubectl -l, ?labelSelector=): no crash, and every
// accepted selector prints to a canonical form that parses back to the same selector.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/label_selector.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gpufleet::core::LabelSelector;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = LabelSelector::Parse(text);
  if (!parsed.ok()) {
    if (parsed.status().message().empty()) __builtin_trap();  // errors must say what was wrong
    return 0;
  }
  std::string canonical = parsed->ToString();
  auto again = LabelSelector::Parse(canonical);
  if (!again.ok() || !(*again == *parsed) || again->ToString() != canonical) __builtin_trap();
  // Matching never crashes, whatever the labels.
  gpufleet::core::Labels labels;
  for (const auto& r : parsed->requirements()) {
    labels[r.key] = r.values.empty() ? "1" : r.values.front();
  }
  (void)parsed->Matches(labels);
  (void)parsed->Matches({});
  return 0;
}
