#include "scheduling/resource_vector.h"

#include <algorithm>

namespace gpufleet::scheduling {

void ResourceIndex::Register(const core::ResourceList& list) {
  for (const auto& [name, q] : list) {
    auto it = std::lower_bound(names_.begin(), names_.end(), name);
    if (it == names_.end() || *it != name) names_.insert(it, name);
  }
}

ResourceVector ResourceIndex::ToVector(const core::ResourceList& list) const {
  ResourceVector out(names_.size(), 0);
  for (const auto& [name, q] : list) {
    auto it = std::lower_bound(names_.begin(), names_.end(), name);
    if (it != names_.end() && *it == name) out[static_cast<size_t>(it - names_.begin())] = q.NanoValue();
  }
  return out;
}

size_t ResourceIndex::Find(std::string_view name) const {
  auto it = std::lower_bound(names_.begin(), names_.end(), name);
  return it != names_.end() && *it == name ? static_cast<size_t>(it - names_.begin()) : names_.size();
}

}  // namespace gpufleet::scheduling
