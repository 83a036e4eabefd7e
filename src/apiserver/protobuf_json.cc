#include "apiserver/protobuf_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/kubeconfig_writer.h"  // Base64Encode
#include "core/json.h"
#include "core/time_format.h"
#include "k8s/intstr.pb.h"
#include "k8s/json_options.pb.h"
#include "k8s/meta_v1.pb.h"
#include "k8s/resource.pb.h"

namespace gpufleet::apiserver {
namespace {

namespace pb = google::protobuf;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using json = nlohmann::json;
using Field = pb::FieldDescriptor;

// Nesting the FieldsV1 JSON may have (managed-field sets are shallow; this bounds the parser).
constexpr int kMaxFieldsV1Depth = 64;

}  // namespace

// No overlong forms, surrogates or code points above U+10FFFF.
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    i += len;
  }
  return true;
}

namespace {

std::string Where(const Field* f) { return f->containing_type()->full_name() + "." + f->name(); }

Result<json> Text(const std::string& s, const Field* f) {
  if (!IsValidUtf8(s)) {
    return InvalidArgumentError("protobuf body: " + Where(f) + " is not valid UTF-8");
  }
  return json(s);
}

// Seconds a TimePoint (nanoseconds in int64) can hold: years 1678 to 2262.
constexpr int64_t kMaxTimeSeconds = std::numeric_limits<int64_t>::max() / 1'000'000'000 - 1;

Result<json> TimeJson(int64_t seconds, int32_t nanos, bool micro, const std::string& type) {
  if (nanos < 0 || nanos > 999'999'999 || seconds > kMaxTimeSeconds || seconds < -kMaxTimeSeconds) {
    return InvalidArgumentError("protobuf body: " + type + " {seconds: " + std::to_string(seconds) +
                                ", nanos: " + std::to_string(nanos) + "} is out of range");
  }
  core::TimePoint t(std::chrono::duration_cast<core::TimePoint::duration>(
      std::chrono::seconds(seconds) + std::chrono::nanoseconds(nanos)));
  return json(micro ? core::FormatRfc3339Micro(t) : core::FormatRfc3339(t));
}

// The types whose JSON is not an object of their fields; nullopt for every other message.
std::optional<Result<json>> SpecialJson(const pb::Message& m) {
  if (const auto* t = pb::DynamicCastToGenerated<metav1::Time>(&m)) {
    if (!t->has_seconds() && !t->has_nanos()) return json(nullptr);  // Go's zero time
    return TimeJson(t->seconds(), t->nanos(), false, t->GetTypeName());
  }
  if (const auto* t = pb::DynamicCastToGenerated<metav1::MicroTime>(&m)) {
    if (!t->has_seconds() && !t->has_nanos()) return json(nullptr);
    return TimeJson(t->seconds(), t->nanos(), true, t->GetTypeName());
  }
  if (const auto* q =
          pb::DynamicCastToGenerated<::k8s::io::apimachinery::pkg::api::resource::Quantity>(&m)) {
    if (!q->has_string()) return json("0");  // Go's zero Quantity
    return Text(q->string(), q->GetDescriptor()->FindFieldByNumber(1));
  }
  if (const auto* v =
          pb::DynamicCastToGenerated<::k8s::io::apimachinery::pkg::util::intstr::IntOrString>(&m)) {
    if (v->type() == 0) return json(v->intval());
    if (v->type() == 1) return Text(v->strval(), v->GetDescriptor()->FindFieldByNumber(3));
    return InvalidArgumentError("protobuf body: IntOrString type " + std::to_string(v->type()) +
                                " is neither 0 (int) nor 1 (string)");
  }
  if (const auto* f = pb::DynamicCastToGenerated<metav1::FieldsV1>(&m)) {
    if (!f->has_raw()) return json(nullptr);
    auto parsed = core::ParseJson(f->raw(), kMaxFieldsV1Depth);
    if (!parsed.ok()) {
      // The parser's message may quote the input, which need not be UTF-8.
      std::string why(parsed.status().message());
      return InvalidArgumentError("protobuf body: FieldsV1 is not JSON" +
                                  (IsValidUtf8(why) ? ": " + why : std::string()));
    }
    return std::move(*parsed);
  }
  return std::nullopt;
}

Result<json> MessageJson(const pb::Message& m);

// One value of a non-message field: the singular value (index < 0) or element `index`.
Result<json> ScalarJson(const pb::Message& m, const Field* f, int index) {
  const pb::Reflection* r = m.GetReflection();
  bool rep = index >= 0;
  switch (f->cpp_type()) {
    case Field::CPPTYPE_INT32:
      return json(rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
    case Field::CPPTYPE_INT64:
      return json(rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f));
    case Field::CPPTYPE_UINT32:
      return json(rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
    case Field::CPPTYPE_UINT64:
      return json(rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f));
    case Field::CPPTYPE_BOOL:
      return json(rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f));
    case Field::CPPTYPE_STRING: {
      std::string s = rep ? r->GetRepeatedString(m, f, index) : r->GetString(m, f);
      if (f->type() == Field::TYPE_BYTES) return json(Base64Encode(s));
      return Text(s, f);
    }
    case Field::CPPTYPE_MESSAGE:
      return MessageJson(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f));
    default:  // Kubernetes messages have no floats or enums.
      return UnimplementedError("protobuf body: " + Where(f) +
                                " has a type this server does not decode");
  }
}

