// FieldSet: a set of field paths as structured-merge-diff keeps them for server-side apply, with
// its FieldsV1 encoding. Internal to src/core/patch_*.cc (not part of the public patch API).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace gpufleet::core::patch_internal {

// One step of a path in FieldsV1 spelling: "f:<field>", "k:<json object of keys>", "v:<json>",
// "i:<index>". k: and v: hold compact JSON with sorted keys (DumpJson), so equal steps compare
// equal as strings.
using PathElement = std::string;
using FieldPath = std::vector<PathElement>;

// A trie of path elements; a node is a member when the path to it is in the set. A value type.
class FieldSet {
 public:
  // True when no path is a member (nodes without members are never kept).
  bool empty() const { return !member_ && children_.empty(); }
  bool member() const { return member_; }
  const std::map<PathElement, FieldSet>& children() const { return children_; }
  // The node for one step, or nullptr.
  const FieldSet* Child(const PathElement& element) const;

  // Adds `path`; the empty path (the root) is ignored.
  void Insert(const FieldPath& path);
  void Union(const FieldSet& other);
  // Members of this set that are not members of `other` (member by member, not by subtree).
  FieldSet Difference(const FieldSet& other) const;
  FieldSet Intersection(const FieldSet& other) const;
  // Calls `fn` for every member path, in sorted order.
  void ForEach(const std::function<void(const FieldPath&)>& fn) const;

  // FieldsV1: {"f:spec":{"f:replicas":{}}}, with "." for a member that also has children.
  nlohmann::json ToFieldsV1() const;
  // Errors: kInvalidArgument naming the offending key for anything that is not FieldsV1.
  static Result<FieldSet> FromFieldsV1(const nlohmann::json& fields);

 private:
  void ForEachImpl(FieldPath& prefix, const std::function<void(const FieldPath&)>& fn) const;

  bool member_ = false;
  std::map<PathElement, FieldSet> children_;
};

// Upstream's fieldpath.Path.String(): ".spec.containers[name=\"app\"].ports[containerPort=80,
// protocol=\"TCP\"]", "[=\"value\"]" for set items, "[3]" for indexes.
std::string PathString(const FieldPath& path);

}  // namespace gpufleet::core::patch_internal
