// Requirements: a conjunction of per-key Requirements (Karpenter's scheduling.Requirements):
// built from node labels, pod nodeSelector / node affinity terms, NodePool requirements; checked
// for compatibility and intersected. Keys are normalized and unique.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/labels.h"
#include "core/requirement.h"
#include "core/status.h"

namespace gpufleet::core {

class Requirements {
 public:
  Requirements() = default;

  // One In requirement per label.
  static Requirements FromLabels(const Labels& labels);
  // Intersects the wire requirements; InvalidArgument for a malformed Gt/Lt/Gte/Lte.
  static Result<Requirements> FromNodeSelectorRequirements(
      const std::vector<NodeSelectorRequirement>& reqs);

  // Intersects `r` with any existing requirement on the same key (mutates).
  void Add(const Requirement& r);
  void Add(const Requirements& other);

  bool Has(std::string_view key) const { return Find(key) != nullptr; }
  // The requirement on `key`; Exists when the key is not constrained.
  Requirement Get(std::string_view key) const;
  // The requirement on `key`, or nullptr when the key is not constrained (no copy).
  const Requirement* Find(std::string_view key) const;
  using Map = std::map<std::string, Requirement, std::less<>>;
  const Map& ByKey() const { return by_key_ ? *by_key_ : EmptyMap(); }
  size_t size() const { return by_key_ ? by_key_->size() : 0; }
  bool empty() const { return size() == 0; }

  // Karpenter's Compatible(): every key constrained by `incoming` must be defined here unless
  // its operator is NotIn/DoesNotExist or it is in `allow_undefined` (well-known labels); then
  // Intersects(incoming). OK, or FailedPrecondition listing every reason (label "x" does not
  // have known values; key x, x In [b] not in x In [a]).
  Status Compatible(const Requirements& incoming,
                    const std::set<std::string, std::less<>>& allow_undefined = {}) const;
  // Every key constrained by both must leave a value, unless both sides are NotIn/DoesNotExist
  // (an absent label satisfies both). Undefined keys are allowed. OK or FailedPrecondition.
  Status Intersects(const Requirements& incoming) const;
  // Allocation-free versions for hot paths.
  bool IsCompatible(const Requirements& incoming,
                    const std::set<std::string, std::less<>>& allow_undefined = {}) const;
  bool DoesIntersect(const Requirements& incoming) const;
  // DoesIntersect restricted to one key (true when either side leaves it unconstrained).
  bool DoesIntersectOn(const Requirements& incoming, std::string_view key) const;

  // True if the labels satisfy every requirement (a missing label is checked as absent).
  bool Matches(const Labels& labels) const;
  // True if any requirement carries minValues.
  bool HasMinValues() const;
  // A label per key with a deterministic example value (Requirement::Any), skipping keys for
  // which `skip` returns true (e.g. Karpenter's restricted labels).
  Labels ToLabels(const std::function<bool(std::string_view)>& skip = {}) const;
  std::vector<NodeSelectorRequirement> ToNodeSelectorRequirements() const;
  // Sorted, comma separated Requirement::ToString()s.
  std::string ToString() const;

  friend bool operator==(const Requirements& a, const Requirements& b) {
    return a.by_key_ == b.by_key_ || a.ByKey() == b.ByKey();
  }

 private:
  static const Map& EmptyMap();
  // The map, copied first if another Requirements shares it.
  Map& Mutable();
  bool IntersectsKey(const Requirement& existing, const Requirement& incoming) const;

  // Copies share the map until one of them changes (copy on write): instance types carry ~25
  // requirements each, and a solve copies hundreds of types and every pod's and claim's
  // requirements. Never shared with another thread while being changed: a Requirements is a
  // value, and Mutable() copies whenever anyone else holds the map.
  std::shared_ptr<Map> by_key_;
};

}  // namespace gpufleet::core
