// create, update (incl. /status), patch, delete, deletecollection, binding and eviction.
#include <string>

#include "apiserver/api_handler.h"
#include "core/labels.h"
#include "core/patch.h"
#include "core/time_format.h"
#include "core/yaml.h"

namespace gpufleet::apiserver {
namespace {

using json = nlohmann::json;

HttpResponse Json(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

std::string MediaType(const HttpRequest& r) {
  std::string ct(r.Header("content-type"));
  size_t semi = ct.find(';');
  if (semi != std::string::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && ct.back() == ' ') ct.pop_back();
  return ct;
}

// Decodes a request body as JSON (or YAML, which the API server also accepts).
Result<json> DecodeBody(const HttpRequest& r) {
  std::string type = MediaType(r);
  if (type == "application/vnd.kubernetes.protobuf" || type == "application/cbor") {
    return UnimplementedError("the server does not accept " + type +
                              "; send application/json");
  }
  if (type == "application/yaml" || type == "application/apply-patch+yaml") {
    auto docs = core::YamlToJsonSingle(r.body);
    if (!docs.ok()) return InvalidArgumentError(std::string(docs.status().message()));
    return *docs;
  }
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded()) {
    return InvalidArgumentError("the body of the request was in an unknown format: "
                                "couldn't parse it as JSON");
  }
  return j;
}

Status Invalid(const ResourceInfo& info, const std::string& name, const std::string& detail) {
  return FailedPreconditionError(info.kind + " \"" + name + "\" is invalid: " + detail);
}

// Content of an object ignoring metadata and status: a change bumps metadata.generation.
bool SpecChanged(const json& a, const json& b) {
  json x = a, y = b;
  for (json* j : {&x, &y}) {
    j->erase("metadata");
    j->erase("status");
  }
  return x != y;
}

json& Meta(json& obj) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) obj["metadata"] = json::object();
  return obj["metadata"];
}

// Fields the server owns: clients cannot set or change them on update.
void CarryServerFields(const json& current, json& next) {
  const json& cm = current["metadata"];
  json& nm = Meta(next);
  for (const char* f : {"uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                        "generation", "selfLink"}) {
    if (cm.contains(f)) {
      nm[f] = cm[f];
    } else {
      nm.erase(f);
    }
  }
}

bool HasFinalizers(const json& obj) {
  return obj.contains("metadata") && obj["metadata"].contains("finalizers") &&
         obj["metadata"]["finalizers"].is_array() && !obj["metadata"]["finalizers"].empty();
}

bool IsTerminating(const json& obj) {
  return obj.contains("metadata") && obj["metadata"].contains("deletionTimestamp") &&
         !obj["metadata"]["deletionTimestamp"].is_null();
}

// Per-kind defaults on create (kube-apiserver's strategies, the parts clients observe).
void PrepareForCreate(const ResourceInfo& info, json& obj) {
  if (info.HasSubresource("status") && info.from_crd) obj.erase("status");
  if (info.group.empty() && info.kind == "Pod") {
    if (!obj.contains("status") || !obj["status"].is_object()) obj["status"] = json::object();
    if (!obj["status"].contains("phase")) obj["status"]["phase"] = "Pending";
    if (!obj["spec"].contains("restartPolicy")) obj["spec"]["restartPolicy"] = "Always";
    if (!obj["spec"].contains("schedulerName")) obj["spec"]["schedulerName"] = "default-scheduler";
  }
  if (info.group.empty() && info.kind == "Namespace") {
    obj["status"] = {{"phase", "Active"}};
    Meta(obj)["labels"]["kubernetes.io/metadata.name"] = object::Name(obj);
  }
  if (info.group == "apiextensions.k8s.io" && info.kind == "CustomResourceDefinition") {
    json names = obj["spec"].contains("names") ? obj["spec"]["names"] : json::object();
    obj["status"] = {{"acceptedNames", names},
                     {"storedVersions", json::array()},
                     {"conditions",
                      {{{"type", "NamesAccepted"}, {"status", "True"}, {"reason", "NoConflicts"},
                        {"message", "no conflicts found"}},
                       {{"type", "Established"}, {"status", "True"}, {"reason", "InitialNamesAccepted"},
                        {"message", "the initial names have been accepted"}}}}};
    if (obj["spec"].contains("versions") && obj["spec"]["versions"].is_array()) {
      for (const auto& v : obj["spec"]["versions"]) {
        if (v.value("storage", false)) obj["status"]["storedVersions"].push_back(v.value("name", ""));
      }
    }
  }
}

Status ValidateName(const ResourceInfo& info, const std::string& name) {
  if (name.empty()) {
    return Invalid(info, name, "metadata.name: Required value: name or generateName is required");
  }
  // Events are named by clients with arbitrary suffixes; everything else is a DNS subdomain.
  if (info.kind == "Event") return OkStatus();
  std::string why = info.kind == "Namespace" ? core::Dns1123LabelError(name)
                                             : core::Dns1123SubdomainError(name);
  if (!why.empty()) {
    return Invalid(info, name, "metadata.name: Invalid value: \"" + name + "\": " + why);
  }
  return OkStatus();
}

}  // namespace

