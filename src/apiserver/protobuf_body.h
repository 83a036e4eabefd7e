// Request bodies sent as application/vnd.kubernetes.protobuf (kubectl's typed commands: create
// namespace|configmap|secret|serviceaccount|service|deployment|role|rolebinding|pdb, drain's
// evictions), decoded into the same JSON object the JSON path produces. proto/README.md says
// where the message definitions come from.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "core/status.h"

namespace gpufleet::apiserver {

// The four bytes every Kubernetes protobuf body starts with, before a runtime.Unknown.
inline constexpr std::string_view kProtobufMagic{"k8s\0", 4};

// Decodes `body` ("k8s\0" + runtime.Unknown whose raw holds the object) into the object's JSON,
// with apiVersion and kind from Unknown.typeMeta. Kinds: v1 Namespace, ConfigMap, Secret,
// ServiceAccount, Service, Binding; apps/v1 Deployment; policy/v1 Eviction, PodDisruptionBudget;
// rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding, ClusterRoleBinding; DeleteOptions
// of any apiVersion (clients send it in their own group's version).
// Errors: Unimplemented (the caller answers 415) for another kind, a contentEncoding, or a field
// the .proto files here do not define (the message names type and field number);
// InvalidArgument (400) for a missing magic, bytes that do not parse, or values JSON cannot
// carry (see ProtobufToJson). Thread-safe; never throws.
Result<nlohmann::json> DecodeProtobufBody(std::string_view body);

}  // namespace gpufleet::apiserver
