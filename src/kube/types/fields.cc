#include "kube/types/fields.h"

#include <limits>

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;

std::string Where(const core::JsonPath& path) { return path.empty() ? "<root>" : path.str(); }

Status WrongType(const core::JsonPath& path, std::string_view want, const json& got) {
  return InvalidArgumentError(Where(path) + ": expected " + std::string(want) + ", got " +
                              (got.is_number_float() ? "number " + got.dump() : got.type_name()));
}

const char* TypeWord(json::value_t type) {
  switch (type) {
    case json::value_t::object: return "object";
    case json::value_t::array: return "array";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "boolean";
    default: return "integer";
  }
}

bool HasType(const json& v, json::value_t type) {
  if (type == json::value_t::number_integer) return v.is_number_integer();
  return v.type() == type;
}

}  // namespace

FieldReader::FieldReader(const json& obj, core::JsonPath path) : obj_(&obj), path_(std::move(path)) {
  if (!obj.is_object() && !obj.is_null()) status_ = WrongType(path_, "object", obj);
}

const json* FieldReader::Field(std::string_view key, json::value_t type) {
  if (!status_.ok() || !obj_->is_object()) return nullptr;
  auto it = obj_->find(key);
  if (it == obj_->end() || it->is_null()) return nullptr;
  if (!HasType(*it, type)) {
    status_ = WrongType(path_.Field(key), TypeWord(type), *it);
    return nullptr;
  }
  return &*it;
}

const std::string* FieldReader::StrField(std::string_view key) {
  const json* v = Field(key, json::value_t::string);
  return v == nullptr ? nullptr : &v->get_ref<const std::string&>();
}

FieldReader& FieldReader::Str(std::string_view key, std::string& out) {
  if (const std::string* v = StrField(key)) out = *v;
  return *this;
}

FieldReader& FieldReader::Str(std::string_view key, std::optional<std::string>& out) {
  if (const std::string* v = StrField(key)) out = *v;
  return *this;
}

FieldReader& FieldReader::Str(std::string_view key, core::InternedString& out) {
  if (const std::string* v = StrField(key)) out = *v;
  return *this;
}

FieldReader& FieldReader::Str(std::string_view key, std::optional<core::InternedString>& out) {
  if (const std::string* v = StrField(key)) out = *v;
  return *this;
}

FieldReader& FieldReader::Int(std::string_view key, int64_t& out) {
  std::optional<int64_t> value;
  Int(key, value);
  if (value) out = *value;
  return *this;
}

FieldReader& FieldReader::Int(std::string_view key, std::optional<int64_t>& out) {
  const json* v = Field(key, json::value_t::number_integer);
  if (v == nullptr) return *this;
  if (v->is_number_unsigned() &&
      v->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    Fail(OutOfRangeError(path_.Field(key).str() + ": " + v->dump() + " does not fit in int64"));
    return *this;
  }
  out = v->get<int64_t>();
  return *this;
}

FieldReader& FieldReader::Int32(std::string_view key, int32_t& out) {
  std::optional<int32_t> value;
  Int32(key, value);
  if (value) out = *value;
  return *this;
}

FieldReader& FieldReader::Int32(std::string_view key, std::optional<int32_t>& out) {
  std::optional<int64_t> value;
  Int(key, value);
  if (!value) return *this;
  if (*value < std::numeric_limits<int32_t>::min() || *value > std::numeric_limits<int32_t>::max()) {
    Fail(OutOfRangeError(path_.Field(key).str() + ": " + std::to_string(*value) +
                         " does not fit in int32"));
    return *this;
  }
  out = static_cast<int32_t>(*value);
  return *this;
}

FieldReader& FieldReader::Bool(std::string_view key, bool& out) {
  if (const json* v = Field(key, json::value_t::boolean)) out = v->get<bool>();
  return *this;
}

FieldReader& FieldReader::Bool(std::string_view key, std::optional<bool>& out) {
  if (const json* v = Field(key, json::value_t::boolean)) out = v->get<bool>();
  return *this;
}

FieldReader& FieldReader::StrMap(std::string_view key, core::Labels& out) {
  const json* v = Field(key, json::value_t::object);
  if (v == nullptr) return *this;
  out.clear();
  for (const auto& [k, value] : v->items()) {
    if (value.is_null()) {
      out.emplace(k, "");
    } else if (!value.is_string()) {
      Fail(WrongType(path_.Field(key).Key(k), "string", value));
      return *this;
    } else {
      out.emplace(k, value.get_ref<const std::string&>());
    }
  }
  return *this;
}

template <typename S>
FieldReader& FieldReader::StrListOf(std::string_view key, std::vector<S>& out) {
  const json* v = Field(key, json::value_t::array);
  if (v == nullptr) return *this;
  out.clear();
  out.reserve(v->size());
  for (std::size_t i = 0; i < v->size(); ++i) {
    const json& item = (*v)[i];
    if (!item.is_string()) {
      Fail(WrongType(path_.Field(key).Index(i), "string", item));
      return *this;
    }
    out.emplace_back(item.get_ref<const std::string&>());
  }
  return *this;
}

FieldReader& FieldReader::StrList(std::string_view key, std::vector<std::string>& out) {
  return StrListOf(key, out);
}

FieldReader& FieldReader::StrList(std::string_view key, std::vector<core::InternedString>& out) {
  return StrListOf(key, out);
}

