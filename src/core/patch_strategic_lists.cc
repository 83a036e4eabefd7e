// Strategic merge patch helpers: error texts, Go kinds, value cleaning and list ordering, ported
// from k8s.io/apimachinery/pkg/util/strategicpatch (see patch_strategic_lists.h).
#include "core/patch_strategic_lists.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/json.h"

namespace gpufleet::core::smp_internal {

[[noreturn]] void Fail(std::string_view message, StatusCode code) {
  throw SmpError{code, std::string(message)};
}

namespace {

// The Go type the value would decode to, for upstream's ErrBadArgType wording.
std::string GoTypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      return "map[string]interface {}";
    case json::value_t::array:
      return "[]interface {}";
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "bool";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "int64";
    case json::value_t::number_float:
      return "float64";
    default:
      return "<nil>";
  }
}

}  // namespace

[[noreturn]] void FailBadArgType(std::string_view expected, const json& actual) {
  Fail("expected a " + std::string(expected) + ", but received a " + GoTypeName(actual));
}

[[noreturn]] void FailNoMergeKey(const json& m, std::string_view key) {
  Fail("map: " + DumpJson(m) + " does not contain declared merge key: " + std::string(key));
}

std::string GoString(const json& v) { return v.is_string() ? v.get<std::string>() : DumpJson(v); }

Kind KindOf(const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      return Kind::kObject;
    case json::value_t::array:
      return Kind::kArray;
    case json::value_t::string:
      return Kind::kString;
    case json::value_t::boolean:
      return Kind::kBool;
    case json::value_t::number_integer:
      return Kind::kInt;
    case json::value_t::number_unsigned:
      return v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                 ? Kind::kFloat
                 : Kind::kInt;
    case json::value_t::number_float:
      return Kind::kFloat;
    default:
      return Kind::kNull;
  }
}

std::string JoinPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// "$setElementOrder/containers" -> "containers".
std::string ExtractKey(const std::string& key, std::string_view prefix) {
  std::size_t slash = key.find('/');
  if (slash == std::string::npos || std::string_view(key).substr(0, slash) != prefix) {
    Fail(prefix == kDeletePrefix ? kErrPrimitiveList : kErrSetElementOrder);
  }
  return key.substr(slash + 1);
}

// All elements of all lists must have one kind, and not be lists (sliceElementType).
Kind SliceElementKind(std::initializer_list<const json*> lists) {
  std::optional<Kind> kind;
  for (const json* list : lists) {
    for (const json& v : *list) {
      Kind k = KindOf(v);
      if (!kind) {
        if (k == Kind::kArray) Fail(kErrNoListOfLists, StatusCode::kFailedPrecondition);
        kind = k;
      } else if (*kind != k) {
        json all = json::array();
        for (const json* l : lists) all.push_back(*l);
        Fail("list element types are not identical: " + DumpJson(all));
      }
    }
  }
  if (!kind) Fail("no elements in any of the given slices");
  return *kind;
}

// ---- Cleaning values the patch inserts --------------------------------------------------------

namespace {

void DiscardNulls(json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (it->is_null()) {
        it = v.erase(it);
      } else {
        DiscardNulls(*it);
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (json& e : v) DiscardNulls(e);
  }
}

// removeDirectives: false when `v` is an object holding $patch (it must not be kept).
bool RemoveDirectives(json& v) {
  if (v.is_object()) {
    if (v.contains(kDirectiveMarker)) return false;
    for (auto it = v.begin(); it != v.end();) {
      it = RemoveDirectives(*it) ? std::next(it) : v.erase(it);
    }
  } else if (v.is_array()) {
    json kept = json::array();
    for (json& e : v) {
      if (RemoveDirectives(e)) kept.push_back(std::move(e));
    }
    v = std::move(kept);
  }
  return true;
}

// Directive keys left in inserted values: upstream's typed decode drops them as unknown fields.
void StripDirectiveKeys(json& v) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end();) {
      if (it.key().starts_with("$")) {
        it = v.erase(it);
      } else {
        StripDirectiveKeys(*it);
        ++it;
      }
    }
  } else if (v.is_array()) {
    for (json& e : v) StripDirectiveKeys(e);
  }
}

}  // namespace

void Sanitize(json& v) {
  DiscardNulls(v);
  StripDirectiveKeys(v);
}

// A value for a field the original lacks (or has with another type). False: drop the field.
bool PrepareNewValue(json& v) {
  DiscardNulls(v);
  if (!RemoveDirectives(v)) return false;
  StripDirectiveKeys(v);
  return true;
}

// ---- List helpers ----------------------------------------------------------------------------

// Index of the first object in `list` whose `key` equals `value`; -1 if none.
std::ptrdiff_t FindMapInSlice(const json& list, const std::string& key, const json& value) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_object()) Fail("value for key " + std::to_string(i) + " is not a map.");
    auto it = list[i].find(key);
    if (it != list[i].end() && *it == value) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

const json* MergeKeyValue(const json& item, const std::string& key) {
  if (!item.is_object()) return nullptr;
  auto it = item.find(key);
  return it == item.end() ? nullptr : &*it;
}

