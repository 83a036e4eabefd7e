// Fuzz target for mock machine descriptions (JSON): must not crash; an accepted machine has GPUs
// and MIG layouts that fit (at most 7 slices per GPU); a refused one says why.
#include <cstddef>
#include <cstdint>
#include <string>

#include "gpu/mock_backend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const gpufleet::gpu::GpuCatalog catalog = [] {
    auto c = gpufleet::gpu::LoadGpuCatalog(std::string(GPUFLEET_DATA_DIR) + "/gpu-models.json");
    if (!c.ok()) __builtin_trap();
    return *c;
  }();
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto spec = gpufleet::gpu::ParseMockMachine(catalog, text);
  if (spec.ok()) {
    if (spec->gpus.empty()) __builtin_trap();
    gpufleet::gpu::MockGpuBackend backend(*spec, "fuzz");
    for (unsigned i = 0; i < spec->gpus.size(); ++i) {
      if (!backend.Device(i).ok()) __builtin_trap();
    }
  } else if (spec.status().message().empty()) {
    __builtin_trap();
  }
  return 0;
}
