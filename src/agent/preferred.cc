#include "agent/preferred.h"

#include <algorithm>
#include <map>

namespace gpufleet::agent {
namespace {

int PcieScore(gpu::TopologyLevel level) {
  switch (level) {
    case gpu::TopologyLevel::kInternal: return 0;
    case gpu::TopologyLevel::kSingleSwitch: return 50;
    case gpu::TopologyLevel::kMultipleSwitches: return 40;
    case gpu::TopologyLevel::kHostBridge: return 30;
    case gpu::TopologyLevel::kSameNumaNode: return 20;
    case gpu::TopologyLevel::kCrossNumaNode: return 10;
  }
  return 10;
}

std::vector<std::string> Ids(const std::vector<const PluginDevice*>& devices) {
  std::vector<std::string> out;
  for (const auto* d : devices) out.push_back(d->id);
  return out;
}

// Pair score within a set of GPU indexes.
int SetScore(const LinkMatrix& links, const std::vector<unsigned>& gpus) {
  int s = 0;
  for (size_t i = 0; i < gpus.size(); ++i) {
    for (size_t j = i + 1; j < gpus.size(); ++j) s += links.Score(gpus[i], gpus[j]);
  }
  return s;
}

std::vector<std::string> Distributed(const PluginResource& resource, std::vector<const PluginDevice*> chosen,
                                     const std::vector<const PluginDevice*>& candidates, size_t size) {
  // Replicas in use per GPU: the resource's replicas of that GPU not offered as available.
  std::map<unsigned, int> in_use;
  for (const auto& d : resource.devices) ++in_use[d.gpu_index];
  for (const auto* d : candidates) --in_use[d->gpu_index];
  for (const auto* d : chosen) ++in_use[d->gpu_index];
  std::vector<const PluginDevice*> pool = candidates;
  while (chosen.size() < size && !pool.empty()) {
    auto best = std::min_element(pool.begin(), pool.end(), [&](const PluginDevice* a, const PluginDevice* b) {
      if (in_use[a->gpu_index] != in_use[b->gpu_index]) return in_use[a->gpu_index] < in_use[b->gpu_index];
      if (a->gpu_index != b->gpu_index) return a->gpu_index < b->gpu_index;
      return a->replica < b->replica;
    });
    ++in_use[(*best)->gpu_index];
    chosen.push_back(*best);
    pool.erase(best);
  }
  return Ids(chosen);
}

std::vector<std::string> BestGpuSet(const LinkMatrix& links, std::vector<const PluginDevice*> chosen,
                                    const std::vector<const PluginDevice*>& candidates, size_t size) {
  const size_t k = size - chosen.size();
  std::vector<unsigned> base;
  for (const auto* d : chosen) base.push_back(d->gpu_index);
  if (candidates.size() <= 16) {
    // Exact: every k-subset of the candidates; best set score, then best score left behind.
    const size_t m = candidates.size();
    int best_set = -1, best_rest = -1;
    uint32_t best_mask = 0;
    std::vector<unsigned> set, rest;
    for (uint32_t mask = 0; mask < (1u << m); ++mask) {
      if (static_cast<size_t>(__builtin_popcount(mask)) != k) continue;
      set = base;
      rest.clear();
      for (size_t i = 0; i < m; ++i) ((mask >> i) & 1 ? set : rest).push_back(candidates[i]->gpu_index);
      const int s = SetScore(links, set);
      if (s < best_set) continue;
      const int r = SetScore(links, rest);
      if (s > best_set || r > best_rest) {
        best_set = s;
        best_rest = r;
        best_mask = mask;
      }
    }
    for (size_t i = 0; i < m; ++i) {
      if ((best_mask >> i) & 1) chosen.push_back(candidates[i]);
    }
    return Ids(chosen);
  }
  // Greedy: add the GPU that adds the most, preferring the one least linked to what stays free.
  std::vector<const PluginDevice*> pool = candidates;
  while (chosen.size() < size && !pool.empty()) {
    size_t best = 0;
    int best_gain = -1, best_loss = 0;
    for (size_t i = 0; i < pool.size(); ++i) {
      int gain = 0, loss = 0;
      for (const auto* c : chosen) gain += links.Score(c->gpu_index, pool[i]->gpu_index);
      for (const auto* o : pool) {
        if (o != pool[i]) loss += links.Score(o->gpu_index, pool[i]->gpu_index);
      }
      if (gain > best_gain || (gain == best_gain && loss < best_loss)) {
        best = i;
        best_gain = gain;
        best_loss = loss;
      }
    }
    chosen.push_back(pool[best]);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(best));
  }
  return Ids(chosen);
}

}  // namespace

LinkMatrix::LinkMatrix(const std::vector<gpu::DeviceInfo>& gpus,
                       const std::function<Result<gpu::TopologyLevel>(unsigned, unsigned)>& level) {
  for (const auto& g : gpus) n_ = std::max<size_t>(n_, g.index + 1);
  score_.assign(n_ * n_, 0);
  for (const auto& a : gpus) {
    for (const auto& b : gpus) {
      if (a.index == b.index) continue;
      const int links = static_cast<int>(std::count(a.nvlink_peers.begin(), a.nvlink_peers.end(), b.pci_bus_id));
      auto l = level(a.index, b.index);
      score_[a.index * n_ + b.index] = 100 * links + PcieScore(l.ok() ? *l : gpu::TopologyLevel::kCrossNumaNode);
    }
  }
}

int LinkMatrix::Score(unsigned a, unsigned b) const {
  if (a >= n_ || b >= n_) return 0;
  return score_[a * n_ + b];
}

std::vector<std::string> PreferredAllocation(const PluginResource& resource, const LinkMatrix& links,
                                             const std::vector<std::string>& available,
                                             const std::vector<std::string>& must_include, size_t size) {
  std::vector<const PluginDevice*> chosen, candidates;
  for (const auto& id : must_include) {
    const PluginDevice* d = resource.Find(id);
    if (d != nullptr && std::find(chosen.begin(), chosen.end(), d) == chosen.end()) chosen.push_back(d);
  }
  for (const auto& id : available) {
    const PluginDevice* d = resource.Find(id);
    if (d == nullptr || !d->healthy) continue;  // lost and unknown devices are never offered
    if (std::find(chosen.begin(), chosen.end(), d) != chosen.end()) continue;
    if (std::find(candidates.begin(), candidates.end(), d) != candidates.end()) continue;
    candidates.push_back(d);
  }
  if (chosen.size() >= size) {
    chosen.resize(size);
    return Ids(chosen);
  }
  if (chosen.size() + candidates.size() <= size) {
    chosen.insert(chosen.end(), candidates.begin(), candidates.end());
    return Ids(chosen);
  }
  if (resource.shared) return Distributed(resource, chosen, candidates, size);
  const bool mig = std::any_of(candidates.begin(), candidates.end(),
                               [](const PluginDevice* d) { return d->index.find(':') != std::string::npos; });
  if (mig) {  // MIG devices: no links between them; take them in order
    for (const auto* d : candidates) {
      if (chosen.size() == size) break;
      chosen.push_back(d);
    }
    return Ids(chosen);
  }
  return BestGpuSet(links, chosen, candidates, size);
}

}  // namespace gpufleet::agent
