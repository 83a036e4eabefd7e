#include "kube/client.h"

#include <cctype>
#include <random>

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;

StatusCode CodeFor(long http, std::string_view reason) {
  if (reason == "NotFound") return StatusCode::kNotFound;
  if (reason == "AlreadyExists") return StatusCode::kAlreadyExists;
  if (reason == "Conflict") return StatusCode::kAborted;
  if (reason == "Expired" || reason == "Gone") return StatusCode::kOutOfRange;
  if (reason == "BadRequest" || reason == "Invalid") return StatusCode::kInvalidArgument;
  switch (http) {
    case 400: case 413: case 422: return StatusCode::kInvalidArgument;
    case 401: return StatusCode::kUnauthenticated;
    case 403: return StatusCode::kPermissionDenied;
    case 404: return StatusCode::kNotFound;
    case 405: case 415: return StatusCode::kUnimplemented;
    case 409: return StatusCode::kAborted;
    case 410: return StatusCode::kOutOfRange;
    case 429: return StatusCode::kResourceExhausted;
    case 503: return StatusCode::kUnavailable;
    case 504: return StatusCode::kDeadlineExceeded;
    default: return StatusCode::kInternal;
  }
}

// A Status object (from a response body or an ERROR watch event) as an error.
Status FromStatusObject(long http, const json& status) {
  std::string reason = status.is_object() ? status.value("reason", "") : "";
  std::string message = status.is_object() ? status.value("message", "") : "";
  if (status.is_object() && status.contains("code") && status["code"].is_number_integer()) {
    http = status["code"].get<long>();
  }
  if (message.empty()) message = "the server answered " + std::to_string(http);
  return Status(CodeFor(http, reason),
                message + " (HTTP " + std::to_string(http) + (reason.empty() ? "" : " " + reason) + ")");
}

const char* ContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kJsonPatch: return "application/json-patch+json";
    case PatchType::kStrategicMerge: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";  // JSON is valid YAML
  }
  return "application/merge-patch+json";
}

void AddParam(std::string& path, std::string_view key, std::string_view value) {
  if (value.empty()) return;
  path += path.find('?') == std::string::npos ? '?' : '&';
  path.append(key).append("=").append(QueryEscape(value));
}

std::string NameOf(const json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) return "";
  return object["metadata"].value("name", "");
}

json DeleteBody(const DeleteOptions& o) {
  json body = {{"apiVersion", "v1"}, {"kind", "DeleteOptions"}};
  if (o.grace_period_seconds) body["gracePeriodSeconds"] = *o.grace_period_seconds;
  if (!o.precondition_uid.empty()) body["preconditions"]["uid"] = o.precondition_uid;
  if (!o.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = o.precondition_resource_version;
  }
  if (!o.propagation_policy.empty()) body["propagationPolicy"] = o.propagation_policy;
  return body;
}

}  // namespace

std::string QueryEscape(std::string_view value) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

Status RetryOnConflict(core::Clock& clock, const std::function<Status()>& attempt, int steps) {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(1.0, 1.1);
  std::chrono::duration<double, std::milli> wait(10);
  Status s = attempt();
  for (int i = 1; i < steps && s.code() == StatusCode::kAborted; ++i) {
    clock.SleepFor(std::chrono::duration_cast<core::Duration>(wait * jitter(rng)));
    wait *= 2;
    s = attempt();
  }
  return s;
}

Status StatusFromResponse(const Response& response) {
  json body = json::parse(response.body, nullptr, false);
  if (!body.is_object() || body.value("kind", "") != "Status") {
    // Not a Status (a proxy's HTML page, an empty body): keep a bounded excerpt.
    std::string excerpt = response.body.substr(0, 200);
    return Status(CodeFor(response.status, ""),
                  "the server answered HTTP " + std::to_string(response.status) +
                      (excerpt.empty() ? "" : ": " + excerpt));
  }
  return FromStatusObject(response.status, body);
}

std::string Client::Path(const Gvr& gvr, std::string_view ns, std::string_view name,
                         std::string_view subresource) {
  std::string path = gvr.group.empty() ? "/api/" + gvr.version : "/apis/" + gvr.group + "/" + gvr.version;
  if (gvr.namespaced && !ns.empty()) path.append("/namespaces/").append(ns);
  path.append("/").append(gvr.resource);
  if (!name.empty()) path.append("/").append(name);
  if (!subresource.empty()) path.append("/").append(subresource);
  return path;
}

Result<json> Client::Call(Request request) {
  GF_ASSIGN_OR_RETURN(Response response, transport_.Send(request));
  if (response.status < 200 || response.status > 299) return StatusFromResponse(response);
  json body = json::parse(response.body, nullptr, false);
  if (body.is_discarded()) {
    return InternalError(request.method + " " + request.path + ": the answer is not JSON");
  }
  return body;
}

Result<json> Client::Get(const Gvr& gvr, std::string_view ns, std::string_view name) {
  return Call({.path = Path(gvr, ns, name)});
}

Result<json> Client::List(const Gvr& gvr, std::string_view ns, const ListOptions& o) {
  std::string path = Path(gvr, ns);
  AddParam(path, "labelSelector", o.label_selector);
  AddParam(path, "fieldSelector", o.field_selector);
  if (o.limit > 0) AddParam(path, "limit", std::to_string(o.limit));
  AddParam(path, "continue", o.continue_token);
  AddParam(path, "resourceVersion", o.resource_version);
  return Call({.path = path});
}

