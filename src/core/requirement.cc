#include "core/requirement.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <string>

namespace gpufleet::core {
namespace {

__extension__ using Int128 = __int128;  // range arithmetic that cannot overflow

void SortUnique(std::vector<std::string>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// Karpenter's withinIntPtrs: with any bound set, only integers strictly inside qualify.
bool WithinBounds(std::string_view value, std::optional<int64_t> gt, std::optional<int64_t> lt) {
  if (!gt && !lt) return true;
  auto n = ParseInt64(value);
  if (!n) return false;
  if (gt && *n <= *gt) return false;
  if (lt && *n >= *lt) return false;
  return true;
}

std::optional<int64_t> MaxOpt(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}
std::optional<int64_t> MinOpt(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}
std::optional<int> MaxOpt(std::optional<int> a, std::optional<int> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

}  // namespace

Requirement::Requirement(std::string_view key, bool complement, std::vector<std::string> values)
    : key_(NormalizeLabelKey(key)), complement_(complement), values_(std::move(values)) {
  SortUnique(values_);
}

Requirement Requirement::In(std::string_view key, std::vector<std::string> values) {
  return Requirement(key, false, std::move(values));
}
Requirement Requirement::NotIn(std::string_view key, std::vector<std::string> values) {
  return Requirement(key, true, std::move(values));
}
Requirement Requirement::Exists(std::string_view key) { return Requirement(key, true, {}); }
Requirement Requirement::DoesNotExist(std::string_view key) { return Requirement(key, false, {}); }
Requirement Requirement::GreaterThan(std::string_view key, int64_t bound) {
  Requirement r(key, true, {});
  r.greater_than_ = bound;
  return r;
}
Requirement Requirement::LessThan(std::string_view key, int64_t bound) {
  Requirement r(key, true, {});
  r.less_than_ = bound;
  return r;
}

Result<Requirement> Requirement::Create(const NodeSelectorRequirement& wire) {
  Requirement r(wire.key, true, {});
  switch (wire.op) {
    case Operator::kIn:
      r = In(wire.key, wire.values);
      break;
    case Operator::kNotIn:
      r = NotIn(wire.key, wire.values);
      break;
    case Operator::kExists:
      break;
    case Operator::kDoesNotExist:
      r = DoesNotExist(wire.key);
      break;
    default: {
      std::optional<int64_t> n;
      if (wire.values.size() == 1) n = ParseInt64(wire.values[0]);
      if (!n) {
        return InvalidArgumentError("requirement " + wire.key + " " +
                                    std::string(OperatorName(wire.op)) +
                                    ": needs exactly one integer value");
      }
      constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
      constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
      // Gte n == Gt n-1 and Lte n == Lt n+1 over the integers; saturate at the int64 edges.
      if (wire.op == Operator::kGt) r.greater_than_ = *n;
      if (wire.op == Operator::kGte) r.greater_than_ = *n == kMin ? kMin : *n - 1;
      if (wire.op == Operator::kLt) r.less_than_ = *n;
      if (wire.op == Operator::kLte) r.less_than_ = *n == kMax ? kMax : *n + 1;
    }
  }
  r.min_values_ = wire.min_values;
  return r;
}

Operator Requirement::op() const {
  if (complement_) return values_.empty() ? Operator::kExists : Operator::kNotIn;
  return values_.empty() ? Operator::kDoesNotExist : Operator::kIn;
}

int64_t Requirement::Len() const {
  if (complement_) return std::numeric_limits<int64_t>::max() - static_cast<int64_t>(values_.size());
  return static_cast<int64_t>(values_.size());
}

bool Requirement::Has(std::string_view value) const {
  bool listed = std::binary_search(values_.begin(), values_.end(), value, std::less<>());
  return listed != complement_ && WithinBounds(value, greater_than_, less_than_);
}

bool Requirement::Intersects(const Requirement& other) const {
  if (!complement_) {
    return std::any_of(values_.begin(), values_.end(), [&](const std::string& v) { return other.Has(v); });
  }
  if (!other.complement_) return other.Intersects(*this);
  return Intersection(other).Len() != 0;
}

Requirement Requirement::Intersection(const Requirement& other) const {
  const bool complement = complement_ && other.complement_;
  std::optional<int64_t> gt = MaxOpt(greater_than_, other.greater_than_);
  std::optional<int64_t> lt = MinOpt(less_than_, other.less_than_);
  std::optional<int> min_values = MaxOpt(min_values_, other.min_values_);
  auto empty = [&] {
    Requirement none = DoesNotExist(key_);
    none.min_values_ = min_values;
    return none;
  };
  // Karpenter only checks gt >= lt, so Gt 4 ∩ Lt 5 (or Gte 5 ∩ Lte 4) looks satisfiable. Over the
  // integers it is empty: no integer lies strictly between.
  if (gt && lt && static_cast<Int128>(*lt) - *gt <= 1) return empty();
  std::vector<std::string> values;
  const auto& a = values_;
  const auto& b = other.values_;
  if (complement_ && other.complement_) {
    std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(values));
  } else if (complement_) {
    std::set_difference(b.begin(), b.end(), a.begin(), a.end(), std::back_inserter(values));
  } else if (other.complement_) {
    std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(values));
  } else {
    std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(values));
  }
  std::erase_if(values, [&](const std::string& v) { return !WithinBounds(v, gt, lt); });
  if (complement && gt && lt &&
      static_cast<Int128>(*lt) - *gt - 1 <= static_cast<Int128>(values.size())) {
    // A small range: empty if every integer in it is excluded.
    bool any_left = false;
    for (int64_t n = *gt + 1; n < *lt && !any_left; ++n) {
      any_left = !std::binary_search(values.begin(), values.end(), std::to_string(n));
    }
    if (!any_left) return empty();
  }
  Requirement result(key_, complement, {});
  result.values_ = std::move(values);  // already sorted and unique
  if (complement) {
    result.greater_than_ = gt;
    result.less_than_ = lt;
  }
  result.min_values_ = min_values;
  return result;
}

