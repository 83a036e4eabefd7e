#include "apiserver/api_handler.h"

#include <algorithm>
#include <map>

#include "core/log.h"
#include "core/time_format.h"

namespace gpufleet::apiserver {
namespace {

const core::log::Logger kLog("apiserver");

HttpResponse Json(int status, const nlohmann::json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

// An APIGroup entry of /apis: its versions, the first being the preferred one.
nlohmann::json ApiGroup(const std::string& group, const std::vector<std::string>& versions) {
  nlohmann::json g = {{"name", group}, {"versions", nlohmann::json::array()}};
  for (const auto& v : versions) g["versions"].push_back({{"groupVersion", group + "/" + v}, {"version", v}});
  g["preferredVersion"] = {{"groupVersion", group + "/" + versions.front()}, {"version", versions.front()}};
  return g;
}

}  // namespace

ApiHandler::ApiHandler(Store& store, Registry& registry, core::Clock& clock, Options options)
    : store_(store), registry_(registry), clock_(clock), options_(std::move(options)) {}

Status ApiHandler::Bootstrap() {
  for (const char* ns : {"default", "kube-system", "kube-public", "kube-node-lease"}) {
    auto info = registry_.Find("", "v1", "namespaces");
    if (!info.ok()) return info.status();
    std::string key = info->Key("", ns);
    auto result = store_.Apply(key, [&](const StoredObject* current, int64_t rv) -> Result<Write> {
      if (current) return Write{Write::Kind::kNoop, ""};
      nlohmann::json obj = {
          {"apiVersion", "v1"},
          {"kind", "Namespace"},
          {"metadata",
           {{"name", ns},
            {"uid", object::NewUid()},
            {"resourceVersion", std::to_string(rv)},
            {"creationTimestamp", core::FormatRfc3339(clock_.Now())},
            {"labels", {{"kubernetes.io/metadata.name", ns}}}}},
          {"spec", {{"finalizers", {"kubernetes"}}}},
          {"status", {{"phase", "Active"}}}};
      return Write{Write::Kind::kPut, obj.dump()};
    });
    if (!result.ok()) return result.status().WithContext("creating namespace " + std::string(ns));
  }
  auto crds = registry_.Find("apiextensions.k8s.io", "v1", "customresourcedefinitions");
  if (!crds.ok()) return crds.status();
  for (const auto& stored : store_.List(crds->KeyPrefix(), "", 0).items) {
    auto j = nlohmann::json::parse(*stored.json, nullptr, false);
    if (!j.is_discarded()) OnCrdWrite(&j, nullptr);
  }
  return OkStatus();
}

nlohmann::json ApiHandler::Present(const ResourceInfo& info, const std::string& json) const {
  auto j = nlohmann::json::parse(json, nullptr, false);
  if (j.is_discarded()) return nlohmann::json::object();
  j["apiVersion"] = info.GroupVersion();
  j["kind"] = info.kind;
  return j;
}

HttpResponse ApiHandler::Handle(HttpRequest& request) {
  auto ri = ParseRequestInfo(request);
  if (!ri.ok()) return ErrorResponse(NotFoundError(std::string(ri.status().message())));
  if (!ri->is_resource) return Discovery(request);
  auto found = registry_.Find(ri->group, ri->version, ri->resource);
  if (!found.ok()) return ErrorResponse(found.status());
  const ResourceInfo& info = *found;
  if (!info.namespaced && !ri->ns.empty()) {
    return ErrorResponse(NotFoundError("the server could not find the requested resource"));
  }
  if (!ri->subresource.empty() && !info.HasSubresource(ri->subresource)) {
    return ErrorResponse(NotFoundError("the server could not find the requested resource"));
  }
  const std::string& verb = ri->verb;
  HttpResponse response;
  if (ri->subresource == "log") {
    response = Log(info, *ri, request);
  } else if (ri->subresource == "binding") {
    response = request.method == "POST" ? Bind(info, *ri, request)
                                        : ErrorResponse(UnimplementedError("method not allowed"));
  } else if (ri->subresource == "eviction") {
    response = request.method == "POST" ? Evict(info, *ri, request)
                                        : ErrorResponse(UnimplementedError("method not allowed"));
  } else if (verb == "get") {
    response = Get(info, *ri, request);
  } else if (verb == "list") {
    response = List(info, *ri, request);
  } else if (verb == "watch") {
    response = Watch(info, *ri, request);
  } else if (verb == "create") {
    response = ri->name.empty() ? Create(info, *ri, request)
                                : ErrorResponse(UnimplementedError("POST to a named object is not allowed"));
  } else if (verb == "update") {
    response = Update(info, *ri, request);
  } else if (verb == "patch") {
    response = Patch(info, *ri, request);
  } else if (verb == "delete") {
    response = Delete(info, *ri, request);
  } else if (verb == "deletecollection") {
    response = DeleteCollection(info, *ri, request);
  } else {
    response = ErrorResponse(UnimplementedError("method " + request.method + " is not allowed"));
  }
  if (response.status >= 400) {
    kLog.Debug("request failed", {{"method", request.method}, {"path", request.path},
                                  {"code", response.status}, {"user", request.user}});
  }
  return response;
}

HttpResponse ApiHandler::Discovery(const HttpRequest& request) {
  const std::string& p = request.path;
  if (p == "/healthz" || p == "/livez" || p == "/readyz" || p.starts_with("/healthz/") ||
      p.starts_with("/livez/") || p.starts_with("/readyz/")) {
    HttpResponse r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "ok";
    return r;
  }
  if (p == "/version") {
    return Json(200, {{"major", "1"},
                      {"minor", "32"},
                      {"gitVersion", "v1.32.0+gpufleet"},
                      {"gitCommit", ""},
                      {"gitTreeState", "clean"},
                      {"buildDate", "2026-01-01T00:00:00Z"},
                      {"goVersion", "n/a (C++20)"},
                      {"compiler", "gcc"},
                      {"platform", "linux/amd64"}});
  }
  if (p == "/api") {
    if (auto version = WantsAggregatedDiscovery(request)) return AggregatedDiscovery(true, *version);
    return Json(200, {{"kind", "APIVersions"},
                      {"versions", {"v1"}},
                      {"serverAddressByClientCIDRs",
                       {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", options_.server_address}}}}});
  }
  if (p == "/api/v1") return Json(200, ApiResourceList("", "v1"));
  if (p == "/apis") {
    if (auto version = WantsAggregatedDiscovery(request)) return AggregatedDiscovery(false, *version);
    std::vector<std::string> names;
    for (const auto& info : registry_.All()) {
      if (!info.group.empty() && std::find(names.begin(), names.end(), info.group) == names.end()) {
        names.push_back(info.group);
      }
    }
    nlohmann::json list = {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", nlohmann::json::array()}};
    for (const auto& group : names) list["groups"].push_back(ApiGroup(group, VersionsOf(group)));
    return Json(200, list);
  }
  if (p.starts_with("/apis/")) {
    std::string rest = p.substr(6);
    size_t slash = rest.find('/');
    if (slash == std::string::npos) {
      std::vector<std::string> versions = VersionsOf(rest);
      if (versions.empty()) return ErrorResponse(NotFoundError("the server could not find the requested resource"));
      nlohmann::json g = ApiGroup(rest, versions);
      g["kind"] = "APIGroup";
      g["apiVersion"] = "v1";
      return Json(200, g);
    }
    nlohmann::json list = ApiResourceList(rest.substr(0, slash), rest.substr(slash + 1));
    if (list["resources"].empty()) return ErrorResponse(NotFoundError("the server could not find the requested resource"));
    return Json(200, list);
  }
  if (p.starts_with("/openapi/v3")) return OpenApiV3(request);
  return ErrorResponse(NotFoundError("the server could not find the requested resource"));
}

HttpResponse ApiHandler::OpenApiV3(const HttpRequest& request) const {
  // Just enough OpenAPI v3 for kubectl: the root lists each group-version; each group-version
  // document declares the patch operation of every kind with the fieldValidation parameter,
  // which is how kubectl decides that the server validates fields itself.
  std::string p = request.path;
  if (p == "/openapi/v3" || p == "/openapi/v3/") {
    nlohmann::json paths = nlohmann::json::object();
    for (const auto& info : registry_.All()) {
      std::string gvpath = info.group.empty() ? "api/" + info.version
                                              : "apis/" + info.group + "/" + info.version;
      paths[gvpath] = {{"serverRelativeURL", "/openapi/v3/" + gvpath + "?hash=" +
                                                 std::to_string(store_.CurrentRv())}};
    }
    return Json(200, {{"paths", paths}});
  }
  std::string gvpath = p.substr(std::string("/openapi/v3/").size());
  nlohmann::json paths = nlohmann::json::object();
  for (const auto& info : registry_.All()) {
    std::string mine = info.group.empty() ? "api/" + info.version
                                          : "apis/" + info.group + "/" + info.version;
    if (mine != gvpath) continue;
    std::string base = "/" + mine + (info.namespaced ? "/namespaces/{namespace}/" : "/") +
                       info.resource + "/{name}";
    nlohmann::json gvk = {{"group", info.group}, {"version", info.version}, {"kind", info.kind}};
    nlohmann::json params = nlohmann::json::array(
        {{{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
         {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
         {{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}}});
    paths[base] = {{"patch", {{"x-kubernetes-action", "patch"},
                              {"x-kubernetes-group-version-kind", gvk},
                              {"parameters", params},
                              {"responses", {{"200", {{"description", "OK"}}}}}}},
                   {"put", {{"x-kubernetes-action", "put"},
                            {"x-kubernetes-group-version-kind", gvk},
                            {"parameters", params},
                            {"responses", {{"200", {{"description", "OK"}}}}}}}};
  }
  if (paths.empty()) return ErrorResponse(NotFoundError("no OpenAPI document for " + gvpath));
  return Json(200, {{"openapi", "3.0.0"},
                    {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
                    {"paths", paths},
                    {"components", {{"schemas", nlohmann::json::object()}}}});
}

}  // namespace gpufleet::apiserver
