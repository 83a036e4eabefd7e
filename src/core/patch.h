// Patch: the four PATCH semantics of the Kubernetes API server as pure functions on JSON values
// (JSON merge patch, JSON patch, strategic merge patch, server-side apply) plus managedFields
// bookkeeping for ordinary writes. The embedded API server calls these from its PATCH, PUT and
// POST handlers; nothing here touches storage, time or the network.
//
// Every function is thread-compatible, never throws, and leaves its inputs unchanged.
//
// Error codes, and the HTTP status the API server answers with for each (upstream's mapping in
// k8s.io/apiserver/pkg/endpoints/handlers/patch.go for the same failure):
//   kInvalidArgument -> 400 BadRequest. The patch document is malformed: a JSON patch that is
//       not an array of objects; a strategic patch that is not an object or has a bad
//       $setElementOrder/$retainKeys/$deleteFromPrimitiveList directive; an apply configuration
//       that sets managedFields or has a keyed list item without its key.
//   kFailedPrecondition -> 422 Unprocessable Entity. A well-formed patch that cannot be applied
//       to this object. Upstream answers 422 for every failure inside jsonpatch Apply (a failed
//       "test", a missing path, an index out of range, an unknown "op") and for a strategic patch
//       holding lists of lists. IsJsonPatchTestFailure() tells a failed "test" apart.
//   kOutOfRange -> 413 RequestEntityTooLarge: more than kMaxJsonPatchOperations operations.
//   kUnimplemented -> 415 UnsupportedMediaType: strategic merge patch on a custom resource.
//   kAborted -> 409 Conflict: server-side apply conflicts (message in upstream's words).
//   kInternal -> 500: stored managedFields that cannot be decoded (a bug elsewhere).
// Strategic merge errors upstream leaves unclassified (no merge key in an element, an unknown
// $patch value, mixed element types) reach upstream's clients as 500; here they are
// kInvalidArgument (400), because the patch is at fault.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace gpufleet::core {

// ---------------------------------------------------------------------------------------------
// JSON merge patch (RFC 7386, application/merge-patch+json).

// Objects merge recursively, null deletes a member, arrays and scalars replace. A patch that is not
// an object replaces the whole document (RFC 7386 section 2; upstream's evanphx/json-patch v4
// instead rejects null and scalar patches with 400 "Invalid JSON Patch"). Unlike evanphx v4, null
// elements inside arrays are kept, as the RFC says. Never fails today; Result for uniformity.
Result<nlohmann::json> ApplyMergePatch(const nlohmann::json& original, const nlohmann::json& patch);

// The merge patch that turns `original` into `modified` (evanphx CreateMergePatch): added and
// changed members, null for removed ones, arrays compared whole. Both must be objects
// (kInvalidArgument otherwise). ApplyMergePatch(original, result) == modified when `modified`
// holds no nulls.
Result<nlohmann::json> CreateTwoWayMergePatch(const nlohmann::json& original,
                                              const nlohmann::json& modified);

// ---------------------------------------------------------------------------------------------
// JSON patch (RFC 6902, application/json-patch+json).

// Upstream's limits: apiserver's maxJSONPatchOperations and the default JSONPatchMaxCopyBytes
// (= MaxRequestBodyBytes, 3 MiB) that bounds the growth "copy" operations may cause.
inline constexpr std::size_t kMaxJsonPatchOperations = 10000;
inline constexpr std::size_t kJsonPatchMaxCopyBytes = 3 * 1024 * 1024;

// Applies add, remove, replace, move, copy and test in order; all or nothing. Paths are JSON
// pointers (RFC 6901, "~1" is '/', "~0" is '~'); "-" appends to an array on add. Kept from the
// evanphx/json-patch v4 behaviour the API server has (clients rely on it): negative array indices
// count from the end, and "replace" of a missing object member adds it. Stricter than v4 where v4
// is lenient by accident: "value" is required for add/replace, "from" may not be a prefix of
// "path" on move.
// Errors: kInvalidArgument when `patch` is not an array of objects; kOutOfRange (413) above
// kMaxJsonPatchOperations; kFailedPrecondition (422) for any operation that fails, with a message
// naming the operation's index, op and path: `json patch operation 2 (test "/spec/replicas"):
// testing value /spec/replicas failed: test failed`.
Result<nlohmann::json> ApplyJsonPatch(const nlohmann::json& original, const nlohmann::json& patch);

// True for the status ApplyJsonPatch returns when a "test" operation did not match.
bool IsJsonPatchTestFailure(const Status& status);

// ---------------------------------------------------------------------------------------------
// Patch schema: per-field merge metadata for the built-in kinds, as data.

