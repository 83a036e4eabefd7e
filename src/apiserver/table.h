// Table: server-side printing. Converts API objects into a metav1 Table, the response kubectl
// asks for with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, so `kubectl get` prints
// real columns for built-in kinds and for CRDs (additionalPrinterColumns).
//
// Upstream behaviour reproduced (Kubernetes v1.32):
//  - Built-in kinds use the columns and cell rules of pkg/printers/internalversion/printers.go,
//    always generated as the API server does (GenerateOptions{Wide: true}): every column,
//    including priority > 0, is returned with its cell; kubectl hides priority > 0 columns unless
//    `-o wide`. Covered: Pod, Node, Namespace, Event (core/v1 and events.k8s.io/v1), ConfigMap,
//    Secret, ServiceAccount, Service, Endpoints, DaemonSet, Deployment, ReplicaSet, Lease,
//    PodDisruptionBudget, RoleBinding, ClusterRoleBinding.
//  - CRDs (ResourceInfo::from_crd) use apiextensions' table convertor: Name, then info.columns in
//    order, each cell evaluated with JsonPath (first match); a missing value is null; "date"
//    cells are human durations ("5m"), "integer"/"number"/"boolean" cells are typed, "string"
//    cells are client-go's JSONPath text. A non-CRD ResourceInfo with columns but no built-in
//    printer is treated alike.
//  - Every other kind (Role, ClusterRole, CustomResourceDefinition, ...) uses the default
//    convertor: Name and "Created At" (type date, an RFC 3339 UTC timestamp).
// Where upstream relies on values its API server defaults on create and gpufleet's store may
// not, the printer applies the same default: Pod phase Pending, Namespace phase Active, Secret
// type Opaque, Service type ClusterIP, port protocol TCP, Deployment/ReplicaSet replicas 1.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apiserver/registry.h"
#include "core/clock.h"
#include "core/status.h"

namespace gpufleet::apiserver {

// What each row's "object" holds (metav1.IncludeObjectPolicy, the ?includeObject= parameter).
enum class IncludeObject {
  kMetadata,  // a PartialObjectMetadata (the default, also what kubectl gets)
  kObject,    // the whole object (kubectl asks for this with --sort-by)
  kNone,      // null
};

// Parses ?includeObject=: "" and "Metadata", "Object", "None". InvalidArgument otherwise, with
// upstream's message (`unrecognized includeObject value: "x"`; upstream answers 400).
Result<IncludeObject> ParseIncludeObject(std::string_view value);

struct TableOptions {
  // Ages are computed against this instant (the handler passes its clock's Now()).
  core::TimePoint now{};
  IncludeObject include_object = IncludeObject::kMetadata;
  // metav1.TableOptions.noHeaders: columnDefinitions is null.
  bool no_headers = false;
  // The negotiated meta.k8s.io version, "v1" or "v1beta1": the Table's and the
  // PartialObjectMetadata's apiVersion.
  std::string version = "v1";
  // metadata of the Table: the list's resourceVersion (or, for a GET of one object, that
  // object's), continue token and remainingItemCount. Empty/unset fields are omitted.
  std::string resource_version;
  std::string continue_token;
  std::optional<int64_t> remaining_item_count;
};

// The Table for `objects` (items of a list, or the single object of a GET), of the resource
// `info`. Rows follow the order of `objects`; null pointers are skipped. Objects that are not
// JSON objects, or lack fields, yield the cells upstream prints for zero values ("<none>",
// "<unknown>", 0, null). Never fails or throws (other than std::bad_alloc); thread-compatible.
nlohmann::json ToTable(const ResourceInfo& info, const std::vector<const nlohmann::json*>& objects,
                       const TableOptions& opts);

// The columnDefinitions ToTable produces for `info` (each {name, type, format, description,
// priority}).
nlohmann::json TableColumnDefinitions(const ResourceInfo& info);

// k8s.io/apimachinery/pkg/util/duration.HumanDuration: "0s", "119s", "2m1s", "10m", "179m",
// "3h1m", "8h", "47h", "2d1h", "8d", "729d", "2y1d", "8y"; "<invalid>" below -1s.
std::string HumanDuration(core::Duration d);

}  // namespace gpufleet::apiserver
