// ResourceList: Kubernetes' v1.ResourceList (resource name -> Quantity) with the arithmetic of
// Karpenter's pkg/utils/resources (Merge, Subtract, MaxResources, Fits).
//
// Names are free-form, as in the Go map: "cpu", "memory", "ephemeral-storage", "pods",
// "nvidia.com/gpu", "hugepages-2Mi". A missing name reads as zero. Iteration and ToJson are in
// name order. Value type; const methods are safe to call concurrently; no exceptions.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>

#include <boost/container/flat_map.hpp>
#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "core/quantity.h"
#include "core/status.h"

namespace gpufleet::core {

class ResourceList {
 public:
  // Flat and sorted: lists are small and caches hold many (see Labels).
  using Map = boost::container::flat_map<std::string, Quantity, std::less<>>;
  using const_iterator = Map::const_iterator;

  ResourceList() = default;
  // A repeated name keeps its last quantity.
  ResourceList(std::initializer_list<std::pair<std::string_view, Quantity>> entries);

  // Parses a JSON object such as {"cpu":"500m","memory":"1Gi","nvidia.com/gpu":1} the way the
  // API server decodes one: values are quantity strings (surrounding ASCII whitespace trimmed),
  // JSON numbers (their literal text is parsed, so 0.5 and 1e3 are exact) or null (zero); a
  // repeated key keeps its last value. InvalidArgument for malformed JSON, a non-object, or a
  // bad value (the message names the key and, for a quantity, the text and position); OutOfRange
  // for a quantity beyond Quantity's range.
  // Divergence: JSON escapes in a string are decoded first ("\u0031" reads as "1"), where the
  // API server hands the raw bytes to ParseQuantity and rejects them.
  static Result<ResourceList> FromJson(std::string_view json_text);
  // The same for an already parsed object. A float reads as its shortest round-trip decimal.
  static Result<ResourceList> FromJsonValue(const nlohmann::json& object);
  // {"cpu":"500m","memory":"1Gi"}: names sorted, each quantity's String().
  std::string ToJson() const;

  // The quantity for `name`, or nullptr. The pointer is valid until the next mutation.
  const Quantity* Find(std::string_view name) const;
  Quantity* Find(std::string_view name);
  // The quantity for `name`, or zero.
  Quantity Get(std::string_view name) const;
  bool Contains(std::string_view name) const { return Find(name) != nullptr; }
  // Inserts or replaces.
  void Set(std::string_view name, Quantity quantity);
  // Returns whether `name` was present.
  bool Erase(std::string_view name);

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  const Map& map() const { return entries_; }

  // True when every quantity is zero (so also when empty).
  bool IsZero() const;

  // Same names with equal values (formats ignored).
  friend bool operator==(const ResourceList& a, const ResourceList& b) {
    return a.entries_ == b.entries_;
  }

 private:
  Map entries_;
};

// Prints ToJson(); for GoogleTest and logs.
std::ostream& operator<<(std::ostream& os, const ResourceList& list);

// Sums per name over all lists; the result has every name of every list (Karpenter's Merge).
// OutOfRange naming the resource if a sum leaves Quantity's range.
Result<ResourceList> Merge(std::span<const ResourceList> lists);
Result<ResourceList> Merge(const ResourceList& a, const ResourceList& b);
// dest[name] += src[name] for every name of src (Karpenter's MergeInto). On error (OutOfRange,
// naming the resource) dest is unchanged.
Status MergeInto(ResourceList& dest, const ResourceList& src);
// lhs minus rhs over lhs's names only; names only in rhs are ignored (Karpenter's Subtract).
// Results may be negative. OutOfRange naming the resource if a difference leaves the range.
Result<ResourceList> Subtract(const ResourceList& lhs, const ResourceList& rhs);
// The per-name maximum over all lists; on a tie the earlier list's quantity (and format) wins.
ResourceList MaxResources(std::span<const ResourceList> lists);
ResourceList MaxResources(const ResourceList& a, const ResourceList& b);
// Karpenter's Fits: false if any quantity in `total` is negative; otherwise true when every
// quantity in `candidate` is <= total's quantity of the same name (a missing name is zero, so a
// zero or negative request for an absent resource fits).
bool Fits(const ResourceList& candidate, const ResourceList& total);
// lhs[name] compared with rhs[name], missing names reading as zero: -1, 0 or 1.
int CmpResource(const ResourceList& lhs, const ResourceList& rhs, std::string_view name);

}  // namespace gpufleet::core