// Server-side apply's list semantics (the +listType marker).
enum class ListType { kAtomic, kSet, kMap };

// What upstream's struct tags say about one field. Strategic merge patch reads patchStrategy and
// patchMergeKey; server-side apply reads listType and listMapKey (with defaults for key fields
// the server defaults, such as a port's protocol).
struct FieldRule {
  bool merge = false;        // patchStrategy contains "merge" (lists merge, not replace).
  bool retain_keys = false;  // patchStrategy contains "retainKeys".
  bool replace = false;      // patchStrategy "replace": an object field is replaced whole.
  std::string merge_key;     // patchMergeKey; empty for lists of primitives.
  ListType list_type = ListType::kAtomic;
  std::vector<std::string> list_map_keys;              // For kMap; defaults to {merge_key}.
  std::map<std::string, nlohmann::json> key_defaults;  // Value a missing key field takes.

  // patchStrategy:"merge" patchMergeKey:<key>, +listType=map +listMapKey=<key>.
  static FieldRule MergeByKey(std::string key);
  // patchStrategy:"merge" on a list of primitives, +listType=set (e.g. metadata.finalizers).
  static FieldRule MergePrimitives();
  // patchStrategy:"retainKeys" on an object field (e.g. Deployment spec.strategy).
  static FieldRule RetainKeys();
};

// A table from field path to FieldRule. Paths name fields from the object root with '.', and "[]"
// steps into the items of a list: "spec.template.spec.containers[].ports". Fields without a rule
// get the defaults: objects merge member by member, lists are atomic (replaced whole).
// A value type; cheap enough to copy per request but meant to be built once and shared.
class PatchSchema {
 public:
  PatchSchema() = default;

  // Adds (or replaces) the rule for the field at `path`.
  PatchSchema& Add(std::string path, FieldRule rule);
  // Adds a rule for every field named `field_name` at any depth; exact paths win. For recursive
  // test types and for CRD-like schemas built by hand.
  PatchSchema& AddAnyDepth(std::string field_name, FieldRule rule);
  // Whether ApplyStrategicMergePatch accepts this kind (true for built-ins and hand-built schemas,
  // false for the schema ForKind returns for custom resources).
  PatchSchema& SetStrategicMergeSupported(bool supported);

  // The rule for the field at `path`, or nullptr. The pointer lives as long as the schema.
  const FieldRule* Find(std::string_view path) const;
  bool strategic_merge_supported() const { return strategic_merge_supported_; }

 private:
  std::map<std::string, FieldRule, std::less<>> rules_;
  std::map<std::string, FieldRule, std::less<>> any_depth_rules_;
  bool strategic_merge_supported_ = true;
};

// The schema for a kind by API group ("" for core) and kind. Built-in kinds that kubectl apply
// touches carry upstream's tags (k8s.io/api core/v1, apps/v1, batch/v1 types.go), including every
// pod spec under .spec (Pod), .spec.template.spec (Deployment, ReplicaSet, DaemonSet, StatefulSet,
// Job, ReplicationController, PodTemplate's .template.spec) and
// .spec.jobTemplate.spec.template.spec (CronJob). Note upstream has no merge key on tolerations
// (PodSpec) or taints (NodeSpec): both are atomic and replaced whole by a strategic patch. Any
// other (group, kind) is treated as a custom resource: metadata rules only and
// strategic_merge_supported() false.
PatchSchema ForKind(std::string_view group, std::string_view kind);

// ---------------------------------------------------------------------------------------------
// Strategic merge patch (application/strategic-merge-patch+json).

// k8s.io/apimachinery strategicpatch.StrategicMergeMapPatch as the server runs it: lists whose
// field has merge strategy merge element-wise by the merge key (primitive lists union), other lists
// and scalars replace, null deletes, and the directives
//   $patch: replace | delete  in an object (delete leaves {}), and
//   $patch: replace | delete  as a list element (delete removes every element with that key),
//   $setElementOrder/<field>, $retainKeys, $deleteFromPrimitiveList/<field>.
// Element order follows upstream: $setElementOrder, then patch order, then live order; elements new
// to the list come first unless $setElementOrder places them. "$patch: merge" is rejected as
// upstream does ("merging lists cannot yet be specified in the patch"; in an object "unknown patch
// type"). Values the patch inserts are stored as the typed decode upstream would leave them:
// directive keys and null members are dropped. Fields missing from the schema get the defaults
// (upstream errors on fields its Go struct lacks).
// Errors: kUnimplemented (415) unless schema.strategic_merge_supported(), with upstream's text
// "the body of the request was in an unknown format - accepted media types include:
// application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";
// kInvalidArgument when either document is not an object or the patch is malformed;
// kFailedPrecondition for lists of lists. See the mapping at the top of this file.
Result<nlohmann::json> ApplyStrategicMergePatch(const nlohmann::json& original,
                                                const nlohmann::json& patch,
                                                const PatchSchema& schema);

