// Fuzz target for the agent's config file parser (NVIDIA's device plugin config, v1, YAML from a
// ConfigMap). Must not crash; an accepted config must pass Validate, a refused one must say why.
#include <cstddef>
#include <cstdint>
#include <string>

#include "agent/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = gpufleet::agent::ParseConfig(text);
  if (config.ok()) {
    if (!gpufleet::agent::Validate(*config).ok()) __builtin_trap();
    for (const auto& r : config->replicated) {
      if (r.replicas < 1) __builtin_trap();
    }
  } else if (config.status().message().empty()) {
    __builtin_trap();
  }
  return 0;
}
