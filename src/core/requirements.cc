#include "core/requirements.h"

#include <algorithm>
#include <string>

namespace gpufleet::core {
namespace {

bool IsAbsenceOperator(Operator op) { return op == Operator::kNotIn || op == Operator::kDoesNotExist; }

}  // namespace

Requirements Requirements::FromLabels(const Labels& labels) {
  Requirements out;
  for (const auto& [key, value] : labels) out.Add(Requirement::In(key, {value.str()}));
  return out;
}

Result<Requirements> Requirements::FromNodeSelectorRequirements(
    const std::vector<NodeSelectorRequirement>& reqs) {
  Requirements out;
  for (const auto& wire : reqs) {
    GF_ASSIGN_OR_RETURN(Requirement r, Requirement::Create(wire));
    out.Add(r);
  }
  return out;
}

const Requirements::Map& Requirements::EmptyMap() {
  static const Map* const empty = new Map();
  return *empty;
}

Requirements::Map& Requirements::Mutable() {
  if (!by_key_) {
    by_key_ = std::make_shared<Map>();
  } else if (by_key_.use_count() > 1) {
    by_key_ = std::make_shared<Map>(*by_key_);
  }
  return *by_key_;
}

void Requirements::Add(const Requirement& r) {
  if (by_key_) {
    auto found = by_key_->find(r.key());
    if (found != by_key_->end() && found->second == r) return;  // already this exact requirement
  }
  Map& map = Mutable();
  auto it = map.find(r.key());
  if (it == map.end()) {
    map.emplace(r.key(), r);
    return;
  }
  it->second = r.Intersection(it->second);
}

void Requirements::Add(const Requirements& other) {
  if (empty()) {
    by_key_ = other.by_key_;  // the intersection with nothing is `other`: share it
    return;
  }
  if (by_key_ == other.by_key_) return;  // x ∩ x = x
  for (const auto& [key, r] : other.ByKey()) Add(r);
}

Requirement Requirements::Get(std::string_view key) const {
  const Requirement* r = Find(key);
  return r == nullptr ? Requirement::Exists(key) : *r;
}

const Requirement* Requirements::Find(std::string_view key) const {
  if (!by_key_) return nullptr;
  auto it = by_key_->find(key);
  return it == by_key_->end() ? nullptr : &it->second;
}

bool Requirements::DoesIntersectOn(const Requirements& incoming, std::string_view key) const {
  const Requirement* mine = Find(key);
  const Requirement* theirs = incoming.Find(key);
  return mine == nullptr || theirs == nullptr || IntersectsKey(*mine, *theirs);
}

bool Requirements::IntersectsKey(const Requirement& existing, const Requirement& incoming) const {
  if (existing.Intersects(incoming)) return true;
  return IsAbsenceOperator(incoming.op()) && IsAbsenceOperator(existing.op());
}

bool Requirements::DoesIntersect(const Requirements& incoming) const {
  // Walk the smaller map and look up in the larger one.
  const bool self_smaller = ByKey().size() <= incoming.ByKey().size();
  const auto& small = self_smaller ? ByKey() : incoming.ByKey();
  const auto& large = self_smaller ? incoming.ByKey() : ByKey();
  for (const auto& [key, r] : small) {
    auto it = large.find(key);
    if (it == large.end()) continue;
    const Requirement& existing = self_smaller ? r : it->second;
    const Requirement& other = self_smaller ? it->second : r;
    if (!IntersectsKey(existing, other)) return false;
  }
  return true;
}

Status Requirements::Intersects(const Requirements& incoming) const {
  std::string errors;
  for (const auto& [key, existing] : ByKey()) {
    auto it = incoming.ByKey().find(key);
    if (it == incoming.ByKey().end() || IntersectsKey(existing, it->second)) continue;
    if (!errors.empty()) errors += "; ";
    errors += "key " + key + ", " + it->second.ToString() + " not in " + existing.ToString();
  }
  if (errors.empty()) return OkStatus();
  return FailedPreconditionError(errors);
}

bool Requirements::IsCompatible(const Requirements& incoming,
                                const std::set<std::string, std::less<>>& allow_undefined) const {
  for (const auto& [key, r] : incoming.ByKey()) {
    if (Has(key) || IsAbsenceOperator(r.op()) || allow_undefined.count(key)) continue;
    return false;
  }
  return DoesIntersect(incoming);
}

Status Requirements::Compatible(const Requirements& incoming,
                                const std::set<std::string, std::less<>>& allow_undefined) const {
  std::string errors;
  for (const auto& [key, r] : incoming.ByKey()) {
    if (Has(key) || IsAbsenceOperator(r.op()) || allow_undefined.count(key)) continue;
    if (!errors.empty()) errors += "; ";
    errors += "label \"" + key + "\" does not have known values";
  }
  Status intersects = Intersects(incoming);
  if (!intersects.ok()) {
    if (!errors.empty()) errors += "; ";
    errors += intersects.message();
  }
  if (errors.empty()) return OkStatus();
  return FailedPreconditionError(errors);
}

bool Requirements::Matches(const Labels& labels) const {
  for (const auto& [key, r] : ByKey()) {
    auto it = labels.find(key);
    if (it == labels.end()) {
      // An absent label satisfies only "absence" requirements (NotIn, DoesNotExist).
      if (!IsAbsenceOperator(r.op()) || r.greater_than() || r.less_than()) return false;
      continue;
    }
    if (!r.Has(it->second)) return false;
  }
  return true;
}

bool Requirements::HasMinValues() const {
  return std::any_of(ByKey().begin(), ByKey().end(),
                     [](const auto& kv) { return kv.second.min_values().has_value(); });
}

Labels Requirements::ToLabels(const std::function<bool(std::string_view)>& skip) const {
  Labels out;
  for (const auto& [key, r] : ByKey()) {
    if (skip && skip(key)) continue;
    if (auto v = r.Any()) out.emplace(key, *v);
  }
  return out;
}

std::vector<NodeSelectorRequirement> Requirements::ToNodeSelectorRequirements() const {
  std::vector<NodeSelectorRequirement> out;
  for (const auto& [key, r] : ByKey()) {
    auto parts = r.ToNodeSelectorRequirements();
    out.insert(out.end(), parts.begin(), parts.end());
  }
  return out;
}

std::string Requirements::ToString() const {
  std::vector<std::string> parts;
  for (const auto& [key, r] : ByKey()) parts.push_back(r.ToString());
  std::sort(parts.begin(), parts.end());
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += ", ";
    out += p;
  }
  return out;
}

}  // namespace gpufleet::core
