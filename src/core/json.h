// JSON helpers: exception-free parsing and dumping, and typed field accessors for API objects.
//
// Every function here is thread-compatible (no shared state) and never throws: nlohmann-json
// exceptions are caught inside and returned as a Status. Field paths use the notation Kubernetes
// uses in its error messages (k8s.io/apimachinery field.Path): "spec.containers[0].resources",
// with "[key]" for map keys that contain dots, e.g. "metadata.labels[app.kubernetes.io/name]".
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gpufleet::core {

// Nesting levels (objects plus arrays) ParseJson accepts by default.
inline constexpr int kMaxJsonDepth = 512;

// Parses exactly one JSON value; surrounding whitespace is allowed, anything else is not.
// Errors: kInvalidArgument naming the byte offset for a syntax error, trailing garbage, invalid
// UTF-8 or a number too large for a double; kOutOfRange (with the byte offset) when the value
// nests deeper than max_depth. Duplicate object keys are accepted and the last one wins.
Result<nlohmann::json> ParseJson(std::string_view text, int max_depth = kMaxJsonDepth);

// Compact JSON (no whitespace, keys sorted). Never fails: invalid UTF-8 in strings is replaced
// by U+FFFD, and NaN or infinite numbers (which JSON cannot carry) are written as null.
std::string DumpJson(const nlohmann::json& value);

// Builds field paths for error messages and for the accessors below. A value type; cheap to copy.
class JsonPath {
 public:
  JsonPath() = default;  // The root; str() is "".
  explicit JsonPath(std::string_view path) : path_(path) {}

  // "spec" -> "spec.name"; at the root just "name".
  JsonPath Field(std::string_view name) const;
  // "spec.containers" -> "spec.containers[2]".
  JsonPath Index(std::size_t index) const;
  // "metadata.labels" -> "metadata.labels[app.kubernetes.io/name]": a map key that may hold dots.
  JsonPath Key(std::string_view key) const;

  const std::string& str() const { return path_; }
  bool empty() const { return path_.empty(); }
  friend bool operator==(const JsonPath& a, const JsonPath& b) = default;

 private:
  std::string path_;
};

std::ostream& operator<<(std::ostream& os, const JsonPath& path);

// The value at field_path inside obj ("" is obj itself), or nullptr when a field along the path
// is absent, null, or an index is past the end of its array. The pointer refers into obj and is
// valid while obj is neither modified nor destroyed.
// Errors: kInvalidArgument when a step meets the wrong type ("spec.template: expected object, got
// array") or field_path is malformed.
Result<const nlohmann::json*> FindField(const nlohmann::json& obj, std::string_view field_path);

// Required fields. Errors (all naming the full path): kInvalidArgument when the field is absent
// or null ("spec.replicas: required field is missing") or has the wrong JSON type
// ("spec.nodeSelector: expected object, got string"); GetInt64 also rejects non-integral and
// floating-point numbers (as Go's encoding/json does) and returns kOutOfRange for integers that
// do not fit in int64. GetObject/GetArray return a pointer into obj (see FindField).
Result<std::string> GetString(const nlohmann::json& obj, std::string_view field_path);
Result<int64_t> GetInt64(const nlohmann::json& obj, std::string_view field_path);
Result<bool> GetBool(const nlohmann::json& obj, std::string_view field_path);
Result<const nlohmann::json*> GetObject(const nlohmann::json& obj, std::string_view field_path);
Result<const nlohmann::json*> GetArray(const nlohmann::json& obj, std::string_view field_path);

// Optional fields: absent or null gives std::nullopt (nullptr for objects and arrays); a present
// value of the wrong type is an error exactly as for the required variants.
Result<std::optional<std::string>> GetOptionalString(const nlohmann::json& obj,
                                                     std::string_view field_path);
Result<std::optional<int64_t>> GetOptionalInt64(const nlohmann::json& obj,
                                                std::string_view field_path);
Result<std::optional<bool>> GetOptionalBool(const nlohmann::json& obj, std::string_view field_path);
Result<const nlohmann::json*> GetOptionalObject(const nlohmann::json& obj,
                                                std::string_view field_path);
Result<const nlohmann::json*> GetOptionalArray(const nlohmann::json& obj,
                                               std::string_view field_path);

}  // namespace gpufleet::core