FieldReader& FieldReader::Resources(std::string_view key, core::ResourceList& out) {
  const json* v = Field(key, json::value_t::object);
  if (v == nullptr) return *this;
  Result<core::ResourceList> list = core::ResourceList::FromJsonValue(*v);
  if (!list.ok()) {
    Fail(Status(list.status().code(), path_.Field(key).str() + ": " + std::string(list.status().message())));
    return *this;
  }
  out = std::move(list).value();
  return *this;
}

FieldReader& FieldReader::IntOrStr(std::string_view key, std::optional<IntOrString>& out) {
  if (!status_.ok() || !obj_->is_object()) return *this;
  auto it = obj_->find(key);
  if (it == obj_->end() || it->is_null()) return *this;
  out.emplace();
  Fail(DecodeIntOrString(*it, path_.Field(key), *out));
  return *this;
}

FieldReader& FieldReader::Number(std::string_view key, std::optional<double>& out) {
  if (!status_.ok() || !obj_->is_object()) return *this;
  auto it = obj_->find(key);
  if (it == obj_->end() || it->is_null()) return *this;
  if (!it->is_number()) {
    Fail(WrongType(path_.Field(key), "number", *it));
    return *this;
  }
  out = it->get<double>();
  return *this;
}

FieldReader& FieldReader::Raw(std::string_view key, json& out) {
  if (!status_.ok() || !obj_->is_object()) return *this;
  auto it = obj_->find(key);
  if (it != obj_->end()) out = *it;
  return *this;
}

Status DecodeIntOrString(const json& j, const core::JsonPath& path, IntOrString& out) {
  if (j.is_string()) {
    out = IntOrString{.is_string = true, .string_value = j.get<std::string>()};
    return OkStatus();
  }
  if (j.is_number_integer() && !(j.is_number_unsigned() && j.get<uint64_t>() > INT32_MAX) &&
      j.get<int64_t>() >= INT32_MIN && j.get<int64_t>() <= INT32_MAX) {
    out = IntOrString{.is_string = false, .int_value = j.get<int64_t>()};
    return OkStatus();
  }
  return WrongType(path, "int32 or string", j);
}

json Encode(const IntOrString& v) {
  if (v.is_string) return v.string_value;
  return v.int_value;
}

FieldWriter& FieldWriter::Str(std::string_view key, const std::string& v) {
  if (!v.empty()) obj_[std::string(key)] = v;
  return *this;
}

FieldWriter& FieldWriter::Str(std::string_view key, const std::optional<std::string>& v) {
  if (v) obj_[std::string(key)] = *v;
  return *this;
}

FieldWriter& FieldWriter::Str(std::string_view key, const core::InternedString& v) {
  if (!v.empty()) obj_[std::string(key)] = v;
  return *this;
}

FieldWriter& FieldWriter::Str(std::string_view key, const std::optional<core::InternedString>& v) {
  if (v) obj_[std::string(key)] = *v;
  return *this;
}

FieldWriter& FieldWriter::Int(std::string_view key, int64_t v) {
  if (v != 0) obj_[std::string(key)] = v;
  return *this;
}

FieldWriter& FieldWriter::Int(std::string_view key, const std::optional<int64_t>& v) {
  if (v) obj_[std::string(key)] = *v;
  return *this;
}

FieldWriter& FieldWriter::Int(std::string_view key, const std::optional<int32_t>& v) {
  if (v) obj_[std::string(key)] = *v;
  return *this;
}

FieldWriter& FieldWriter::Bool(std::string_view key, bool v) {
  if (v) obj_[std::string(key)] = true;
  return *this;
}

FieldWriter& FieldWriter::Bool(std::string_view key, const std::optional<bool>& v) {
  if (v) obj_[std::string(key)] = *v;
  return *this;
}

FieldWriter& FieldWriter::StrMap(std::string_view key, const core::Labels& v) {
  if (v.empty()) return *this;
  json m = json::object();
  for (const auto& [k, value] : v) m[k] = value;
  obj_[std::string(key)] = std::move(m);
  return *this;
}

FieldWriter& FieldWriter::StrList(std::string_view key, const std::vector<std::string>& v) {
  if (!v.empty()) obj_[std::string(key)] = v;
  return *this;
}

FieldWriter& FieldWriter::StrList(std::string_view key, const std::vector<core::InternedString>& v) {
  if (v.empty()) return *this;
  json list = json::array();
  for (const auto& item : v) list.push_back(item);
  obj_[std::string(key)] = std::move(list);
  return *this;
}

FieldWriter& FieldWriter::Resources(std::string_view key, const core::ResourceList& v) {
  if (v.empty()) return *this;
  json m = json::object();
  for (const auto& [name, q] : v) m[name] = q.String();
  obj_[std::string(key)] = std::move(m);
  return *this;
}

FieldWriter& FieldWriter::IntOrStr(std::string_view key, const std::optional<IntOrString>& v) {
  if (v) obj_[std::string(key)] = Encode(*v);
  return *this;
}

FieldWriter& FieldWriter::Number(std::string_view key, const std::optional<double>& v) {
  if (v) obj_[std::string(key)] = *v;
  return *this;
}

FieldWriter& FieldWriter::Raw(std::string_view key, const json& v) {
  if (!v.is_null()) obj_[std::string(key)] = v;
  return *this;
}

FieldWriter& FieldWriter::Always(std::string_view key, json v) {
  obj_[std::string(key)] = std::move(v);
  return *this;
}

}  // namespace gpufleet::kube
