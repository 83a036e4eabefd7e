// Client: the dynamic Kubernetes client. Any resource by group/version/resource, objects as JSON,
// over a Transport (which limits, authenticates and retries). A Kubernetes Status answer becomes
// an error whose code says what happened, so controllers branch on codes, not strings:
//   NotFound → kNotFound          AlreadyExists → kAlreadyExists   Conflict → kAborted
//   BadRequest, Invalid → kInvalidArgument   Expired/Gone (410) → kOutOfRange (relist)
//   Unauthorized → kUnauthenticated   Forbidden → kPermissionDenied   TooManyRequests → kResourceExhausted
//   MethodNotAllowed, UnsupportedMediaType → kUnimplemented   Timeout → kDeadlineExceeded
//   ServiceUnavailable → kUnavailable   anything else → kInternal
// The message is the server's, followed by "(HTTP <code> <reason>)".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/status.h"
#include "kube/transport.h"

namespace gpufleet::kube {

struct Gvr {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string resource;  // plural: "pods"
  bool namespaced = true;
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;               // 0: everything in one response
  std::string continue_token;
  std::string resource_version;    // "0": any cached state is fine (informers' first list)
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;    // watch changes after this version
  bool allow_bookmarks = true;
  int64_t timeout_seconds = 0;     // server-side end of the watch; 0: the server's default
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string precondition_uid;
  std::string precondition_resource_version;
  std::string propagation_policy;  // Foreground | Background | Orphan
};

enum class PatchType { kMerge, kJsonPatch, kStrategicMerge, kApply };

struct PatchOptions {
  std::string field_manager;  // required for kApply
  bool force = false;         // kApply: take ownership of conflicting fields
};

// A watch event: type is ADDED, MODIFIED, DELETED or BOOKMARK; `object` is the object (for a
// bookmark only its metadata.resourceVersion matters).
struct WatchEvent {
  std::string type;
  nlohmann::json object;
};

class Client {
 public:
  explicit Client(Transport& transport) : transport_(transport) {}

  Result<nlohmann::json> Get(const Gvr& gvr, std::string_view ns, std::string_view name);
  // One page (or everything when options.limit is 0).
  Result<nlohmann::json> List(const Gvr& gvr, std::string_view ns, const ListOptions& options);
  // Every page, following continue tokens; the result is one List whose metadata.resourceVersion
  // is the last page's. An expired continue token is kOutOfRange (relist from scratch).
  Result<nlohmann::json> ListAll(const Gvr& gvr, std::string_view ns, ListOptions options);
  Result<nlohmann::json> Create(const Gvr& gvr, std::string_view ns, const nlohmann::json& object);
  // PUT of `object` (its metadata.name; its metadata.resourceVersion makes it conditional).
  Result<nlohmann::json> Update(const Gvr& gvr, std::string_view ns, const nlohmann::json& object);
  Result<nlohmann::json> UpdateStatus(const Gvr& gvr, std::string_view ns, const nlohmann::json& object);
  Result<nlohmann::json> Patch(const Gvr& gvr, std::string_view ns, std::string_view name,
                               PatchType type, const nlohmann::json& patch,
                               const PatchOptions& options = {}, std::string_view subresource = "");
  // The deleted object, or the object now terminating (finalizers, graceful pod deletion).
  Result<nlohmann::json> Delete(const Gvr& gvr, std::string_view ns, std::string_view name,
                                const DeleteOptions& options = {});
  // pods/eviction: kResourceExhausted when a PodDisruptionBudget forbids it now (retry later).
  Status Evict(std::string_view ns, std::string_view pod, const DeleteOptions& options = {});
  // pods/binding: assigns `pod` to `node` once (kAborted if it is already bound).
  Status Bind(std::string_view ns, std::string_view pod, std::string_view node);

  // Streams events to `on_event` until the server ends the watch (OK), `on_event` returns false
  // (OK), `stop` is requested (kCancelled), or an error: kOutOfRange when the resourceVersion is
  // too old (410, or an ERROR event carrying 410: the caller relists), kInvalidArgument for a
  // malformed event, the transport's errors otherwise.
  Status Watch(const Gvr& gvr, std::string_view ns, const WatchOptions& options,
               const std::function<bool(WatchEvent&)>& on_event, std::stop_token stop = {});

  // "/api/v1/namespaces/ns/pods/name/status" for the given parts ("" parts are left out).
  static std::string Path(const Gvr& gvr, std::string_view ns, std::string_view name = "",
                          std::string_view subresource = "");

 private:
  Result<nlohmann::json> Call(Request request);
  Transport& transport_;
};

// client-go's retry.RetryOnConflict: runs `attempt` (which should GET, modify and UPDATE) again
// while it fails with kAborted (409 Conflict), up to `steps` times, waiting 10 ms, 20 ms, ...
// (DefaultRetry: 5 steps, 10 ms doubling, 10 % jitter) on `clock`. Other results end it.
Status RetryOnConflict(core::Clock& clock, const std::function<Status()>& attempt, int steps = 5);

// The Status a non-2xx answer stands for (see the table above).
Status StatusFromResponse(const Response& response);

// metadata.<field> of an object or a List ("name", "resourceVersion", "continue") when it is a
// string, else "" (a malformed answer must not throw).
std::string MetadataString(const nlohmann::json& list, std::string_view field);

// Percent-encodes a query parameter value (RFC 3986 unreserved characters kept).
std::string QueryEscape(std::string_view value);

}  // namespace gpufleet::kube
