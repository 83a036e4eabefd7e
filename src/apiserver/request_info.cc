#include "apiserver/request_info.h"

#include <vector>

namespace gpufleet::apiserver {
namespace {

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) parts.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

bool IsWatch(const HttpRequest& r) {
  return r.QueryFlag("watch");
}

}  // namespace

Result<RequestInfo> ParseRequestInfo(const HttpRequest& request) {
  RequestInfo info;
  std::vector<std::string> parts = Split(request.path);
  size_t i = 0;
  if (parts.empty()) return info;
  if (parts[0] == "api" && parts.size() >= 2) {
    info.version = parts[1];
    i = 2;
  } else if (parts[0] == "apis" && parts.size() >= 3) {
    info.group = parts[1];
    info.version = parts[2];
    i = 3;
  } else {
    return info;  // discovery, health, openapi
  }
  if (i >= parts.size()) return info;  // /api/v1 or /apis/g/v: resource discovery
  info.is_resource = true;
  std::vector<std::string> rest(parts.begin() + long(i), parts.end());
  if (rest[0] == "namespaces" && rest.size() >= 3 && rest[2] != "status" && rest[2] != "finalize") {
    info.ns = rest[1];
    rest.erase(rest.begin(), rest.begin() + 2);
  }
  if (rest.size() > 3) {
    return InvalidArgumentError("unsupported path " + request.path);
  }
  info.resource = rest[0];
  if (rest.size() >= 2) info.name = rest[1];
  if (rest.size() == 3) info.subresource = rest[2];
  if (info.resource == "namespaces" && !info.name.empty() && info.ns.empty()) {
    // /api/v1/namespaces/foo addresses the namespace object itself.
  }
  const std::string& m = request.method;
  if (m == "GET" || m == "HEAD") {
    info.verb = info.name.empty() ? (IsWatch(request) ? "watch" : "list")
                                  : (IsWatch(request) ? "watch" : "get");
  } else if (m == "POST") {
    info.verb = "create";
  } else if (m == "PUT") {
    info.verb = "update";
  } else if (m == "PATCH") {
    info.verb = "patch";
  } else if (m == "DELETE") {
    info.verb = info.name.empty() ? "deletecollection" : "delete";
  } else {
    info.verb = m;
  }
  return info;
}

}  // namespace gpufleet::apiserver
