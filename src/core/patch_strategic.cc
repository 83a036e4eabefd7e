// Strategic merge patch, applied as the API server applies it: a port of the apply half of
// k8s.io/apimachinery/pkg/util/strategicpatch (mergeMap, mergeSlice and the directive handling),
// with struct-tag lookups replaced by PatchSchema. Upstream's error texts are kept.
#include <algorithm>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"
#include "core/patch.h"
#include "core/patch_strategic_lists.h"

namespace gpufleet::core {
namespace {

using smp_internal::ExtractKey;
using smp_internal::Fail;
using smp_internal::FailBadArgType;
using smp_internal::FailNoMergeKey;
using smp_internal::FindMapInSlice;
using smp_internal::GoString;
using smp_internal::JoinPath;
using smp_internal::json;
using smp_internal::kDeletePrefix;
using smp_internal::kDirectiveMarker;
using smp_internal::kErrPrimitiveList;
using smp_internal::kErrRetainKeys;
using smp_internal::Kind;
using smp_internal::KindOf;
using smp_internal::kOrderPrefix;
using smp_internal::kRetainKeysDirective;
using smp_internal::MergeKeyValue;
using smp_internal::NormalizeElementOrder;
using smp_internal::Partition;
using smp_internal::PrepareNewValue;
using smp_internal::Sanitize;
using smp_internal::SliceElementKind;
using smp_internal::SmpError;
using smp_internal::ValidatePatchWithSetOrderList;

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
    if (v.is_null() || k.starts_with(kDeletePrefix) || k.starts_with(kOrderPrefix)) continue;
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
    if (patch_key.starts_with(kDeletePrefix)) {
      key = ExtractKey(patch_key, kDeletePrefix);
      delete_list = true;
      if (!patch_value.is_array() && !patch_value.is_null()) Fail(kErrPrimitiveList);
    } else if (patch_key.starts_with("$")) {
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
    if (k.starts_with(kOrderPrefix)) order_keys.push_back(k);
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

json Merger::MergeSliceHandler(json original, json patch, const FieldRule* rule, bool delete_list,
                               const std::string& path) {
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