// 415 for encodings this server does not speak (client-go falls back to JSON on 415).
HttpResponse BodyError(const Status& s) {
  HttpResponse r = ErrorResponse(s);
  if (s.code() == StatusCode::kUnimplemented) {
    r.status = 415;
    r.body = StatusObject(InvalidArgumentError(std::string(s.message()))).dump();
    auto j = json::parse(r.body);
    j["code"] = 415;
    j["reason"] = "UnsupportedMediaType";
    r.body = j.dump();
  }
  return r;
}

HttpResponse ApiHandler::Create(const ResourceInfo& info, const RequestInfo& ri,
                                const HttpRequest& request) {
  auto body = DecodeBody(request);
  if (!body.ok()) return BodyError(body.status());
  json obj = std::move(*body);
  if (!obj.is_object()) return ErrorResponse(InvalidArgumentError("the request body must be an object"));
  if (obj.contains("kind") && obj["kind"] != info.kind) {
    return ErrorResponse(InvalidArgumentError("the API version in the data (" +
                                              obj.value("apiVersion", "") + ") does not match the "
                                              "expected API version or kind " + info.kind));
  }
  json& md = Meta(obj);
  if (info.namespaced) {
    if (ri.ns.empty()) return ErrorResponse(NotFoundError("the server could not find the requested resource"));
    std::string body_ns = object::Namespace(obj);
    if (!body_ns.empty() && body_ns != ri.ns) {
      return ErrorResponse(InvalidArgumentError("the namespace of the provided object does not match "
                                                "the namespace sent on the request"));
    }
    md["namespace"] = ri.ns;
    auto ns = store_.Get("/namespaces//" + ri.ns);
    if (!ns.ok()) return ErrorResponse(NotFoundFor({"", "namespaces", ri.ns}));
    if (IsTerminating(json::parse(*ns->json, nullptr, false))) {
      return ErrorResponse(PermissionDeniedError(
          info.resource + " \"" + object::Name(obj) + "\" is forbidden: unable to create new content "
          "in namespace " + ri.ns + " because it is being terminated"));
    }
  } else {
    md.erase("namespace");
  }
  std::string name = object::Name(obj);
  if (name.empty() && md.contains("generateName") && md["generateName"].is_string()) {
    name = md["generateName"].get<std::string>() + object::RandomSuffix();
    md["name"] = name;
  }
  if (Status s = ValidateName(info, name); !s.ok()) return ErrorResponse(s);
  obj["apiVersion"] = info.GroupVersion();
  obj["kind"] = info.kind;
  md["uid"] = object::NewUid();
  md["creationTimestamp"] = core::FormatRfc3339(clock_.Now());
  md["generation"] = 1;
  md.erase("deletionTimestamp");
  md.erase("deletionGracePeriodSeconds");
  md.erase("resourceVersion");
  PrepareForCreate(info, obj);
  ErrorSubject subject{info.group, info.resource, name};
  auto stored = store_.Apply(info.Key(info.namespaced ? ri.ns : "", name),
                             [&](const StoredObject* current, int64_t rv) -> Result<Write> {
                               if (current) return AlreadyExistsFor(subject);
                               json copy = obj;
                               copy["metadata"]["resourceVersion"] = std::to_string(rv);
                               return Write{Write::Kind::kPut, copy.dump()};
                             });
  if (!stored.ok()) return ErrorResponse(stored.status(), subject);
  json result = Present(info, *stored->json);
  if (info.kind == "CustomResourceDefinition") OnCrdWrite(&result, nullptr);
  return Json(201, result);
}