std::optional<std::string> Requirement::Any() const {
  if (!complement_) {
    if (values_.empty()) return std::nullopt;
    return values_.front();
  }
  // No integer exceeds INT64_MAX: check before computing gt + 1 (found by fuzzing).
  if (greater_than_ && *greater_than_ == std::numeric_limits<int64_t>::max()) return std::nullopt;
  int64_t lo = greater_than_ ? *greater_than_ + 1 : 0;
  int64_t hi = less_than_ ? *less_than_ : std::numeric_limits<int64_t>::max();
  // Each excluded value can block at most one candidate, so this ends within values_.size()+1.
  for (int64_t n = std::max<int64_t>(lo, 0); n < hi; ++n) {
    std::string candidate = std::to_string(n);
    if (!std::binary_search(values_.begin(), values_.end(), candidate)) return candidate;
    if (n == std::numeric_limits<int64_t>::max()) break;
  }
  return std::nullopt;
}

std::vector<NodeSelectorRequirement> Requirement::ToNodeSelectorRequirements() const {
  std::vector<NodeSelectorRequirement> out;
  if (!greater_than_ && !less_than_) {
    out.push_back({.key = key_, .op = op(), .values = values_, .min_values = min_values_});
    return out;
  }
  if (!values_.empty()) {
    out.push_back({.key = key_, .op = Operator::kNotIn, .values = values_, .min_values = {}});
  }
  if (greater_than_) {
    out.push_back({.key = key_, .op = Operator::kGt, .values = {std::to_string(*greater_than_)},
                   .min_values = {}});
  }
  if (less_than_) {
    out.push_back({.key = key_, .op = Operator::kLt, .values = {std::to_string(*less_than_)},
                   .min_values = {}});
  }
  out.front().min_values = min_values_;
  return out;
}

std::string Requirement::ToString() const {
  std::string s = key_ + " " + std::string(OperatorName(op()));
  if (op() == Operator::kIn || op() == Operator::kNotIn) {
    s += " [";
    for (size_t i = 0; i < values_.size() && i < 5; ++i) {
      if (i > 0) s += " ";
      s += values_[i];
    }
    if (values_.size() > 5) s += " and " + std::to_string(values_.size() - 5) + " others";
    s += "]";
  }
  if (greater_than_) s += " >" + std::to_string(*greater_than_);
  if (less_than_) s += " <" + std::to_string(*less_than_);
  if (min_values_) s += " minValues " + std::to_string(*min_values_);
  return s;
}

}  // namespace gpufleet::core
