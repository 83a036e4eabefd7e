// ValueWalker: structured-merge-diff's typed operations (ToFieldSet, Compare, Merge, RemoveItems)
// on schema-less JSON, with list semantics taken from a PatchSchema. Internal to
// src/core/patch_*.cc; server-side apply and managedFields tracking are built on it.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "core/patch.h"
#include "core/patch_fieldset.h"
#include "core/status.h"

namespace gpufleet::core::patch_internal {

// Thrown by the walker and turned into a Status at the API boundary.
struct ApplyError {
  StatusCode code;
  std::string message;
};

std::string JoinPath(const std::string& path, const std::string& key);

// Every method takes the value, its schema path ("spec.template.spec.containers[]"), its field path
// (FieldsV1 elements; a scratch stack restored on return) and the FieldRule of the field, if any.
// Maps are granular unless the rule says "replace"; lists are granular only for ListType kMap and
// kSet. Thread-compatible; holds a reference to the schema.
class ValueWalker {
 public:
  struct Comparison {
    FieldSet added, removed, modified;
  };

  explicit ValueWalker(const PatchSchema& schema) : schema_(schema) {}

  // The FieldsV1 element of a keyed ("k:") or set ("v:") list item; throws ApplyError with
  // `code` when a keyed item is not an object or lacks a key without default.
  std::string ItemElement(const nlohmann::json& item, const FieldRule& rule, const FieldPath& path,
                          std::size_t index, StatusCode code) const;
  static bool Granular(const FieldRule* rule);

  // typed.ToFieldSet of an apply configuration: every leaf (scalars, nulls, atomic lists, empty
  // objects and lists) and every keyed or set list item. Throws kInvalidArgument for items
  // without their key and for duplicate items.
  void ToSet(const nlohmann::json& v, const std::string& spath, FieldPath& path,
             const FieldRule* rule, FieldSet& out) const;
  // typed.Compare: leaves are added, removed or modified; objects and list items that appear or
  // disappear are added or removed themselves (FieldsV1's "." entries). l/r null: absent.
  void Compare(const nlohmann::json* l, const nlohmann::json* r, const std::string& spath,
               FieldPath& path, const FieldRule* rule, Comparison& c) const;
  // typed.Merge of an apply configuration into the live value: the configuration wins, objects
  // merge, keyed and set lists merge by item keeping upstream's order; null removes a member.
  nlohmann::json Merge(const nlohmann::json* live, const nlohmann::json& config,
                       const std::string& spath, FieldPath& path, const FieldRule* rule) const;
  // typed.RemoveItems: removes every member of `set` (fields and list items) from `v`.
  void Remove(nlohmann::json& v, const FieldSet& set, const std::string& spath, FieldPath& path,
              const FieldRule* rule) const;

  // The code for malformed list items in live (stored) data.
  StatusCode lenient_code_ = StatusCode::kFailedPrecondition;

 private:
  static void Leaf(const nlohmann::json* l, const nlohmann::json* r, const FieldPath& path,
                   Comparison& c);
  nlohmann::json MergeList(const nlohmann::json& live, const nlohmann::json& config,
                           const std::string& spath, FieldPath& path, const FieldRule& rule) const;

  const PatchSchema& schema_;
};

}  // namespace gpufleet::core::patch_internal
