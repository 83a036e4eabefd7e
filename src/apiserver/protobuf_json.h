// Kubernetes JSON for a parsed Kubernetes protobuf message (proto/k8s), by descriptor reflection.
// Used by protobuf_body.cc; separate so the walk can be tested and read on its own.
#pragma once

#include <google/protobuf/message.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "core/status.h"

namespace gpufleet::apiserver {

// Converts `message` to the JSON Kubernetes' Go types write for it (not proto3 JSON):
//  - a field's JSON name is its .proto name (upstream names are the JSON names);
//  - only fields on the wire appear; a zero scalar (0, false, "") is left out unless the field has
//    the gpufleet.protojson.keep_zero option (Go pointers, json tags without omitempty);
//  - repeated fields are arrays, maps are objects, bytes are base64 strings;
//  - meta.v1.Time/MicroTime are RFC 3339 strings (an empty message is null), resource.Quantity
//    is its string, intstr.IntOrString a number or a string, meta.v1.FieldsV1 its JSON.
// Errors: Unimplemented when a message at any depth holds fields the .proto files here lack
// ("field 24 of k8s.io.api.core.v1.PodSpec is not supported ..."), so nothing is dropped
// silently; InvalidArgument for values JSON cannot carry (invalid UTF-8, a Time outside
// 1678-2262 or with nanos outside [0, 1e9), an IntOrString type other than 0 or 1, FieldsV1
// bytes that are not JSON). Thread-safe; never throws.
Result<nlohmann::json> ProtobufToJson(const google::protobuf::Message& message);

// Strict UTF-8, as the JSON parser on the JSON path requires.
bool IsValidUtf8(std::string_view s);

// The error ProtobufToJson reports when `message` itself (not its children) holds unknown
// fields, or OK. Also used for the runtime.Unknown envelope.
Status CheckNoUnknownFields(const google::protobuf::Message& message);

}  // namespace gpufleet::apiserver
