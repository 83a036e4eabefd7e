// Helpers of the strategic merge patch (patch_strategic.cc): upstream's error texts, Go kind
// checks, cleaning of inserted values, and the list ordering rules of strategicpatch
// (normalizeElementOrder, mergeSortedSlice, $setElementOrder validation). Internal to
// src/core/patch_strategic*.cc; errors are thrown as SmpError and caught at the API boundary.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace gpufleet::core::smp_internal {

using json = nlohmann::json;

inline constexpr std::string_view kDirectiveMarker = "$patch";
inline constexpr std::string_view kRetainKeysDirective = "$retainKeys";
inline constexpr std::string_view kDeletePrefix = "$deleteFromPrimitiveList";
inline constexpr std::string_view kOrderPrefix = "$setElementOrder";

// mergepatch's sentinel errors; upstream answers 400 for these and 422 for lists of lists.
inline constexpr std::string_view kErrPrimitiveList = "invalid patch format of primitive list";
inline constexpr std::string_view kErrRetainKeys = "invalid patch format of retainKeys";
inline constexpr std::string_view kErrSetElementOrder =
    "invalid patch format of setElementOrder list";
inline constexpr std::string_view kErrNoListOfLists = "lists of lists are not supported";

// Thrown inside the merge and turned into a Status at the API boundary.
struct SmpError {
  StatusCode code;
  std::string message;
};

[[noreturn]] void Fail(std::string_view message, StatusCode code = StatusCode::kInvalidArgument);
// mergepatch.ErrBadArgType: "expected a <expected>, but received a <Go type of actual>".
[[noreturn]] void FailBadArgType(std::string_view expected, const json& actual);
// mergepatch.ErrNoMergeKey.
[[noreturn]] void FailNoMergeKey(const json& m, std::string_view key);
// A value as Go's %v prints a string (bare) or anything else (as JSON here).
std::string GoString(const json& v);

// Decoded Go kinds: integers that fit int64 are int64 (PreserveInts), other numbers float64.
enum class Kind { kNull, kBool, kInt, kFloat, kString, kObject, kArray };
Kind KindOf(const json& v);
// sliceElementType: all elements of all lists share one kind, which is not "list".
Kind SliceElementKind(std::initializer_list<const json*> lists);

std::string JoinPath(const std::string& path, const std::string& key);
// "$setElementOrder/containers" -> "containers"; the format error of `prefix` otherwise.
std::string ExtractKey(const std::string& key, std::string_view prefix);

// Values the patch inserts are stored as upstream's typed decode leaves them. Sanitize drops
// null members and "$" keys; PrepareNewValue also drops objects holding $patch (removeDirectives)
// and returns false when `v` itself is one.
void Sanitize(json& v);
bool PrepareNewValue(json& v);

// Index of the first object in `list` whose `key` equals `value`, or -1. Fails on non-objects.
std::ptrdiff_t FindMapInSlice(const json& list, const std::string& key, const json& value);
// item[key], or nullptr when `item` is not an object or lacks the key.
const json* MergeKeyValue(const json& item, const std::string& key);
// Splits `merged` into the items present in `by` (by merge key; by value when `key` is empty)
// and the rest.
std::pair<json, json> Partition(const json& merged, const json& by, const std::string& key);
// normalizeElementOrder: patch items in `patch_order`, server-only items in `server_order`,
// interleaved as mergeSortedSlice does.
json NormalizeElementOrder(const json& patch_items, const json& server_only,
                           const json& patch_order, const json& server_order,
                           const std::string& key, Kind kind);
// validatePatchWithSetOrderList: the patch list's order must agree with $setElementOrder.
void ValidatePatchWithSetOrderList(const json& patch_list, const json& set_order,
                                   const std::string& key);

}  // namespace gpufleet::core::smp_internal