// Shared by update and patch: replaces the object (or its status) with `next` computed from the
// current object, enforcing optimistic concurrency, server-owned fields and finalizers.
static Result<Write> ReplaceObject(const ResourceInfo& info, const StoredObject& current,
                                   json next, bool status_only, int64_t rv,
                                   const ErrorSubject& subject) {
  json cur = json::parse(*current.json, nullptr, false);
  if (!next.is_object()) return InvalidArgumentError("the object must be a JSON object");
  std::string want_rv = next.contains("metadata") && next["metadata"].contains("resourceVersion") &&
                                next["metadata"]["resourceVersion"].is_string()
                            ? next["metadata"]["resourceVersion"].get<std::string>()
                            : "";
  if (!want_rv.empty() && want_rv != std::to_string(current.rv)) return ConflictFor(subject);
  if (object::Name(next) != subject.name && !object::Name(next).empty()) {
    return InvalidArgumentError("the name of the object (" + object::Name(next) +
                                ") does not match the name on the URL (" + subject.name + ")");
  }
  if (status_only) {
    json merged = cur;
    if (next.contains("status")) {
      merged["status"] = next["status"];
    } else {
      merged.erase("status");
    }
    next = std::move(merged);
  } else {
    if (info.HasSubresource("status")) {
      if (cur.contains("status")) {
        next["status"] = cur["status"];
      } else {
        next.erase("status");
      }
    }
    CarryServerFields(cur, next);
    if (SpecChanged(cur, next)) {
      Meta(next)["generation"] = cur["metadata"].value("generation", 1) + 1;
    }
  }
  json& md = Meta(next);
  md["name"] = subject.name;
  if (info.namespaced) md["namespace"] = object::Namespace(cur);
  next["apiVersion"] = cur.value("apiVersion", info.GroupVersion());
  next["kind"] = info.kind;
  md["resourceVersion"] = cur["metadata"]["resourceVersion"];
  if (next == cur) return Write{Write::Kind::kNoop, ""};
  md["resourceVersion"] = std::to_string(rv);
  if (IsTerminating(next) && !HasFinalizers(next)) {
    return Write{Write::Kind::kDelete, next.dump()};  // last finalizer removed
  }
  return Write{Write::Kind::kPut, next.dump()};
}

HttpResponse ApiHandler::Update(const ResourceInfo& info, const RequestInfo& ri,
                                const HttpRequest& request) {
  auto body = DecodeBody(request);
  if (!body.ok()) return BodyError(body.status());
  ErrorSubject subject{info.group, info.resource, ri.name};
  const bool status_only = ri.subresource == "status";
  json old;
  auto stored = store_.Apply(info.Key(info.namespaced ? ri.ns : "", ri.name),
                             [&](const StoredObject* current, int64_t rv) -> Result<Write> {
                               if (!current) return NotFoundFor(subject);
                               old = json::parse(*current->json, nullptr, false);
                               return ReplaceObject(info, *current, *body, status_only, rv, subject);
                             });
  if (!stored.ok()) return ErrorResponse(stored.status(), subject);
  json result = Present(info, *stored->json);
  if (info.kind == "CustomResourceDefinition") OnCrdWrite(&result, &old);
  return Json(200, result);
}