std::string MetadataString(const json& list, std::string_view field) {
  if (!list.is_object()) return "";
  auto meta = list.find("metadata");
  if (meta == list.end() || !meta->is_object()) return "";
  auto v = meta->find(field);
  return v != meta->end() && v->is_string() ? v->get<std::string>() : "";
}

Result<json> Client::ListAll(const Gvr& gvr, std::string_view ns, ListOptions options) {
  json all;
  while (true) {
    GF_ASSIGN_OR_RETURN(json page, List(gvr, ns, options));
    if (!page.contains("items") || !page["items"].is_array()) {
      return InternalError(Path(gvr, ns) + ": the list has no items array");
    }
    std::string next = MetadataString(page, "continue");
    if (all.is_null()) {
      all = std::move(page);
    } else {
      for (auto& item : page["items"]) all["items"].push_back(std::move(item));
      if (page.contains("metadata") && page["metadata"].is_object()) all["metadata"] = std::move(page["metadata"]);
    }
    if (next.empty()) break;
    options.continue_token = next;
    options.resource_version.clear();  // the token carries the version
  }
  if (!all.contains("metadata") || !all["metadata"].is_object()) all["metadata"] = json::object();
  all["metadata"].erase("continue");
  return all;
}

Result<json> Client::Create(const Gvr& gvr, std::string_view ns, const json& object) {
  return Call({.method = "POST", .path = Path(gvr, ns), .body = object.dump(), .content_type = "application/json"});
}

Result<json> Client::Update(const Gvr& gvr, std::string_view ns, const json& object) {
  std::string name = NameOf(object);
  if (name.empty()) return InvalidArgumentError("update: metadata.name is required");
  return Call({.method = "PUT", .path = Path(gvr, ns, name), .body = object.dump(), .content_type = "application/json"});
}

Result<json> Client::UpdateStatus(const Gvr& gvr, std::string_view ns, const json& object) {
  std::string name = NameOf(object);
  if (name.empty()) return InvalidArgumentError("update status: metadata.name is required");
  return Call({.method = "PUT", .path = Path(gvr, ns, name, "status"), .body = object.dump(),
               .content_type = "application/json"});
}

Result<json> Client::Patch(const Gvr& gvr, std::string_view ns, std::string_view name, PatchType type,
                           const json& patch, const PatchOptions& options, std::string_view subresource) {
  if (type == PatchType::kApply && options.field_manager.empty()) {
    return InvalidArgumentError("apply patch: a field manager is required");
  }
  std::string path = Path(gvr, ns, name, subresource);
  AddParam(path, "fieldManager", options.field_manager);
  if (options.force) AddParam(path, "force", "true");
  return Call({.method = "PATCH", .path = path, .body = patch.dump(), .content_type = ContentType(type)});
}

Result<json> Client::Delete(const Gvr& gvr, std::string_view ns, std::string_view name,
                            const DeleteOptions& options) {
  return Call({.method = "DELETE", .path = Path(gvr, ns, name), .body = DeleteBody(options).dump(),
               .content_type = "application/json"});
}

Status Client::Evict(std::string_view ns, std::string_view pod, const DeleteOptions& options) {
  json eviction = {{"apiVersion", "policy/v1"}, {"kind", "Eviction"},
                   {"metadata", {{"name", pod}, {"namespace", ns}}}, {"deleteOptions", DeleteBody(options)}};
  Gvr pods{"", "v1", "pods", true};
  return Call({.method = "POST", .path = Path(pods, ns, pod, "eviction"), .body = eviction.dump(),
               .content_type = "application/json"})
      .status();
}

Status Client::Bind(std::string_view ns, std::string_view pod, std::string_view node) {
  json binding = {{"apiVersion", "v1"}, {"kind", "Binding"}, {"metadata", {{"name", pod}, {"namespace", ns}}},
                  {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}};
  Gvr pods{"", "v1", "pods", true};
  return Call({.method = "POST", .path = Path(pods, ns, pod, "binding"), .body = binding.dump(),
               .content_type = "application/json"})
      .status();
}

Status Client::Watch(const Gvr& gvr, std::string_view ns, const WatchOptions& o,
                     const std::function<bool(WatchEvent&)>& on_event, std::stop_token stop) {
  std::string path = Path(gvr, ns) + "?watch=true";
  AddParam(path, "labelSelector", o.label_selector);
  AddParam(path, "fieldSelector", o.field_selector);
  AddParam(path, "resourceVersion", o.resource_version);
  if (o.allow_bookmarks) AddParam(path, "allowWatchBookmarks", "true");
  if (o.timeout_seconds > 0) AddParam(path, "timeoutSeconds", std::to_string(o.timeout_seconds));
  Status failure = OkStatus();
  auto on_line = [&](std::string_view line) {
    json e = json::parse(line, nullptr, false);
    if (!e.is_object() || !e.contains("type") || !e["type"].is_string() || !e.contains("object")) {
      failure = InvalidArgumentError("watch " + Path(gvr, ns) + ": malformed event: " +
                                     std::string(line.substr(0, 200)));
      return false;
    }
    WatchEvent event{e["type"].get<std::string>(), std::move(e["object"])};
    if (event.type == "ERROR") {
      failure = FromStatusObject(500, event.object);
      return false;
    }
    return on_event(event);
  };
  GF_ASSIGN_OR_RETURN(Response response, transport_.Stream({.path = path}, on_line, stop));
  if (response.status < 200 || response.status > 299) return StatusFromResponse(response);
  return failure;
}

}  // namespace gpufleet::kube
