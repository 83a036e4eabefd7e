// YAML <-> JSON conversion with the typing kubectl and the Kubernetes API server use.
//
// kubectl and the API server read YAML with sigs.k8s.io/yaml (go-yaml v2, YAML 1.1 resolution)
// and then work on JSON. YamlToJson gives the value nlohmann-json would parse from the JSON that
// sigs.k8s.io/yaml.YAMLToJSON produces for the same document:
//   - Plain scalars: null (~, null, Null, NULL, empty), the YAML 1.1 booleans (yes/no/on/off/y/n in
//     three casings, so `country: NO` is false), integers (0x hex, 0o and leading-0 octal, 0b, '_'
//     ignored), uint64, floats (1.10 is 1.1, 1e3 is 1000), else string. Timestamps stay strings.
//     The exact rules are listed in core/yaml_scalar.h.
//   - Quoted, literal (|) and folded (>) scalars are strings; "!" and unknown tags give strings;
//     !!str !!int !!float !!bool !!null are honoured (a value that does not fit is an error).
//   - Floats with an integral value below 2^53 become JSON integers (Go prints 1e3 as 1000);
//     .inf and .nan are errors as values, since JSON cannot carry them.
//   - Map keys are strings; int, bool and float keys are formatted as Go does ("1", "true",
//     "1e+36"); null keys, keys beyond int64 and mapping or sequence keys are errors.
//   - Anchors and aliases are expanded; merge keys (<<: *base, <<: [*a, *b]) copy keys that the
//     mapping does not set itself (explicit keys win wherever they appear, earlier list entries
//     win over later ones, a later << over an earlier one).
// Errors name the document (1-based, counting skipped ones) and line:column (1-based).
// All functions are thread-compatible and never throw (yaml-cpp exceptions are caught inside).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gpufleet::core {

struct YamlOptions {
  // go-yaml v2 lets the last duplicate key win; kubectl's default strict validation rejects them.
  bool allow_duplicate_keys = false;
  // JSON values produced per call, counting every alias expansion: stops "billion laughs".
  std::size_t max_nodes = 1'000'000;
  // Nesting of mappings and sequences, counting alias expansion. Clamped to 1000.
  int max_depth = 256;
};

// Converts every document of a YAML stream (documents separated by ---). Documents that are empty,
// only comments, or null are skipped, as kubectl skips them; a stream with no documents gives an
// empty vector. JSON text is YAML, so JSON input works too.
// Errors: kInvalidArgument for syntax errors, unknown aliases, recursive aliases, duplicate keys
// ('document 1, line 7:3: duplicate key "name" (first at line 4:3)'), unsupported keys, bad merge
// values, tagged values that do not fit their tag, !!binary, and .inf/.nan values;
// kOutOfRange when options.max_nodes or options.max_depth is exceeded.
Result<std::vector<nlohmann::json>> YamlToJson(std::string_view text,
                                               const YamlOptions& options = {});

// As YamlToJson, for input that must hold exactly one (non-empty, non-null) document.
// Errors: those of YamlToJson, and kInvalidArgument when there are zero or several documents.
Result<nlohmann::json> YamlToJsonSingle(std::string_view text, const YamlOptions& options = {});

// Block-style YAML for one document, as `kubectl get -o yaml` prints it: keys sorted, sequences
// not indented below their key, multi-line strings as literal blocks (|, |-, |+), and strings
// that would read back as another type ("yes", "1", "null", "", "a: b") double-quoted.
// Guarantee: YamlToJsonSingle(JsonToYaml(v)) == v for every v that YamlToJsonSingle can produce
// (so not null at the top level, not NaN or infinite numbers, which are written as null, and
// nesting within YamlOptions::max_depth). Ends with a newline; has no "---" line.
std::string JsonToYaml(const nlohmann::json& value);

}  // namespace gpufleet::core
