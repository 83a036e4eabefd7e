// create, update (incl. /status), patch, delete, deletecollection, binding and eviction.
#include <string>

#include "apiserver/api_handler.h"
#include "apiserver/protobuf_body.h"
#include "core/label_selector.h"
#include "core/labels.h"
#include "core/node_selector_requirement.h"
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

// Decodes a request body as JSON (or YAML, which the API server also accepts) or, for the kinds
// kubectl's typed commands send that way, Kubernetes protobuf. Unimplemented (answered 415) for
// CBOR and for protobuf this server cannot decode; InvalidArgument (400) for malformed bodies.
Result<json> DecodeBody(const HttpRequest& r) {
  std::string type = MediaType(r);
  if (type == "application/vnd.kubernetes.protobuf") return DecodeProtobufBody(r.body);
  if (type == "application/cbor") {
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
  // Compared member by member: copying two whole objects to drop two keys cost more than the rest
  // of an update.
  auto content = [](const json& j) {
    size_t n = 0;
    for (const auto& [key, value] : j.items()) n += key != "metadata" && key != "status";
    return n;
  };
  if (content(a) != content(b)) return true;
  for (const auto& [key, value] : a.items()) {
    if (key == "metadata" || key == "status") continue;
    auto other = b.find(key);
    if (other == b.end() || *other != value) return true;
  }
  return false;
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
  if (info.group.empty() && info.kind == "Secret" && !obj.contains("type")) obj["type"] = "Opaque";
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
    if (ns->json->find("\"deletionTimestamp\"") != std::string::npos &&
        IsTerminating(json::parse(*ns->json, nullptr, false))) {
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
  md["resourceVersion"] = object::RvPlaceholder();
  PrepareForCreate(info, obj);
  ErrorSubject subject{info.group, info.resource, name};
  const std::string text = obj.dump();
  auto stored = ApplyOptimistic(info.Key(info.namespaced ? ri.ns : "", name),
                                [&](const StoredObject* current) -> Result<Write> {
                                  if (current) return AlreadyExistsFor(subject);
                                  return Write{Write::Kind::kPut, text};
                                });
  if (!stored.ok()) return ErrorResponse(stored.status(), subject);
  if (info.kind == "CustomResourceDefinition") {
    json result = Present(info, *stored->json);
    OnCrdWrite(&result, nullptr);
    return Json(201, result);
  }
  return StoredResponse(201, info, *stored);
}

Result<StoredObject> ApiHandler::ApplyOptimistic(const std::string& key, const Compute& compute) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    auto snapshot = store_.Get(key);
    const StoredObject* base = snapshot.ok() ? &*snapshot : nullptr;
    const int64_t base_rv = base ? base->rv : 0;
    GF_ASSIGN_OR_RETURN(Write write, compute(base));
    bool stale = false;
    auto stored = store_.Apply(key, [&](const StoredObject* current, int64_t rv) -> Result<Write> {
      if ((current ? current->rv : 0) != base_rv) {
        stale = true;
        return AbortedError("stale snapshot");
      }
      if (write.kind != Write::Kind::kNoop) GF_RETURN_IF_ERROR(object::StampRv(write.json, rv));
      return std::move(write);
    });
    if (!stale) return stored;
  }
  return AbortedError("too many concurrent writes to " + key + "; try again");
}

HttpResponse ApiHandler::StoredResponse(int status, const ResourceInfo& info,
                                        const StoredObject& stored) const {
  if (!stored.json->starts_with(object::ServedPrefix(info))) {
    return Json(status, Present(info, *stored.json));
  }
  HttpResponse r;
  r.status = status;
  r.body = *stored.json;
  return r;
}

