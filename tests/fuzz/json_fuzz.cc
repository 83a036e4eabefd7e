// Fuzzes ParseJson: every value it accepts must survive DumpJson -> ParseJson unchanged, and
// JsonToYaml -> YamlToJson unchanged unless the YAML side hits one of its limits. Also runs the
// field accessors over the value.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/yaml.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace core = gpufleet::core;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto value = core::ParseJson(text, /*max_depth=*/64);
  if (!value.ok()) return 0;
  auto again = core::ParseJson(core::DumpJson(*value), 64);
  if (!again.ok() || *again != *value) __builtin_trap();

  if (!value->is_null()) {
    auto yaml = core::YamlToJson(core::JsonToYaml(*value));
    if (!yaml.ok() || yaml->size() != 1 || (*yaml)[0] != *value) __builtin_trap();
  }

  for (std::string_view path : {"metadata.name", "spec.containers[0].name", "[0]", "a[1][2].b",
                                "metadata.labels[app.kubernetes.io/name]"}) {
    (void)core::FindField(*value, path);
    (void)core::GetString(*value, path);
    (void)core::GetInt64(*value, path);
    (void)core::GetOptionalBool(*value, path);
    (void)core::GetOptionalObject(*value, path);
  }
  return 0;
}