HttpResponse ApiHandler::Patch(const ResourceInfo& info, const RequestInfo& ri,
                               const HttpRequest& request) {
  std::string type = MediaType(request);
  ErrorSubject subject{info.group, info.resource, ri.name};
  const bool apply = type == "application/apply-patch+yaml";
  core::PatchSchema schema = info.from_crd ? core::PatchSchema().SetStrategicMergeSupported(false)
                                           : core::ForKind(info.group, info.kind);
  if (type == "application/strategic-merge-patch+json" && !schema.strategic_merge_supported()) {
    HttpResponse r = ErrorResponse(InvalidArgumentError(std::string(core::kStrategicMergeUnsupportedMessage)));
    r.status = 415;  // UnsupportedMediaType, as kube-apiserver answers for custom resources
    return r;
  }
  if (!apply && type != "application/merge-patch+json" && type != "application/json-patch+json" &&
      type != "application/strategic-merge-patch+json") {
    HttpResponse r = ErrorResponse(InvalidArgumentError("the server does not support content type " + type));
    r.status = 415;
    return r;
  }
  std::string manager(request.Query("fieldManager").value_or(""));
  if (apply && manager.empty()) {
    return ErrorResponse(InvalidArgumentError("PATCH with apply requires the fieldManager parameter"));
  }
  const bool force = request.Query("force").value_or("") == "true";
  auto patch = DecodeBody(request);
  if (!patch.ok()) return BodyError(patch.status());
  const bool status_only = ri.subresource == "status";
  std::string now = core::FormatRfc3339(clock_.Now());
  std::string key = info.Key(info.namespaced ? ri.ns : "", ri.name);
  bool create = false;
  json old;
  auto stored = store_.Apply(key, [&](const StoredObject* current, int64_t rv) -> Result<Write> {
    if (!current) {
      if (!apply) return NotFoundFor(subject);
      create = true;  // server-side apply creates; done below through Create
      return Write{Write::Kind::kNoop, ""};
    }
    json cur = json::parse(*current->json, nullptr, false);
    old = cur;
    Result<json> next = InternalError("unreachable");
    if (type == "application/json-patch+json") {
      next = core::ApplyJsonPatch(cur, *patch);
      if (!next.ok() && core::IsJsonPatchTestFailure(next.status())) {
        return FailedPreconditionError(std::string(next.status().message()));
      }
    } else if (type == "application/merge-patch+json") {
      next = core::ApplyMergePatch(cur, *patch);
    } else if (type == "application/strategic-merge-patch+json") {
      next = core::ApplyStrategicMergePatch(cur, *patch, schema);
    } else {
      std::vector<core::ApplyConflict> conflicts;
      auto applied = core::ServerSideApply(&cur, *patch, manager, force, schema, now, &conflicts);
      if (!applied.ok()) return applied.status();
      next = std::move(applied->object);
    }
    if (!next.ok()) return next.status();
    if (!apply) {
      auto tracked = core::UpdateManagedFields(&cur, *next, manager.empty() ? "unknown" : manager,
                                               schema, "Update", now);
      if (tracked.ok()) next = std::move(*tracked);
    }
    return ReplaceObject(info, *current, std::move(*next), status_only, rv, subject);
  });
  if (create) {
    auto applied = core::ServerSideApply(nullptr, *patch, manager, force, schema, now, nullptr);
    if (!applied.ok()) return ErrorResponse(applied.status(), subject);
    HttpRequest create_request = request;
    create_request.headers["content-type"] = "application/json";
    json obj = std::move(applied->object);
    Meta(obj)["name"] = ri.name;
    create_request.body = obj.dump();
    RequestInfo cri = ri;
    cri.name.clear();
    return Create(info, cri, create_request);
  }
  if (!stored.ok()) return ErrorResponse(stored.status(), subject);
  json result = Present(info, *stored->json);
  if (info.kind == "CustomResourceDefinition") OnCrdWrite(&result, &old);
  return Json(200, result);
}

Result<StoredObject> ApiHandler::DeleteKey(const ResourceInfo& info, const std::string& key,
                                           const ErrorSubject& subject, const json& options) {
  std::string want_uid, want_rv;
  if (options.is_object() && options.contains("preconditions") && options["preconditions"].is_object()) {
    want_uid = options["preconditions"].value("uid", "");
    want_rv = options["preconditions"].value("resourceVersion", "");
  }
  return store_.Apply(key, [&](const StoredObject* current, int64_t rv) -> Result<Write> {
    if (!current) return NotFoundFor(subject);
    json cur = json::parse(*current->json, nullptr, false);
    if (!want_uid.empty() && cur["metadata"].value("uid", "") != want_uid) {
      return ConflictFor(subject);
    }
    if (!want_rv.empty() && want_rv != std::to_string(current->rv)) return ConflictFor(subject);
    cur["metadata"]["resourceVersion"] = std::to_string(rv);
    if (HasFinalizers(cur)) {
      if (IsTerminating(cur)) return Write{Write::Kind::kNoop, ""};
      cur["metadata"]["deletionTimestamp"] = core::FormatRfc3339(clock_.Now());
      cur["metadata"]["deletionGracePeriodSeconds"] = 0;
      return Write{Write::Kind::kPut, cur.dump()};
    }
    (void)info;
    return Write{Write::Kind::kDelete, cur.dump()};
  });
}

HttpResponse ApiHandler::Delete(const ResourceInfo& info, const RequestInfo& ri,
                                const HttpRequest& request) {
  json options = request.body.empty() ? json::object() : json::parse(request.body, nullptr, false);
  ErrorSubject subject{info.group, info.resource, ri.name};
  auto deleted = DeleteKey(info, info.Key(info.namespaced ? ri.ns : "", ri.name), subject, options);
  if (!deleted.ok()) return ErrorResponse(deleted.status(), subject);
  json result = Present(info, *deleted->json);
  if (info.kind == "CustomResourceDefinition" && !IsTerminating(result)) OnCrdWrite(nullptr, &result);
  if (info.kind == "Namespace" && info.group.empty()) {
    // The namespace controller's job, done inline: delete everything in the namespace.
    for (const auto& r : registry_.All()) {
      if (!r.namespaced || !r.storage) continue;
      for (const auto& o : store_.List(r.KeyPrefix() + ri.name + "/", "", 0).items) {
        json j = json::parse(*o.json, nullptr, false);
        DeleteKey(r, o.key, {r.group, r.resource, object::Name(j)}, json::object()).status().IgnoreError();
      }
    }
    if (IsTerminating(result)) {
      // Namespaces carry the "kubernetes" finalizer in spec, not metadata: finish the delete.
      DeleteKey(info, info.Key("", ri.name), subject, json::object()).status().IgnoreError();
    }
  }
  return Json(200, result);
}