// Shared by update and patch: replaces the object (or its status) with `next` computed from the
// current object, enforcing optimistic concurrency, server-owned fields and finalizers.
// `cur` is the parsed `current`.
static Result<Write> ReplaceObject(const ResourceInfo& info, const StoredObject& current,
                                   const json& cur, json next, bool status_only,
                                   const ErrorSubject& subject) {
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
  md["resourceVersion"] = object::RvPlaceholder();
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
  auto stored = ApplyOptimistic(info.Key(info.namespaced ? ri.ns : "", ri.name),
                                [&](const StoredObject* current) -> Result<Write> {
                                  if (!current) return NotFoundFor(subject);
                                  old = json::parse(*current->json, nullptr, false);
                                  return ReplaceObject(info, *current, old, *body, status_only, subject);
                                });
  if (!stored.ok()) return ErrorResponse(stored.status(), subject);
  if (info.kind != "CustomResourceDefinition") return StoredResponse(200, info, *stored);
  json result = Present(info, *stored->json);
  OnCrdWrite(&result, &old);
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
  const bool force = request.QueryFlag("force");
  auto patch = DecodeBody(request);
  if (!patch.ok()) return BodyError(patch.status());
  const bool status_only = ri.subresource == "status";
  std::string now = core::FormatRfc3339(clock_.Now());
  std::string key = info.Key(info.namespaced ? ri.ns : "", ri.name);
  bool create = false;
  json old;
  auto stored = ApplyOptimistic(key, [&](const StoredObject* current) -> Result<Write> {
    if (!current) {
      if (!apply) return NotFoundFor(subject);
      create = true;  // server-side apply creates; done below through Create
      return Write{Write::Kind::kNoop, ""};
    }
    json cur = json::parse(*current->json, nullptr, false);
    if (info.kind == "CustomResourceDefinition") old = cur;
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
    return ReplaceObject(info, *current, cur, std::move(*next), status_only, subject);
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
  if (info.kind != "CustomResourceDefinition") return StoredResponse(200, info, *stored);
  json result = Present(info, *stored->json);
  OnCrdWrite(&result, &old);
  return Json(200, result);
}

// The grace period a pod delete gets, as kube-apiserver's pod strategy decides it: the request's
// gracePeriodSeconds, else spec.terminationGracePeriodSeconds (default 30); zero for pods no
// kubelet runs (unscheduled) or that already finished.
static int64_t PodGracePeriod(const json& pod, std::optional<int64_t> requested) {
  if (object::FieldValue(pod, "spec.nodeName").empty()) return 0;
  std::string phase = object::FieldValue(pod, "status.phase");
  if (phase == "Succeeded" || phase == "Failed") return 0;
  if (requested && *requested >= 0) return *requested;
  const json& spec = pod["spec"];  // an object: spec.nodeName was found in it above
  auto declared = spec.find("terminationGracePeriodSeconds");
  if (declared != spec.end() && declared->is_number_integer() && declared->get<int64_t>() >= 0) {
    return declared->get<int64_t>();
  }
  return 30;
}

Result<StoredObject> ApiHandler::DeleteKey(const ResourceInfo& info, const std::string& key,
                                           const ErrorSubject& subject, const json& options) {
  std::string want_uid, want_rv;
  std::optional<int64_t> requested_grace;
  if (options.is_object()) {
    if (options.contains("preconditions") && options["preconditions"].is_object()) {
      want_uid = options["preconditions"].value("uid", "");
      want_rv = options["preconditions"].value("resourceVersion", "");
    }
    if (options.contains("gracePeriodSeconds") && options["gracePeriodSeconds"].is_number_integer()) {
      requested_grace = options["gracePeriodSeconds"].get<int64_t>();
    }
  }
  const bool graceful_kind = info.group.empty() && info.kind == "Pod";
  return ApplyOptimistic(key, [&](const StoredObject* current) -> Result<Write> {
    if (!current) return NotFoundFor(subject);
    json cur = json::parse(*current->json, nullptr, false);
    if (!want_uid.empty() && cur["metadata"].value("uid", "") != want_uid) {
      return ConflictFor(subject);
    }
    if (!want_rv.empty() && want_rv != std::to_string(current->rv)) return ConflictFor(subject);
    json& md = cur["metadata"];
    md["resourceVersion"] = object::RvPlaceholder();
    const int64_t grace = graceful_kind ? PodGracePeriod(cur, requested_grace) : 0;
    if (IsTerminating(cur)) {
      // A second delete can only shorten a pod's grace period; a zero one (--force) removes it
      // unless finalizers still hold it.
      const int64_t left = md.value("deletionGracePeriodSeconds", int64_t{0});
      if (!graceful_kind || grace >= left) return Write{Write::Kind::kNoop, ""};
      if (grace == 0 && !HasFinalizers(cur)) return Write{Write::Kind::kDelete, cur.dump()};
    } else if (grace == 0 && !HasFinalizers(cur)) {
      return Write{Write::Kind::kDelete, cur.dump()};
    }
    // Terminating: the kubelet (pods) or the finalizers' owners finish the delete.
    md["deletionTimestamp"] = core::FormatRfc3339(clock_.Now() + std::chrono::seconds(grace));
    md["deletionGracePeriodSeconds"] = grace;
    return Write{Write::Kind::kPut, cur.dump()};
  });
}

HttpResponse ApiHandler::Delete(const ResourceInfo& info, const RequestInfo& ri,
                                const HttpRequest& request) {
  json options = json::object();
  if (!request.body.empty()) {
    auto decoded = DecodeBody(request);  // JSON, YAML or protobuf DeleteOptions
    if (!decoded.ok()) return BodyError(decoded.status());
    if (!decoded->is_object()) {
      return ErrorResponse(InvalidArgumentError("the body of a delete must be DeleteOptions"));
    }
    options = std::move(*decoded);
  }
  if (auto grace = request.Query("gracePeriodSeconds"); grace && !grace->empty()) {
    auto n = core::ParseInt64(*grace);
    if (!n) return ErrorResponse(InvalidArgumentError("invalid gracePeriodSeconds \"" + std::string(*grace) + "\""));
    options["gracePeriodSeconds"] = *n;
  }
  ErrorSubject subject{info.group, info.resource, ri.name};
  auto deleted = DeleteKey(info, info.Key(info.namespaced ? ri.ns : "", ri.name), subject, options);
  if (!deleted.ok()) return ErrorResponse(deleted.status(), subject);
  json result = Present(info, *deleted->json);
  if (info.kind == "CustomResourceDefinition" && !IsTerminating(result)) OnCrdWrite(nullptr, &result);
  if (info.kind == "Namespace" && info.group.empty()) {
    // The namespace controller's job, done inline: delete everything in the namespace.
    for (const auto& r : registry_.All()) {
      if (!r.namespaced || !r.storage) continue;
      // Simplification: contents go at once (pods too, without their grace period), where
      // kube's namespace controller waits for them before removing the namespace.
      for (const auto& o : store_.List(r.KeyPrefix() + ri.name + "/", "", 0).items) {
        json j = json::parse(*o.json, nullptr, false);
        DeleteKey(r, o.key, {r.group, r.resource, object::Name(j)}, {{"gracePeriodSeconds", 0}})
            .status()
            .IgnoreError();
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
  if (!body.ok()) return BodyError(body.status());
  std::string node = body->contains("target") ? (*body)["target"].value("name", "") : "";
  ErrorSubject subject{info.group, info.resource, ri.name};
  if (node.empty()) return ErrorResponse(Invalid(info, ri.name, "target.name: Required value"));
  auto stored = ApplyOptimistic(info.Key(ri.ns, ri.name), [&](const StoredObject* current) -> Result<Write> {
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
    pod["metadata"]["resourceVersion"] = object::RvPlaceholder();
    return Write{Write::Kind::kPut, pod.dump()};
  });
  if (!stored.ok()) return ErrorResponse(stored.status(), subject);
  return Json(201, {{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()},
                    {"status", "Success"}, {"code", 201}});
}

// Checks the pod's PodDisruptionBudgets as the eviction subresource does. There is no disruption
// controller keeping status.disruptionsAllowed current, so it is computed here from the pods
// the budget selects: healthy = Running with Ready=True and not terminating; expected = all
// selected pods. Not atomic with the delete (kube-apiserver serialises through the PDB's
// resourceVersion): two concurrent evictions can both pass the last allowed disruption.
Status ApiHandler::CheckDisruptionBudgets(const std::string& ns, const json& pod) {
  std::string phase = object::FieldValue(pod, "status.phase");
  // Pods that are not running disrupt nothing.
  if (phase == "Pending" || phase == "Succeeded" || phase == "Failed") return OkStatus();
  auto pdbs = registry_.Find("policy", "v1", "poddisruptionbudgets");
  auto pods = registry_.Find("", "v1", "pods");
  if (!pdbs.ok() || !pods.ok()) return OkStatus();
  std::vector<json> budgets;
  for (const auto& o : store_.List(pdbs->KeyPrefix() + ns + "/", "", 0).items) {
    json pdb = json::parse(*o.json, nullptr, false);
    if (!pdb.is_object() || !pdb.contains("spec") || !pdb["spec"].contains("selector")) continue;
    auto selector = core::LabelSelector::FromJson(pdb["spec"]["selector"], "spec.selector");
    if (selector.ok() && selector->Matches(object::Labels(pod))) budgets.push_back(std::move(pdb));
  }
  if (budgets.empty()) return OkStatus();
  if (budgets.size() > 1) {
    return InternalError("This pod has more than one PodDisruptionBudget, which the eviction "
                         "subresource does not support.");
  }
  const json& spec = budgets[0]["spec"];
  auto selector = core::LabelSelector::FromJson(spec["selector"], "spec.selector");
  int64_t expected = 0, healthy = 0;
  for (const auto& o : store_.List(pods->KeyPrefix() + ns + "/", "", 0).items) {
    json p = json::parse(*o.json, nullptr, false);
    if (!selector->Matches(object::Labels(p))) continue;
    ++expected;
    bool ready = false;
    if (p.contains("status") && p["status"].contains("conditions") && p["status"]["conditions"].is_array()) {
      for (const auto& c : p["status"]["conditions"]) {
        ready = ready || (c.value("type", "") == "Ready" && c.value("status", "") == "True");
      }
    }
    if (ready && !IsTerminating(p) && object::FieldValue(p, "status.phase") == "Running") ++healthy;
  }
  // minAvailable / maxUnavailable: an integer or a percentage of the expected pods, rounded up.
  auto amount = [&](const json& v) -> int64_t {
    if (v.is_number_integer()) return v.get<int64_t>();
    std::string text = v.is_string() ? v.get<std::string>() : "";
    if (!text.empty() && text.back() == '%') {
      auto pct = core::ParseInt64(text.substr(0, text.size() - 1));
      return pct ? (*pct * expected + 99) / 100 : 0;
    }
    return core::ParseInt64(text).value_or(0);
  };
  int64_t desired = spec.contains("minAvailable") ? amount(spec["minAvailable"])
                    : spec.contains("maxUnavailable") ? expected - amount(spec["maxUnavailable"])
                                                      : 1;
  if (healthy - desired > 0) return OkStatus();
  return ResourceExhaustedError("Cannot evict pod as it would violate the pod's disruption budget. "
                                "The disruption budget " + object::Name(budgets[0]) + " needs " +
                                std::to_string(desired) + " healthy pods and has " +
                                std::to_string(healthy) + " currently");
}

HttpResponse ApiHandler::Evict(const ResourceInfo& info, const RequestInfo& ri,
                               const HttpRequest& request) {
  ErrorSubject subject{info.group, info.resource, ri.name};
  json options = json::object();
  if (!request.body.empty()) {
    auto eviction = DecodeBody(request);
    if (!eviction.ok()) return BodyError(eviction.status());
    if (eviction->is_object() && eviction->contains("deleteOptions") && (*eviction)["deleteOptions"].is_object()) {
      options = (*eviction)["deleteOptions"];
    }
  }
  auto pod = store_.Get(info.Key(ri.ns, ri.name));
  if (!pod.ok()) return ErrorResponse(NotFoundFor(subject), subject);
  json current = json::parse(*pod->json, nullptr, false);
  if (!IsTerminating(current)) {
    if (Status budget = CheckDisruptionBudgets(ri.ns, current); !budget.ok()) {
      HttpResponse r = ErrorResponse(budget, subject);
      if (budget.code() == StatusCode::kResourceExhausted) {
        // kubectl drain and Karpenter retry on 429 and print the cause.
        json body = json::parse(r.body);
        body["reason"] = "TooManyRequests";
        body["details"] = {{"causes", {{{"reason", "DisruptionBudget"},
                                        {"message", "The disruption budget needs more healthy pods"}}}}};
        r.body = body.dump();
      }
      return r;
    }
  }
  auto deleted = DeleteKey(info, info.Key(ri.ns, ri.name), subject, options);
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
