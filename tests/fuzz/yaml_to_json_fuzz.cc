// Fuzzes YamlToJson. For every document that converts, JsonToYaml must produce YAML that
// converts back to the same JSON; anything else is a bug and traps.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using gpufleet::core::YamlToJson;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // Small limits keep each input fast while still reaching the limit checks.
  gpufleet::core::YamlOptions options{.max_nodes = 100'000, .max_depth = 64};
  auto documents = YamlToJson(text, options);
  if (!documents.ok()) return 0;
  for (const auto& document : *documents) {
    std::string yaml = gpufleet::core::JsonToYaml(document);
    auto again = YamlToJson(yaml, options);
    if (!again.ok() || again->size() != 1 || (*again)[0] != document) __builtin_trap();
    // The JSON text must parse back as well.
    auto reparsed = gpufleet::core::ParseJson(gpufleet::core::DumpJson(document));
    if (!reparsed.ok()) __builtin_trap();
  }
  return 0;
}
