// Fuzzes DecodeProtobufBody with request bodies (and the same bytes behind the "k8s\0" prefix, so
// the envelope parser is reached without the fuzzer guessing it). Traps on:
//  - an error code other than InvalidArgument (400) or Unimplemented (415), or an error message
//    that is not UTF-8 (the Status body quoting it must be valid JSON);
//  - a decoded value that is not an object with string apiVersion and kind;
//  - a decoded value whose JSON text does not parse back to the same value (it would mean a
//    string with invalid UTF-8 got through, which the store's dump would throw on).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "apiserver/protobuf_body.h"
#include "apiserver/protobuf_json.h"
#include "core/json.h"

namespace {

namespace core = gpufleet::core;
using gpufleet::StatusCode;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

void Decode(std::string_view body) {
  auto decoded = gpufleet::apiserver::DecodeProtobufBody(body);
  if (!decoded.ok()) {
    StatusCode c = decoded.status().code();
    Check(c == StatusCode::kInvalidArgument || c == StatusCode::kUnimplemented);
    Check(gpufleet::apiserver::IsValidUtf8(decoded.status().message()));
    return;
  }
  const nlohmann::json& v = *decoded;
  Check(v.is_object() && v.contains("apiVersion") && v["apiVersion"].is_string() &&
        v.contains("kind") && v["kind"].is_string());
  auto again = core::ParseJson(core::DumpJson(v));
  Check(again.ok() && *again == v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Decode(input);
  if (!input.starts_with(gpufleet::apiserver::kProtobufMagic)) {
    Decode(std::string(gpufleet::apiserver::kProtobufMagic) + std::string(input));
  }
  return 0;
}