namespace {

// Position of `value` in `list` (by merge key for objects), or -1.
std::ptrdiff_t IndexOf(const json& list, const json& value, const std::string& key, Kind kind) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    bool equal;
    if (kind == Kind::kObject) {
      const json* a = MergeKeyValue(value, key);
      const json* b = MergeKeyValue(list[i], key);
      equal = (a == nullptr || b == nullptr) ? a == b : *a == *b;
    } else {
      equal = value == list[i];
    }
    if (equal) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

void ValidateMergeKeyInList(const std::string& key, const json& list) {
  for (const json& item : list) {
    if (!item.is_object()) FailBadArgType("map[string]interface {}", item);
    if (!item.contains(key)) FailNoMergeKey(item, key);
  }
}

// Splits `list` into elements without and with "$patch: delete".
std::pair<json, json> ExtractToDeleteItems(const json& list) {
  json keep = json::array();
  json remove = json::array();
  for (const json& v : list) {
    if (!v.is_object()) FailBadArgType("map[string]interface {}", v);
    auto it = v.find(kDirectiveMarker);
    (it != v.end() && *it == "delete" ? remove : keep).push_back(v);
  }
  return {std::move(keep), std::move(remove)};
}

bool MergeKeyValueEqual(const json& left, const json& right, const std::string& key) {
  if (key.empty()) return left == right;
  if (!left.is_object()) FailBadArgType("map[string]interface {}", left);
  if (!right.is_object()) FailBadArgType("map[string]interface {}", right);
  const json* l = MergeKeyValue(left, key);
  if (l == nullptr) FailNoMergeKey(left, key);
  const json* r = MergeKeyValue(right, key);
  if (r == nullptr) FailNoMergeKey(right, key);
  return *l == *r;
}

// normalizeSliceOrder: stable sort by position in `order`; $patch: delete items go last.
json NormalizeSliceOrder(json to_sort, const json& order, const std::string& key, Kind kind) {
  json to_delete = json::array();
  if (kind == Kind::kObject) {
    ValidateMergeKeyInList(key, to_sort);
    ValidateMergeKeyInList(key, order);
    std::tie(to_sort, to_delete) = ExtractToDeleteItems(to_sort);
  }
  std::vector<std::pair<std::size_t, json>> keyed;
  for (json& v : to_sort) {
    std::ptrdiff_t i = IndexOf(order, v, key, kind);
    keyed.emplace_back(
        i < 0 ? std::numeric_limits<std::size_t>::max() : static_cast<std::size_t>(i),
        std::move(v));
  }
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  json sorted = json::array();
  for (auto& [index, v] : keyed) sorted.push_back(std::move(v));
  for (json& v : to_delete) sorted.push_back(std::move(v));
  return sorted;
}

// mergeSortedSlice: interleaves server-only items (left) with patch items (right), keeping the
// live order where both are in it; anything else from the patch goes first.
json MergeSortedSlice(const json& left, const json& right, const json& server_order,
                      const std::string& key, Kind kind) {
  json out = json::array();
  std::size_t i = 0, j = 0;
  while (i < left.size() || j < right.size()) {
    if (i >= left.size()) {
      out.push_back(right[j++]);
    } else if (j >= right.size()) {
      out.push_back(left[i++]);
    } else {
      std::ptrdiff_t li = IndexOf(server_order, left[i], key, kind);
      std::ptrdiff_t ri = IndexOf(server_order, right[j], key, kind);
      if (li >= 0 && ri >= 0 && li < ri) {
        out.push_back(left[i++]);
      } else {
        out.push_back(right[j++]);
      }
    }
  }
  return out;
}

}  // namespace

json NormalizeElementOrder(const json& patch_items, const json& server_only,
                           const json& patch_order, const json& server_order,
                           const std::string& key, Kind kind) {
  json sorted_patch = NormalizeSliceOrder(patch_items, patch_order, key, kind);
  json sorted_server = NormalizeSliceOrder(server_only, server_order, key, kind);
  return MergeSortedSlice(sorted_server, sorted_patch, server_order, key, kind);
}

// Splits `merged` into items present in `by` (first) and the rest (second).
std::pair<json, json> Partition(const json& merged, const json& by, const std::string& key) {
  json in = json::array();
  json out = json::array();
  for (const json& v : merged) {
    bool found;
    if (key.empty()) {
      found = std::find(by.begin(), by.end(), v) != by.end();
    } else {
      if (!v.is_object()) FailBadArgType("map[string]interface {}", v);
      const json* value = MergeKeyValue(v, key);
      if (value == nullptr) FailNoMergeKey(v, key);
      found = FindMapInSlice(by, key, *value) >= 0;
    }
    (found ? in : out).push_back(v);
  }
  return {std::move(in), std::move(out)};
}

void ValidatePatchWithSetOrderList(const json& patch_list, const json& set_order,
                                   const std::string& key) {
  if (set_order.empty() || patch_list.empty()) return;
  json non_delete = key.empty() ? patch_list : ExtractToDeleteItems(patch_list).first;
  std::size_t p = 0, s = 0;
  while (p < non_delete.size() && s < set_order.size()) {
    if (non_delete[p].is_object() && non_delete[p].contains(kDirectiveMarker)) {
      ++p;
      continue;
    }
    if (MergeKeyValueEqual(non_delete[p], set_order[s], key)) ++p;
    ++s;
  }
  if (p < non_delete.size() && s >= set_order.size()) {
    Fail("the order in patch list:\n" + DumpJson(patch_list) + "\n doesn't match " +
         std::string(kOrderPrefix) + " list:\n" + DumpJson(set_order));
  }
}

}  // namespace gpufleet::core::smp_internal
