// Resource discovery: APIResourceList per group-version and aggregated discovery
// (apidiscovery.k8s.io/v2 and v2beta1), which lets kubectl learn every resource in two requests
// instead of one per group-version.
#include <algorithm>
#include <map>
#include <regex>

#include "apiserver/api_handler.h"

namespace gpufleet::apiserver {
namespace {

using json = nlohmann::json;

const json kVerbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};

// What a subresource accepts and returns: some speak a kind of another group (Eviction is
// policy/v1, Scale is autoscaling/v1).
struct Subresource {
  std::string group, version, kind;
  json verbs;
};

Subresource DescribeSubresource(const ResourceInfo& info, const std::string& sub) {
  if (sub == "log") return {info.group, info.version, info.kind, {"get"}};
  if (sub == "binding") return {"", "v1", "Binding", {"create"}};
  if (sub == "eviction") return {"policy", "v1", "Eviction", {"create"}};
  if (sub == "scale") return {"autoscaling", "v1", "Scale", {"get", "patch", "update"}};
  return {info.group, info.version, info.kind, {"get", "patch", "update"}};
}

// Kubernetes version priority: GA before beta before alpha, higher numbers first; names that do
// not look like Kubernetes versions come last, alphabetically.
bool PreferredFirst(const std::string& a, const std::string& b) {
  static const std::regex kVersion("^v([0-9]+)(?:(alpha|beta)([0-9]+))?$");
  auto rank = [](const std::string& v) {
    std::smatch m;
    if (!std::regex_match(v, m, kVersion)) return std::tuple<int, long, long>(3, 0, 0);
    int level = !m[2].matched ? 0 : m[2] == "beta" ? 1 : 2;
    return std::tuple<int, long, long>(level, -std::stol(m[1]), m[3].matched ? -std::stol(m[3]) : 0);
  };
  auto ra = rank(a), rb = rank(b);
  return ra != rb ? ra < rb : a < b;
}

}  // namespace

std::vector<std::string> ApiHandler::VersionsOf(const std::string& group) const {
  std::vector<std::string> versions;
  for (const auto& info : registry_.All()) {
    if (info.group == group && std::find(versions.begin(), versions.end(), info.version) == versions.end()) {
      versions.push_back(info.version);
    }
  }
  std::sort(versions.begin(), versions.end(), PreferredFirst);
  return versions;
}

json ApiHandler::ApiResourceList(const std::string& group, const std::string& version) const {
  std::string gv = group.empty() ? version : group + "/" + version;
  json list = {{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", gv},
               {"resources", json::array()}};
  for (const auto& info : registry_.All()) {
    if (info.group != group || info.version != version) continue;
    json r = {{"name", info.resource},
              {"singularName", info.singular},
              {"namespaced", info.namespaced},
              {"kind", info.kind},
              {"verbs", kVerbs}};
    if (!info.short_names.empty()) r["shortNames"] = info.short_names;
    if (!info.categories.empty()) r["categories"] = info.categories;
    list["resources"].push_back(r);
    for (const auto& sub : info.subresources) {
      Subresource d = DescribeSubresource(info, sub);
      json entry = {{"name", info.resource + "/" + sub},
                    {"singularName", ""},
                    {"namespaced", info.namespaced},
                    {"kind", d.kind},
                    {"verbs", d.verbs}};
      if (d.group != info.group || d.version != info.version) {
        entry["group"] = d.group;
        entry["version"] = d.version;
      }
      list["resources"].push_back(std::move(entry));
    }
  }
  return list;
}

std::optional<std::string> ApiHandler::WantsAggregatedDiscovery(const HttpRequest& request) {
  // client-go lists the forms it accepts in preference order; answer the first we speak.
  std::string_view accept = request.Header("accept");
  for (std::string_view part : {"g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
                                "g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"}) {
    size_t at = accept.find(part);
    if (at == std::string_view::npos) continue;
    size_t end = at + part.size();
    if (end == accept.size() || accept[end] == ',' || accept[end] == ';') {
      return part.find("v=v2;") != std::string_view::npos ? "v2" : "v2beta1";
    }
  }
  return std::nullopt;
}

HttpResponse ApiHandler::AggregatedDiscovery(bool core_group, const std::string& version) const {
  std::map<std::string, std::map<std::string, json>> groups;  // group -> version -> resources
  for (const auto& info : registry_.All()) {
    if (info.group.empty() != core_group) continue;
    json r = {{"resource", info.resource},
              {"responseKind", {{"group", info.group}, {"version", info.version}, {"kind", info.kind}}},
              {"scope", info.namespaced ? "Namespaced" : "Cluster"},
              {"singularResource", info.singular},
              {"verbs", kVerbs}};
    if (!info.short_names.empty()) r["shortNames"] = info.short_names;
    if (!info.categories.empty()) r["categories"] = info.categories;
    for (const auto& sub : info.subresources) {
      Subresource d = DescribeSubresource(info, sub);
      r["subresources"].push_back({{"subresource", sub},
                                   {"responseKind", {{"group", d.group}, {"version", d.version}, {"kind", d.kind}}},
                                   {"verbs", d.verbs}});
    }
    groups[info.group][info.version].push_back(std::move(r));
  }
  json items = json::array();
  for (auto& [group, versions] : groups) {
    json entry = {{"metadata", {{"creationTimestamp", nullptr}}}, {"versions", json::array()}};
    if (!group.empty()) entry["metadata"]["name"] = group;
    for (const auto& v : VersionsOf(group)) {
      entry["versions"].push_back({{"version", v}, {"resources", std::move(versions[v])}, {"freshness", "Current"}});
    }
    items.push_back(std::move(entry));
  }
  HttpResponse r;
  r.status = 200;
  r.content_type = "application/json;g=apidiscovery.k8s.io;v=" + version + ";as=APIGroupDiscoveryList";
  r.body = json{{"kind", "APIGroupDiscoveryList"},
                {"apiVersion", "apidiscovery.k8s.io/" + version},
                {"metadata", json::object()},
                {"items", std::move(items)}}.dump();
  return r;
}

}  // namespace gpufleet::apiserver