// The message of the 415 above.
inline constexpr std::string_view kStrategicMergeUnsupportedMessage =
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml";

// ---------------------------------------------------------------------------------------------
// Server-side apply and managedFields (sigs.k8s.io/structured-merge-diff semantics).
//
// Ownership is kept in metadata.managedFields entries {manager, operation ("Apply" | "Update"),
// apiVersion, time, fieldsType: "FieldsV1", fieldsV1} in upstream's FieldsV1 encoding: "f:<field>",
// "k:<json of the list-map keys>", "v:<json value>" for set items, "." for a node that is owned
// itself and also has owned children. An entry is identified by manager, operation and (for
// Update) apiVersion; entries are sorted as upstream sorts them (operation, time, manager).
//
// What is covered: maps merge member by member; lists with ListType kMap merge by their keys (with
// key defaults), kSet by value, everything else is atomic; an applier owns every leaf and list item
// of its configuration; fields it owned before and now omits are removed unless another manager
// owns them; a changed field owned by another manager (any operation) is a conflict unless
// `force`, which moves ownership; Update writes take ownership of what they change; fields
// apiVersion, kind, metadata.{name,namespace,uid,resourceVersion,generation,creationTimestamp,
// selfLink,managedFields} are never owned; an object that predates managedFields is first given
// to "before-first-apply"; managedFields: [{}] in an update clears them.
// Simplifications (documented, deliberate): no version conversion (entries of other apiVersions
// are compared as if they were the same version); no cap of 10 Update managers ("ancient-changes");
// no interplay with the last-applied-configuration annotation; no subresource argument (entries
// with a subresource are kept and printed, never created); the schema has no notion of struct vs
// map, so an empty object or list in an apply configuration is owned as a leaf and every object an
// Update creates is owned with "." (upstream does so only for maps and pointer structs).

// One field another manager owns that an apply would change.
struct ApplyConflict {
  std::string manager;  // Upstream's printing: "\"kubectl\"" or "\"kube-ctl\" using apps/v1".
  std::string field;    // Upstream's path: ".spec.containers[name=\"app\"].image".
};

struct ApplyResult {
  nlohmann::json object;          // The merged object, metadata.managedFields included.
  nlohmann::json managed_fields;  // Its metadata.managedFields (an array, maybe empty).
};

// Applies `applied` (the decoded apply-patch+yaml body) as `manager`. `live` is null when the
// object does not exist yet (apply creates it). `now` is the RFC 3339 time written to the entry
// ("" omits it). On conflict (kAborted) and when `conflicts` is not null, fills it with one item
// per conflicting field (for the 409's StatusCauses).
// Errors: kInvalidArgument when `applied` or `live` is not an object, `manager` is empty,
// `applied` sets metadata.managedFields, or a keyed list item lacks its key or repeats one;
// kAborted: "Apply failed with 1 conflict: conflict with \"kubectl\" using apps/v1:
// .spec.replicas" (upstream's wording, several conflicts grouped by manager); kInternal when the
// live managedFields cannot be decoded.
Result<ApplyResult> ServerSideApply(const nlohmann::json* live, const nlohmann::json& applied,
                                    std::string_view manager, bool force, const PatchSchema& schema,
                                    std::string_view now = {},
                                    std::vector<ApplyConflict>* conflicts = nullptr);

// managedFields bookkeeping for a non-apply write (POST, PUT, and PATCH of the other three types):
// returns `new_object` with metadata.managedFields updated so that `manager` (operation
// `operation`, normally "Update") owns what it changed relative to `old_object` (null on create).
// Managed fields the client sent in `new_object` are used when they decode, otherwise the old ones
// are kept; an existing object without managedFields stays untracked (as upstream). Never fails on
// odd data: like upstream's UpdateNoErrors, an object it cannot track comes back without
// managedFields. Errors: kInvalidArgument when `new_object` is not an object, `manager` is empty
// or `operation` is not "Update".
Result<nlohmann::json> UpdateManagedFields(const nlohmann::json* old_object,
                                           const nlohmann::json& new_object,
                                           std::string_view manager, const PatchSchema& schema,
                                           std::string_view operation = "Update",
                                           std::string_view now = {});

}  // namespace gpufleet::core
