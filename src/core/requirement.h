// Requirement: one label key's allowed values with Karpenter v1 semantics: a value set that may be
// complemented ("every value except ...") plus optional integer bounds, and their intersection.
//
//   In [a b]          values={a,b}, complement=false
//   NotIn [a]         values={a},   complement=true
//   Exists            values={},    complement=true
//   DoesNotExist      values={},    complement=false
//   Gt 4 / Gte 5      complement=true, greater_than=4   (integers only)
//   Lt 8 / Lte 7      complement=true, less_than=8
// Docs: docs/core.md. Immutable value type; copying is cheap for small sets. Not thread-safe to
// mutate, safe to share const.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/node_selector_requirement.h"
#include "core/status.h"

namespace gpufleet::core {

class Requirement {
 public:
  // Builds from a wire requirement. The key is normalized (NormalizeLabelKey). Gte/Lte become
  // Gt/Lt bounds. InvalidArgument when Gt/Lt/Gte/Lte lack exactly one integer value.
  static Result<Requirement> Create(const NodeSelectorRequirement& r);

  static Requirement In(std::string_view key, std::vector<std::string> values);
  static Requirement NotIn(std::string_view key, std::vector<std::string> values);
  static Requirement Exists(std::string_view key);
  static Requirement DoesNotExist(std::string_view key);
  static Requirement GreaterThan(std::string_view key, int64_t bound);
  static Requirement LessThan(std::string_view key, int64_t bound);

  const std::string& key() const { return key_; }
  bool complement() const { return complement_; }
  // Sorted, unique. For a complement these are the excluded values.
  const std::vector<std::string>& values() const { return values_; }
  std::optional<int64_t> greater_than() const { return greater_than_; }
  std::optional<int64_t> less_than() const { return less_than_; }
  std::optional<int> min_values() const { return min_values_; }
  void set_min_values(std::optional<int> n) { min_values_ = n; }

  // Karpenter's Operator(): In, NotIn, Exists (also for bounded sets) or DoesNotExist.
  Operator op() const;
  // Number of allowed values; a complement counts as INT64_MAX minus its excluded values.
  int64_t Len() const;
  // True if a node label with this value satisfies the requirement.
  bool Has(std::string_view value) const;
  // The values allowed by both requirements; minValues is the larger of the two. The key is
  // this requirement's.
  Requirement Intersection(const Requirement& other) const;
  // Intersection(other).Len() != 0, without building the intersection when either side is a
  // finite set (the common case on hot paths).
  bool Intersects(const Requirement& other) const;
  // A deterministic example value: the smallest listed value for In, else the smallest integer
  // >= 0 inside the bounds that is not excluded; nullopt for DoesNotExist or an empty range.
  std::optional<std::string> Any() const;

  // Back to the wire form, losslessly: one requirement, or for a bounded set one per part (NotIn
  // for excluded values, Gt, Lt). Karpenter emits only the first part; the rest would be lost.
  std::vector<NodeSelectorRequirement> ToNodeSelectorRequirements() const;
  // e.g. "karpenter.sh/capacity-type In [on-demand reserved]", "x Exists >4 <8 minValues 2".
  std::string ToString() const;

  friend bool operator==(const Requirement&, const Requirement&) = default;

 private:
  Requirement(std::string_view key, bool complement, std::vector<std::string> values);

  std::string key_;
  bool complement_ = false;
  std::vector<std::string> values_;
  std::optional<int64_t> greater_than_;
  std::optional<int64_t> less_than_;
  std::optional<int> min_values_;
};

}  // namespace gpufleet::core
