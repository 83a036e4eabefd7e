// FieldReader and FieldWriter: the two halves every typed view (pod.h, node.h, ...) is written
// with. A view is a plain struct mirroring the API fields it models; it decodes with
//   Status Decode(const nlohmann::json& j, const core::JsonPath& path, View& out);
// and encodes with
//   nlohmann::json Encode(const View& v);
// found by argument-dependent lookup, so FieldReader::Obj/List and FieldWriter::Obj/List work
// for any view or nested struct that has the pair.
//
// Decoding follows Go's encoding/json as the API server's clients see it: unknown fields are
// ignored, absent and null fields leave the default, a wrong JSON type is an error naming the
// full field path ("spec.containers[0].resources.requests[cpu]: ..."). The first error wins;
// later reads are skipped. Encoding follows `omitempty`: empty strings, maps, lists and unset
// optionals are left out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/interned_string.h"
#include "core/json.h"
#include "core/labels.h"
#include "core/resource_list.h"
#include "core/status.h"

namespace gpufleet::kube {

// intstr.IntOrString: PodDisruptionBudget's minAvailable ("50%" or 2), ports by name or number.
struct IntOrString {
  bool is_string = false;
  int64_t int_value = 0;
  std::string string_value;

  friend bool operator==(const IntOrString&, const IntOrString&) = default;
};

class FieldReader {
 public:
  // `obj` must be a JSON object, or null (every field reads as absent).
  FieldReader(const nlohmann::json& obj, core::JsonPath path);

  const Status& status() const { return status_; }
  const core::JsonPath& path() const { return path_; }

  FieldReader& Str(std::string_view key, std::string& out);
  FieldReader& Str(std::string_view key, std::optional<std::string>& out);
  FieldReader& Str(std::string_view key, core::InternedString& out);
  FieldReader& Str(std::string_view key, std::optional<core::InternedString>& out);
  FieldReader& Int(std::string_view key, int64_t& out);
  FieldReader& Int(std::string_view key, std::optional<int64_t>& out);
  FieldReader& Int32(std::string_view key, int32_t& out);
  FieldReader& Int32(std::string_view key, std::optional<int32_t>& out);
  FieldReader& Bool(std::string_view key, bool& out);
  FieldReader& Bool(std::string_view key, std::optional<bool>& out);
  FieldReader& StrMap(std::string_view key, core::Labels& out);
  FieldReader& StrList(std::string_view key, std::vector<std::string>& out);
  FieldReader& StrList(std::string_view key, std::vector<core::InternedString>& out);
  FieldReader& Resources(std::string_view key, core::ResourceList& out);
  FieldReader& IntOrStr(std::string_view key, std::optional<IntOrString>& out);
  // Any JSON number, integral or not (the rare float64 field).
  FieldReader& Number(std::string_view key, std::optional<double>& out);
  // Any JSON value kept as is (open maps such as EC2NodeClass.spec.kubelet); absent is null.
  FieldReader& Raw(std::string_view key, nlohmann::json& out);

  template <typename T>
  FieldReader& Obj(std::string_view key, T& out) {
    if (const nlohmann::json* v = Field(key, nlohmann::json::value_t::object)) {
      Fail(Decode(*v, path_.Field(key), out));
    }
    return *this;
  }
  template <typename T>
  FieldReader& Obj(std::string_view key, std::optional<T>& out) {
    if (const nlohmann::json* v = Field(key, nlohmann::json::value_t::object)) {
      out.emplace();
      Fail(Decode(*v, path_.Field(key), *out));
    }
    return *this;
  }
  template <typename T>
  FieldReader& List(std::string_view key, std::vector<T>& out) {
    const nlohmann::json* v = Field(key, nlohmann::json::value_t::array);
    if (v == nullptr) return *this;
    out.clear();
    out.reserve(v->size());
    core::JsonPath list_path = path_.Field(key);
    for (std::size_t i = 0; i < v->size() && status_.ok(); ++i) {
      out.emplace_back();
      Fail(Decode((*v)[i], list_path.Index(i), out.back()));
    }
    return *this;
  }

  // The value under `key` if present, not null and of `type`; nullptr when absent or null, or
  // after recording a type error.
  const nlohmann::json* Field(std::string_view key, nlohmann::json::value_t type);
  void Fail(Status s) {
    if (status_.ok() && !s.ok()) status_ = std::move(s);
  }

 private:
  // The string under `key` (absent or null: nullptr).
  const std::string* StrField(std::string_view key);
  template <typename S>
  FieldReader& StrListOf(std::string_view key, std::vector<S>& out);

  const nlohmann::json* obj_;
  core::JsonPath path_;
  Status status_;
};

// Builds one JSON object, leaving empty values out.
class FieldWriter {
 public:
  FieldWriter& Str(std::string_view key, const std::string& v);
  FieldWriter& Str(std::string_view key, const std::optional<std::string>& v);
  FieldWriter& Str(std::string_view key, const core::InternedString& v);
  FieldWriter& Str(std::string_view key, const std::optional<core::InternedString>& v);
  // Zero is left out, as `int64 json:",omitempty"` does.
  FieldWriter& Int(std::string_view key, int64_t v);
  FieldWriter& Int(std::string_view key, const std::optional<int64_t>& v);
  FieldWriter& Int(std::string_view key, const std::optional<int32_t>& v);
  FieldWriter& Bool(std::string_view key, bool v);  // false is left out
  FieldWriter& Bool(std::string_view key, const std::optional<bool>& v);
  FieldWriter& StrMap(std::string_view key, const core::Labels& v);
  FieldWriter& StrList(std::string_view key, const std::vector<std::string>& v);
  FieldWriter& StrList(std::string_view key, const std::vector<core::InternedString>& v);
  FieldWriter& Resources(std::string_view key, const core::ResourceList& v);
  FieldWriter& IntOrStr(std::string_view key, const std::optional<IntOrString>& v);
  FieldWriter& Number(std::string_view key, const std::optional<double>& v);
  FieldWriter& Raw(std::string_view key, const nlohmann::json& v);  // null is left out
  // Always written, even when zero or empty (fields without omitempty).
  FieldWriter& Always(std::string_view key, nlohmann::json v);

  template <typename T>
  FieldWriter& Obj(std::string_view key, const T& v) {
    nlohmann::json j = Encode(v);
    if (!j.empty()) obj_[std::string(key)] = std::move(j);
    return *this;
  }
  template <typename T>
  FieldWriter& Obj(std::string_view key, const std::optional<T>& v) {
    if (v) obj_[std::string(key)] = Encode(*v);  // a set optional is written even when empty
    return *this;
  }
  template <typename T>
  FieldWriter& List(std::string_view key, const std::vector<T>& v) {
    if (v.empty()) return *this;
    nlohmann::json list = nlohmann::json::array();
    for (const T& item : v) list.push_back(Encode(item));
    obj_[std::string(key)] = std::move(list);
    return *this;
  }

  // A list written even when empty (a required field without omitempty).
  template <typename T>
  FieldWriter& RequiredList(std::string_view key, const std::vector<T>& v) {
    nlohmann::json list = nlohmann::json::array();
    for (const T& item : v) list.push_back(Encode(item));
    obj_[std::string(key)] = std::move(list);
    return *this;
  }

  nlohmann::json Take() { return std::move(obj_); }

 private:
  nlohmann::json obj_ = nlohmann::json::object();
};

// Decode/Encode for IntOrString on its own (as a list element).
Status DecodeIntOrString(const nlohmann::json& j, const core::JsonPath& path, IntOrString& out);
nlohmann::json Encode(const IntOrString& v);

}  // namespace gpufleet::kube
