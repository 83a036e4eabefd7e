// RequestInfo: what a Kubernetes API path and method address: group, version, namespace,
// resource, name, subresource and verb (kube-apiserver's RequestInfoFactory rules).
#pragma once

#include <string>

#include "apiserver/http.h"
#include "core/status.h"

namespace gpufleet::apiserver {

struct RequestInfo {
  bool is_resource = false;  // false for /api, /apis, /version, /healthz, /openapi/...
  std::string group;         // "" for /api/v1
  std::string version;
  std::string ns;            // namespace from the path ("" if none)
  std::string resource;      // plural
  std::string name;
  std::string subresource;   // "status", "log", "binding", "eviction", "scale"
  // get, list, watch, create, update, patch, delete, deletecollection
  std::string verb;
};

// InvalidArgument for malformed resource paths (e.g. a namespace segment with no name).
Result<RequestInfo> ParseRequestInfo(const HttpRequest& request);

}  // namespace gpufleet::apiserver
