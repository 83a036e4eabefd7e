// Table printers: the column definitions and row cells of each built-in kind (ports of
// pkg/printers/internalversion/printers.go), plus the field accessors and time helpers they share
// with table.cc. Internal to the apiserver module; the public API is apiserver/table.h.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace gpufleet::apiserver::table_internal {

using json = nlohmann::json;

// metav1.ObjectMeta's swagger text for the two columns every kind has.
inline constexpr const char* kNameDescription =
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name "
    "automatically. Name is primarily intended for creation idempotence and configuration "
    "definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
inline constexpr const char* kCreationDescription =
    "CreationTimestamp is a timestamp representing the server time when this object was "
    "created. It is not guaranteed to be set in happens-before order across separate "
    "operations. Clients may not set this value. It is represented in RFC3339 form and is in "
    "UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/"
    "api-conventions.md#metadata";

// Seconds from the Unix epoch to Go's zero time, 0001-01-01T00:00:00Z.
inline constexpr int64_t kGoZeroSeconds = -62135596800;

// A metav1.Time / MicroTime. Default-constructed it is Go's zero time (an absent field).
struct Timestamp {
  int64_t seconds = kGoZeroSeconds;
  int32_t nanos = 0;
  bool IsZero() const { return seconds == kGoZeroSeconds && nanos == 0; }
  bool Before(const Timestamp& o) const {
    return seconds < o.seconds || (seconds == o.seconds && nanos < o.nanos);
  }
};

// RFC 3339 ("2026-01-01T00:00:00Z", "...T01:00:00.5+01:00"); "" and "null" are the zero time.
// nullopt when malformed (metav1.Time's UnmarshalQueryParameter error).
std::optional<Timestamp> ParseTimestamp(std::string_view text);
// The timestamp held by a JSON string, or the zero time (absent, null, not a string, malformed).
Timestamp TimestampOf(const json* v);
// Go's t.UTC().Format(time.RFC3339): "2026-01-01T00:00:00Z".
std::string FormatRfc3339Utc(const Timestamp& t);
// printers.go translateTimestampSince: "<unknown>" for the zero time, else
// HumanDuration(now - t) (saturating like Go's Time.Sub).
std::string Since(const Timestamp& t, core::TimePoint now);

// obj[key] when obj is an object holding a non-null key, else nullptr (Go's nil/zero value).
const json* Get(const json* obj, std::string_view key);
const json* Get(const json* obj, std::initializer_list<std::string_view> path);
std::string Str(const json* v);  // the string, or ""
int64_t Int(const json* v);      // the integer (floats truncated), or 0
bool Bool(const json* v);        // the boolean, or false
size_t Count(const json* v);     // members of an object or array, else 0
// The array itself, or an empty array: safe to iterate and index whatever v is.
const json& Elements(const json* v);

// labels.FormatLabels: "a=b,c=d" sorted by key, "<none>" when empty.
std::string FormatLabels(const json* labels);
// metav1.FormatLabelSelector: "<none>" for nil or empty, "<error>" when invalid.
std::string FormatLabelSelector(const json* selector);
// metav1.LabelSelectorAsSelector(s).String(): "" for nil or empty, "<invalid>" when invalid.
std::string LabelSelectorString(const json* selector);
// printers.go layoutContainerCells: container names and images, each joined with ",".
std::pair<std::string, std::string> ContainerCells(const json* pod_spec);

struct Column {
  const char* name;
  const char* type;
  const char* format;
  const char* description;
  int priority;
};

struct RowContext {
  core::TimePoint now;
  std::string_view group;  // the API group the object was read through
};

// Appends one row's cells (and, for pods, row conditions) for obj.
using RowFn = void (*)(const json& obj, const RowContext& ctx, json* cells, json* conditions);

struct Printer {
  std::vector<Column> columns;
  RowFn row = nullptr;
};

// Keyed by group + "/" + kind ("/Pod", "apps/DaemonSet").
using PrinterMap = std::map<std::string, Printer, std::less<>>;

// Registration, one function per source file.
void AddCorePrinters(PrinterMap* printers);      // table_printers.cc
void AddWorkloadPrinters(PrinterMap* printers);  // table_printers_workloads.cc

// The printer of a built-in kind, or nullptr.
const Printer* FindPrinter(std::string_view group, std::string_view kind);

}  // namespace gpufleet::apiserver::table_internal