HttpResponse ApiHandler::DeleteCollection(const ResourceInfo& info, const RequestInfo& ri,
                                          const HttpRequest& request) {
  std::string prefix = info.KeyPrefix() + (info.namespaced && !ri.ns.empty() ? ri.ns + "/" : "");
  core::LabelSelector selector = core::LabelSelector::Everything();
  if (auto ls = request.Query("labelSelector"); ls && !ls->empty()) {
    auto parsed = core::LabelSelector::Parse(*ls);
    if (!parsed.ok()) return ErrorResponse(parsed.status());
    selector = *parsed;
  }
  json items = json::array();
  for (const auto& o : store_.List(prefix, "", 0).items) {
    json j = json::parse(*o.json, nullptr, false);
    if (!selector.Matches(object::Labels(j))) continue;
    auto deleted = DeleteKey(info, o.key, {info.group, info.resource, object::Name(j)}, json::object());
    if (deleted.ok()) items.push_back(Present(info, *deleted->json));
  }
  return Json(200, {{"kind", info.ListKind()}, {"apiVersion", info.GroupVersion()},
                    {"metadata", json::object()}, {"items", items}});
}

HttpResponse ApiHandler::Bind(const ResourceInfo& info, const RequestInfo& ri,
                              const HttpRequest& request) {
  auto body = DecodeBody(request);
  if (!body.ok()) return ErrorResponse(body.status());
  std::string node = body->contains("target") ? (*body)["target"].value("name", "") : "";
  ErrorSubject subject{info.group, info.resource, ri.name};
  if (node.empty()) return ErrorResponse(Invalid(info, ri.name, "target.name: Required value"));
  auto stored = store_.Apply(info.Key(ri.ns, ri.name), [&](const StoredObject* current, int64_t rv) -> Result<Write> {
    if (!current) return NotFoundFor(subject);
    json pod = json::parse(*current->json, nullptr, false);
    std::string bound = object::FieldValue(pod, "spec.nodeName");
    if (!bound.empty()) {
      return AbortedError("Operation cannot be fulfilled on pods/binding \"" + ri.name +
                          "\": pod " + ri.name + " is already assigned to node \"" + bound + "\"");
    }
    if (IsTerminating(pod)) return ConflictFor(subject);
    pod["spec"]["nodeName"] = node;
    json& conditions = pod["status"]["conditions"];
    if (!conditions.is_array()) conditions = json::array();
    json kept = json::array();
    for (const auto& c : conditions) {
      if (c.value("type", "") != "PodScheduled") kept.push_back(c);
    }
    conditions = std::move(kept);
    conditions.push_back({{"type", "PodScheduled"}, {"status", "True"},
                          {"lastTransitionTime", core::FormatRfc3339(clock_.Now())}});
    pod["metadata"]["resourceVersion"] = std::to_string(rv);
    return Write{Write::Kind::kPut, pod.dump()};
  });
  if (!stored.ok()) return ErrorResponse(stored.status(), subject);
  return Json(201, {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()},
                    {"status", "Success"}, {"code", 201}});
}

HttpResponse ApiHandler::Evict(const ResourceInfo& info, const RequestInfo& ri,
                               const HttpRequest&) {
  // PodDisruptionBudgets are enforced by the disruption controller work (provisioner issue);
  // until then an eviction deletes the pod as a delete would.
  ErrorSubject subject{info.group, info.resource, ri.name};
  auto deleted = DeleteKey(info, info.Key(ri.ns, ri.name), subject, json::object());
  if (!deleted.ok()) return ErrorResponse(deleted.status(), subject);
  return Json(201, {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()},
                    {"status", "Success"}, {"code", 201}});
}

void ApiHandler::OnCrdWrite(const json* crd, const json* old_crd) {
  if (old_crd) {
    auto old_infos = Registry::FromCrd(*old_crd);
    if (old_infos.ok() && !old_infos->empty()) {
      registry_.Remove(old_infos->front().group, old_infos->front().resource);
    }
  }
  if (!crd) return;
  auto infos = Registry::FromCrd(*crd);
  if (!infos.ok()) return;
  for (auto& info : *infos) registry_.Add(std::move(info));
}

}  // namespace gpufleet::apiserver
