// Strategic merge patch, applied as the API server applies it: a port of the apply half of
// k8s.io/apimachinery/pkg/util/strategicpatch (mergeMap, mergeSlice and the directive handling),
// with struct-tag lookups replaced by PatchSchema. Upstream's error texts are kept.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/patch.h"

namespace gpufleet::core {
namespace {

using json = nlohmann::json;

constexpr std::string_view kDirectiveMarker = "$patch";
constexpr std::string_view kRetainKeysDirective = "$retainKeys";
constexpr std::string_view kDeletePrefix = "$deleteFromPrimitiveList";
constexpr std::string_view kOrderPrefix = "$setElementOrder";

// mergepatch's sentinel errors; upstream answers 400 for these and 422 for lists of lists.
constexpr std::string_view kErrPrimitiveList = "invalid patch format of primitive list";
constexpr std::string_view kErrRetainKeys = "invalid patch format of retainKeys";
constexpr std::string_view kErrSetElementOrder = "invalid patch format of setElementOrder list";
constexpr std::string_view kErrNoListOfLists = "lists of lists are not supported";

// Thrown inside the merge and turned into a Status at the API boundary.
struct SmpError {
  StatusCode code;
  std::string message;
};

[[noreturn]] void Fail(std::string_view message,
                       StatusCode code = StatusCode::kInvalidArgument) {
  throw SmpError{code, std::string(message)};
}

// The Go type the value would decode to, for upstream's ErrBadArgType wording.
std::string GoTypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "map[string]interface {}";
    case json::value_t::array: return "[]interface {}";
    case json::value_t::string: return "string";
    case json::value_t::boolean: return "bool";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "int64";
    case json::value_t::number_float: return "float64";
    default: return "<nil>";
  }
}

[[noreturn]] void FailBadArgType(std::string_view expected, const json& actual) {
  Fail("expected a " + std::string(expected) + ", but received a " + GoTypeName(actual));
}

[[noreturn]] void FailNoMergeKey(const json& m, std::string_view key) {
  Fail("map: " + DumpJson(m) + " does not contain declared merge key: " + std::string(key));
}

std::string GoString(const json& v) { return v.is_string() ? v.get<std::string>() : DumpJson(v); }

// Decoded Go kinds: integers that fit int64 are int64 (PreserveInts), other numbers float64.
enum class Kind { kNull, kBool, kInt, kFloat, kString, kObject, kArray };

Kind KindOf(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return Kind::kObject;
    case json::value_t::array: return Kind::kArray;
    case json::value_t::string: return Kind::kString;
    case json::value_t::boolean: return Kind::kBool;
    case json::value_t::number_integer: return Kind::kInt;
    case json::value_t::number_unsigned:
      return v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
                 ? Kind::kFloat
                 : Kind::kInt;
    case json::value_t::number_float: return Kind::kFloat;
    default: return Kind::kNull;
  }
}