bool IsZero(const json& v) {
  return (v.is_string() && v.get_ref<const std::string&>().empty()) ||
         (v.is_boolean() && !v.get<bool>()) || (v.is_number_integer() && v.get<int64_t>() == 0) ||
         (v.is_number_unsigned() && v.get<uint64_t>() == 0);
}

Result<json> MapJson(const pb::Message& m, const Field* f) {
  const pb::Reflection* r = m.GetReflection();
  const Field* key_field = f->message_type()->map_key();
  const Field* value_field = f->message_type()->map_value();
  if (key_field->cpp_type() != Field::CPPTYPE_STRING) {
    return UnimplementedError("protobuf body: " + Where(f) + " has non-string keys");
  }
  json out = json::object();
  for (int i = 0; i < r->FieldSize(m, f); ++i) {
    const pb::Message& entry = r->GetRepeatedMessage(m, f, i);
    GF_ASSIGN_OR_RETURN(json key, ScalarJson(entry, key_field, -1));
    GF_ASSIGN_OR_RETURN(json value, ScalarJson(entry, value_field, -1));
    out[key.get<std::string>()] = std::move(value);
  }
  return out;
}

Result<json> MessageJson(const pb::Message& m) {
  GF_RETURN_IF_ERROR(CheckNoUnknownFields(m));
  if (auto special = SpecialJson(m)) return std::move(*special);
  const pb::Reflection* r = m.GetReflection();
  std::vector<const Field*> fields;
  r->ListFields(m, &fields);
  json out = json::object();
  for (const Field* f : fields) {
    if (f->is_map()) {
      GF_ASSIGN_OR_RETURN(out[f->name()], MapJson(m, f));
    } else if (f->is_repeated()) {
      json items = json::array();
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        GF_ASSIGN_OR_RETURN(json item, ScalarJson(m, f, i));
        items.push_back(std::move(item));
      }
      out[f->name()] = std::move(items);
    } else {
      GF_ASSIGN_OR_RETURN(json value, ScalarJson(m, f, -1));
      if (f->cpp_type() != Field::CPPTYPE_MESSAGE && IsZero(value) &&
          !f->options().GetExtension(gpufleet::protojson::keep_zero)) {
        continue;  // Go's omitempty
      }
      out[f->name()] = std::move(value);
    }
  }
  return out;
}

}  // namespace

Status CheckNoUnknownFields(const pb::Message& message) {
  const pb::UnknownFieldSet& unknown = message.GetReflection()->GetUnknownFields(message);
  if (unknown.empty()) return OkStatus();
  std::set<int> numbers;
  for (int i = 0; i < unknown.field_count(); ++i) numbers.insert(unknown.field(i).number());
  std::string list;
  for (int n : numbers) list += (list.empty() ? "" : ", ") + std::to_string(n);
  return UnimplementedError("protobuf body: field" + std::string(numbers.size() > 1 ? "s " : " ") +
                            list + " of " + message.GetDescriptor()->full_name() +
                            (numbers.size() > 1 ? " are" : " is") +
                            " not supported by this server; send application/json");
}

Result<nlohmann::json> ProtobufToJson(const google::protobuf::Message& message) {
  return MessageJson(message);
}

}  // namespace gpufleet::apiserver
