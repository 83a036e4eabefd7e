// YAML 1.1 plain-scalar typing as go-yaml v2 does it (internal to core/yaml.cc and yaml_emit.cc).
//
// kubectl and the API server read YAML with sigs.k8s.io/yaml, which decodes with go-yaml v2
// (resolve.go) into interface{} and marshals the result with encoding/json. These functions
// reproduce that typing so that a manifest means the same thing here as it does to kubectl.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gpufleet::core::yaml_internal {

struct PlainScalar {
  enum class Kind { kNull, kBool, kInt, kUint, kFloat, kBigInt, kString };
  Kind kind = Kind::kString;
  bool bool_value = false;
  int64_t int_value = 0;    // kInt
  uint64_t uint_value = 0;  // kUint: above INT64_MAX only
  double float_value = 0;   // kFloat (may be infinite or NaN); kBigInt: the nearest double
};

// Types an untagged plain scalar, in go-yaml v2's order:
//   null   "", ~, null, Null, NULL
//   bool   y Y yes Yes YES true True TRUE on On ON / n N no No NO false False FALSE off Off OFF
//   float  .inf .Inf .INF +.inf ... -.inf ... .nan .NaN .NAN
//   int    after removing every '_': Go strconv.ParseInt(s, 0, 64): optional sign, 0x/0X hex,
//          0o/0O or a leading 0 octal ("010" is 8), 0b/0B binary, else decimal
//   uint   the same syntax up to 2^64-1
//   float  [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? that does not overflow a double
//          ("08" is the float 8, "1e400" a string); a leading '.' takes Go ParseFloat syntax
//   bigint 0x/0o/0b/leading-0 digits beyond 64 bits (sigs.k8s.io/yaml emits them as a number)
//   string everything else, including timestamps (v2 keeps them as strings for interface{}).
// Only values whose first character is a sign, digit, '.', '~' or one of yYnNtTfFoO can be
// anything but a string.
PlainScalar ResolvePlain(std::string_view text);

// Formats a float map key as sigs.k8s.io/yaml does: Go strconv.FormatFloat(v, 'g', -1, 32), i.e.
// the shortest float32 digits ("1e+36", "0.1", "1"), with .inf, -.inf and .nan for the
// non-finite values.
std::string FormatFloatKey(double value);

}  // namespace gpufleet::core::yaml_internal