bool StartsWith(std::string_view s, std::string_view prefix) { return s.starts_with(prefix); }

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
      if (StartsWith(it.key(), "$")) {
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
    keyed.emplace_back(i < 0 ? std::numeric_limits<std::size_t>::max()
                             : static_cast<std::size_t>(i),
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

// ---- The merge -------------------------------------------------------------------------------

class Merger {
 public:
  explicit Merger(const PatchSchema& schema) : schema_(schema) {}

  json MergeMap(json original, json patch, const std::string& path);

 private:
  json MergeSliceHandler(json original, json patch, const FieldRule* rule, bool delete_list,
                         const std::string& path);
  json MergeSlice(json original, json patch, const std::string& key, bool delete_list,
                  const std::string& path);
  void MergePatchIntoOriginal(json& original, json& patch, const std::string& path);

  const PatchSchema& schema_;
};

void ApplyRetainKeysDirective(json& original, json& patch) {
  auto it = patch.find(kRetainKeysDirective);
  if (it == patch.end()) return;
  json retain = std::move(*it);
  patch.erase(it);
  if (!retain.is_array()) Fail(kErrRetainKeys);
  auto retained = [&retain](const std::string& k) {
    return std::find(retain.begin(), retain.end(), json(k)) != retain.end();
  };
  for (const auto& [k, v] : patch.items()) {
    if (v.is_null() || StartsWith(k, kDeletePrefix) || StartsWith(k, kOrderPrefix)) continue;
    if (!retained(k)) Fail(kErrRetainKeys);
  }
  for (auto o = original.begin(); o != original.end();) {
    o = retained(o.key()) ? std::next(o) : original.erase(o);
  }
}

json Merger::MergeMap(json original, json patch, const std::string& path) {
  if (auto it = patch.find(kDirectiveMarker); it != patch.end()) {
    if (*it == "replace") {
      patch.erase(it);
      Sanitize(patch);
      return patch;
    }
    if (*it == "delete") return json::object();
    Fail("unknown patch type: " + GoString(*it) + " in map: " + DumpJson(patch));
  }
  if (!original.is_object()) original = json::object();
  ApplyRetainKeysDirective(original, patch);
  MergePatchIntoOriginal(original, patch, path);

  for (auto& [patch_key, patch_value] : patch.items()) {
    std::string key = patch_key;
    bool delete_list = false;
    if (StartsWith(patch_key, kDeletePrefix)) {
      key = ExtractKey(patch_key, kDeletePrefix);
      delete_list = true;
      if (!patch_value.is_array() && !patch_value.is_null()) Fail(kErrPrimitiveList);
    } else if (StartsWith(patch_key, "$")) {
      continue;  // Not a directive upstream knows; its typed decode would drop the field.
    }
    if (patch_value.is_null()) {
      original.erase(key);
      continue;
    }
    auto orig = original.find(key);
    if (orig == original.end() || KindOf(*orig) != KindOf(patch_value)) {
      if (delete_list) continue;
      json value = std::move(patch_value);
      if (PrepareNewValue(value)) {
        original[key] = std::move(value);
      } else {
        original.erase(key);
      }
      continue;
    }
    std::string child = JoinPath(path, key);
    const FieldRule* rule = schema_.Find(child);
    if (orig->is_object()) {
      if (rule != nullptr && rule->replace) {
        Sanitize(patch_value);
        *orig = std::move(patch_value);
      } else {
        *orig = MergeMap(std::move(*orig), std::move(patch_value), child);
      }
    } else if (orig->is_array()) {
      *orig = MergeSliceHandler(std::move(*orig), std::move(patch_value), rule, delete_list, child);
    } else {
      *orig = std::move(patch_value);
    }
  }
  return original;
}

void Merger::MergePatchIntoOriginal(json& original, json& patch, const std::string& path) {
  std::vector<std::string> order_keys;
  for (const auto& [k, v] : patch.items()) {
    if (StartsWith(k, kOrderPrefix)) order_keys.push_back(k);
  }
  for (const std::string& order_key : order_keys) {
    json set_order = std::move(patch[order_key]);
    patch.erase(order_key);
    if (!set_order.is_array()) FailBadArgType("[]interface {}", set_order);
    std::string field = ExtractKey(order_key, kOrderPrefix);
    auto orig = original.find(field);
    auto patch_it = patch.find(field);
    const bool found_original = orig != original.end();
    const bool found_patch = patch_it != patch.end();
    json original_list = json::array();
    json patch_list = json::array();
    if (found_original) {
      if (!orig->is_array()) FailBadArgType("[]interface {}", *orig);
      original_list = *orig;
    }
    if (found_patch) {
      if (!patch_it->is_array()) FailBadArgType("[]interface {}", *patch_it);
      patch_list = *patch_it;
    }
    std::string child = JoinPath(path, field);
    const FieldRule* rule = schema_.Find(child);
    const std::string key = rule != nullptr ? rule->merge_key : std::string();
    ValidatePatchWithSetOrderList(patch_list, set_order, key);

    json merged;
    if (found_original && !found_patch) {
      merged = original_list;
    } else if (!found_original && found_patch) {
      merged = patch_list;
      PrepareNewValue(merged);
    } else if (found_original && found_patch) {
      merged = MergeSliceHandler(original_list, patch_list, rule, false, child);
    } else {
      continue;
    }
    auto [patch_items, server_only] = Partition(merged, set_order, key);
    Kind kind = SliceElementKind({&original_list, &patch_list});
    original[field] =
        NormalizeElementOrder(patch_items, server_only, set_order, original_list, key, kind);
    patch.erase(field);
  }
}

json Merger::MergeSliceHandler(json original, json patch, const FieldRule* rule,
                               bool delete_list, const std::string& path) {
  // Delete lists are handled the same way whatever the field's patch strategy is.
  if ((rule != nullptr && rule->merge) || delete_list) {
    return MergeSlice(std::move(original), std::move(patch),
                      rule != nullptr ? rule->merge_key : std::string(), delete_list, path);
  }
  Sanitize(patch);
  return patch;
}

json Merger::MergeSlice(json original, json patch, const std::string& key, bool delete_list,
                        const std::string& path) {
  if (original.empty() && patch.empty()) return original;
  Kind kind = SliceElementKind({&original, &patch});
  json merged;
  if (kind != Kind::kObject) {
    if (delete_list) {
      json kept = json::array();
      for (json& v : original) {
        if (std::find(patch.begin(), patch.end(), v) == patch.end()) kept.push_back(std::move(v));
      }
      return kept;
    }
    merged = json::array();
    for (const json* list : {&original, &patch}) {
      for (const json& v : *list) {
        if (std::find(merged.begin(), merged.end(), v) == merged.end()) merged.push_back(v);
      }
    }
  } else {
    if (key.empty()) Fail("cannot merge lists without merge key for type struct");
    // mergeSliceWithSpecialElements: $patch: delete / replace / merge elements.
    json plain = json::array();
    bool replace = false;
    for (const json& v : patch) {
      auto directive = v.find(kDirectiveMarker);
      if (directive == v.end()) {
        plain.push_back(v);
      } else if (*directive == "delete") {
        const json* value = MergeKeyValue(v, key);
        if (value == nullptr) FailNoMergeKey(v, key);
        std::ptrdiff_t i = FindMapInSlice(original, key, *value);
        while (i >= 0) {
          original.erase(original.begin() + i);
          i = FindMapInSlice(original, key, *value);
        }
      } else if (*directive == "replace") {
        replace = true;
      } else if (*directive == "merge") {
        Fail("merging lists cannot yet be specified in the patch");
      } else {
        Fail("unknown patch type: " + GoString(*directive) + " in map: " + DumpJson(v));
      }
    }
    if (replace) {
      for (json& v : plain) Sanitize(v);
      original = std::move(plain);
      patch = json::array();
    } else {
      patch = std::move(plain);
    }
    // mergeSliceWithoutSpecialElements: merge by key, append the rest.
    merged = original;
    for (const json& v : patch) {
      const json* value = MergeKeyValue(v, key);
      if (value == nullptr) FailNoMergeKey(v, key);
      std::ptrdiff_t i = FindMapInSlice(merged, key, *value);
      if (i >= 0) {
        merged[static_cast<std::size_t>(i)] =
            MergeMap(std::move(merged[static_cast<std::size_t>(i)]), v, path + "[]");
      } else {
        json added = v;
        Sanitize(added);
        merged.push_back(std::move(added));
      }
    }
  }
  auto [patch_items, server_only] = Partition(merged, patch, key);
  return NormalizeElementOrder(patch_items, server_only, patch, original, key, kind);
}

}  // namespace

Result<nlohmann::json> ApplyStrategicMergePatch(const nlohmann::json& original,
                                                const nlohmann::json& patch,
                                                const PatchSchema& schema) {
  if (!schema.strategic_merge_supported()) {
    return UnimplementedError(kStrategicMergeUnsupportedMessage);
  }
  if (!original.is_object()) {
    return InvalidArgumentError(std::string("invalid JSON document: expected an object, got ") +
                                original.type_name());
  }
  if (!patch.is_object()) {
    return InvalidArgumentError(std::string("json: cannot unmarshal ") + patch.type_name() +
                                " into Go value of type map[string]interface {}");
  }
  try {
    Merger merger(schema);
    return merger.MergeMap(original, patch, "");
  } catch (const SmpError& e) {
    return Status(e.code, e.message);
  } catch (const std::exception& e) {
    return InternalError(std::string("strategic merge patch: ") + e.what());
  }
}

}  // namespace gpufleet::core
