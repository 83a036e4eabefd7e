// Dense resource vectors for the solver's hot path. A ResourceList is a sorted map of names to
// Quantities: every Fits is a string search per resource. Within one solve the resource names
// are known up front (cpu, memory, pods, nvidia.com/gpu, ...), so each gets an index and a
// vector holds exact nano-unit values (int128, as Quantity does), making Fits a handful of
// integer compares with no allocation.
#pragma once

#include <string>
#include <vector>


#include "core/resource_list.h"

namespace gpufleet::scheduling {

using ResourceVector = std::vector<core::int128>;

class ResourceIndex {
 public:
  // Registers every name of `list` (call for all inputs before converting).
  void Register(const core::ResourceList& list);
  size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }
  ResourceVector Zero() const { return ResourceVector(names_.size(), 0); }
  // Names not registered are ignored (they cannot matter: nothing else mentions them).
  ResourceVector ToVector(const core::ResourceList& list) const;
  // The index of `name`, or size() when it is not registered.
  size_t Find(std::string_view name) const;

 private:
  std::vector<std::string> names_;  // sorted
};

// a + b, saturated at the int128 limits (requests near Quantity's range must not wrap around
// and appear to fit).
inline core::int128 SatAdd(core::int128 a, core::int128 b) {
  core::int128 sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? core::Quantity::kMaxNanos : -core::Quantity::kMaxNanos - 1;
}

// a - b, saturated.
inline core::int128 SatSub(core::int128 a, core::int128 b) {
  core::int128 diff = 0;
  if (!__builtin_sub_overflow(a, b, &diff)) return diff;
  return b < 0 ? core::Quantity::kMaxNanos : -core::Quantity::kMaxNanos - 1;
}

// a += b.
inline void AddTo(ResourceVector& a, const ResourceVector& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] = SatAdd(a[i], b[i]);
}
// a = max(a, b) per resource.
inline void MaxInto(ResourceVector& a, const ResourceVector& b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] = std::max(a[i], b[i]);
}
// Karpenter's Fits for base + extra against `total` (negative totals fit nothing).
inline bool FitsSum(const ResourceVector& base, const ResourceVector& extra, const ResourceVector& total) {
  for (size_t i = 0; i < total.size(); ++i) {
    if (total[i] < 0 || SatAdd(base[i], extra[i]) > total[i]) return false;
  }
  return true;
}
inline bool Fits(const ResourceVector& need, const ResourceVector& total) {
  for (size_t i = 0; i < total.size(); ++i) {
    if (total[i] < 0 || need[i] > total[i]) return false;
  }
  return true;
}

}  // namespace gpufleet::scheduling
