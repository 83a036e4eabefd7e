// ValueWalker: structured-merge-diff's typed walkers on JSON (see patch_walk.h).
#include "core/patch_walk.h"

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/json.h"

namespace gpufleet::core::patch_internal {

using json = nlohmann::json;

std::string JoinPath(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

// The FieldsV1 element of a keyed/set list item.
std::string ValueWalker::ItemElement(const json& item, const FieldRule& rule, const FieldPath& path,
                                     std::size_t index, StatusCode code) const {
  if (rule.list_type == ListType::kSet) return "v:" + DumpJson(item);
  std::string where = PathString(path) + ": element " + std::to_string(index) + ": ";
  if (!item.is_object()) {
    throw ApplyError{code, where + "associative list item is not an object"};
  }
  json key = json::object();
  const std::vector<std::string>& names =
      rule.list_map_keys.empty() ? std::vector<std::string>{rule.merge_key} : rule.list_map_keys;
  for (const std::string& name : names) {
    auto it = item.find(name);
    if (it != item.end() && !it->is_null()) {
      key[name] = *it;
    } else if (auto d = rule.key_defaults.find(name); d != rule.key_defaults.end()) {
      key[name] = d->second;
    } else {
      throw ApplyError{code, where +
                                 "associative list with keys has an element that omits "
                                 "key field \"" +
                                 name + "\" (and doesn't have default value)"};
    }
  }
  return "k:" + DumpJson(key);
}

bool ValueWalker::Granular(const FieldRule* rule) {
  return rule != nullptr && rule->list_type != ListType::kAtomic;
}

// typed.ToFieldSet: every leaf, and every item of a keyed or set list.
void ValueWalker::ToSet(const json& v, const std::string& spath, FieldPath& path,
                        const FieldRule* rule, FieldSet& out) const {
  if (v.is_object() && !(rule != nullptr && rule->replace) && !v.empty()) {
    for (const auto& [key, child] : v.items()) {
      path.push_back("f:" + key);
      std::string child_spath = JoinPath(spath, key);
      ToSet(child, child_spath, path, schema_.Find(child_spath), out);
      path.pop_back();
    }
  } else if (v.is_array() && Granular(rule) && !v.empty()) {
    std::vector<std::string> seen;
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::string element = ItemElement(v[i], *rule, path, i, StatusCode::kInvalidArgument);
      if (std::find(seen.begin(), seen.end(), element) != seen.end()) {
        throw ApplyError{StatusCode::kInvalidArgument,
                         PathString(path) + ": duplicate entries for key " + PathString({element})};
      }
      seen.push_back(element);
      path.push_back(element);
      out.Insert(path);
      if (rule->list_type == ListType::kMap) {
        for (const auto& [key, child] : v[i].items()) {
          path.push_back("f:" + key);
          std::string child_spath = JoinPath(spath + "[]", key);
          ToSet(child, child_spath, path, schema_.Find(child_spath), out);
          path.pop_back();
        }
      }
      path.pop_back();
    }
  } else {
    out.Insert(path);
  }
}

// typed.Compare: leaves are added, removed or modified; objects and list items that appear or
// disappear are added or removed themselves (the "." entries).
void ValueWalker::Compare(const json* l, const json* r, const std::string& spath, FieldPath& path,
                          const FieldRule* rule, Comparison& c) const {
  auto object = [](const json* v) { return v == nullptr || v->is_object(); };
  auto array = [](const json* v) { return v == nullptr || v->is_array(); };
  auto empty = [](const json* v) { return v == nullptr || v->empty(); };
  const bool maps =
      object(l) && object(r) && !(rule != nullptr && rule->replace) && !(empty(l) && empty(r));
  const bool lists = Granular(rule) && array(l) && array(r) && !(empty(l) && empty(r));
  if (maps) {
    std::map<std::string, std::pair<const json*, const json*>> keys;
    if (l != nullptr) {
      for (const auto& [k, v] : l->items()) keys[k].first = &v;
    }
    if (r != nullptr) {
      for (const auto& [k, v] : r->items()) keys[k].second = &v;
    }
    for (const auto& [k, sides] : keys) {
      path.push_back("f:" + k);
      std::string child_spath = JoinPath(spath, k);
      Compare(sides.first, sides.second, child_spath, path, schema_.Find(child_spath), c);
      path.pop_back();
    }
  } else if (lists) {
    std::map<std::string, std::pair<const json*, const json*>> items;
    for (int side = 0; side < 2; ++side) {
      const json* list = side == 0 ? l : r;
      if (list == nullptr) continue;
      for (std::size_t i = 0; i < list->size(); ++i) {
        auto& slot = items[ItemElement((*list)[i], *rule, path, i, lenient_code_)];
        const json*& target = side == 0 ? slot.first : slot.second;
        if (target == nullptr) target = &(*list)[i];
      }
    }
    for (const auto& [element, sides] : items) {
      path.push_back(element);
      if (rule->list_type == ListType::kMap) {
        Compare(sides.first, sides.second, spath + "[]", path, nullptr, c);
      } else {
        Leaf(sides.first, sides.second, path, c);
      }
      path.pop_back();
    }
  } else {
    Leaf(l, r, path, c);
    return;
  }
  if (l == nullptr) c.added.Insert(path);
  if (r == nullptr) c.removed.Insert(path);
}

// typed.Merge of an apply configuration into the live value: the configuration wins, objects
// merge, keyed and set lists merge by key keeping upstream's order; null removes.
json ValueWalker::Merge(const json* live, const json& config, const std::string& spath,
                        FieldPath& path, const FieldRule* rule) const {
  if (config.is_object() && !(rule != nullptr && rule->replace)) {
    json out = (live != nullptr && live->is_object()) ? *live : json::object();
    for (const auto& [key, value] : config.items()) {
      auto it = out.find(key);
      std::string child_spath = JoinPath(spath, key);
      path.push_back("f:" + key);
      json merged = Merge(it == out.end() ? nullptr : &*it, value, child_spath, path,
                          schema_.Find(child_spath));
      path.pop_back();
      if (merged.is_null()) {
        out.erase(key);
      } else {
        out[key] = std::move(merged);
      }
    }
    return out;
  }
  if (config.is_array() && Granular(rule) && live != nullptr && live->is_array()) {
    return MergeList(*live, config, spath, path, *rule);
  }
  return config;
}

// Removes every member of `set` from `v` (typed.RemoveItems).
void ValueWalker::Remove(json& v, const FieldSet& set, const std::string& spath, FieldPath& path,
                         const FieldRule* rule) const {
  if (v.is_object()) {
    for (const auto& [element, child] : set.children()) {
      if (!element.starts_with("f:")) continue;
      std::string key = element.substr(2);
      auto it = v.find(key);
      if (it == v.end()) continue;
      if (child.member()) {
        v.erase(it);
      } else {
        std::string child_spath = JoinPath(spath, key);
        path.push_back(element);
        Remove(*it, child, child_spath, path, schema_.Find(child_spath));
        path.pop_back();
      }
    }
  } else if (v.is_array() && Granular(rule)) {
    json kept = json::array();
    for (std::size_t i = 0; i < v.size(); ++i) {
      const FieldSet* child = set.Child(ItemElement(v[i], *rule, path, i, lenient_code_));
      if (child != nullptr && child->member()) continue;
      if (child != nullptr && rule->list_type == ListType::kMap) {
        Remove(v[i], *child, spath + "[]", path, nullptr);
      }
      kept.push_back(std::move(v[i]));
    }
    v = std::move(kept);
  }
}

void ValueWalker::Leaf(const json* l, const json* r, const FieldPath& path, Comparison& c) {
  if (l == nullptr) {
    c.added.Insert(path);
  } else if (r == nullptr) {
    c.removed.Insert(path);
  } else if (*l != *r) {
    c.modified.Insert(path);
  }
}

json ValueWalker::MergeList(const json& live, const json& config, const std::string& spath,
                            FieldPath& path, const FieldRule& rule) const {
  std::vector<std::string> lhs, rhs;
  for (std::size_t i = 0; i < live.size(); ++i) {
    lhs.push_back(ItemElement(live[i], rule, path, i, lenient_code_));
  }
  std::map<std::string, std::size_t> rhs_index, lhs_first;
  for (std::size_t i = 0; i < config.size(); ++i) {
    rhs.push_back(ItemElement(config[i], rule, path, i, StatusCode::kInvalidArgument));
    rhs_index.emplace(rhs.back(), i);
  }
  for (std::size_t i = 0; i < lhs.size(); ++i) lhs_first.emplace(lhs[i], i);
  std::vector<std::string> shared;
  for (const std::string& e : rhs) {
    if (lhs_first.count(e) != 0) shared.push_back(e);
  }
  std::size_t next = 0;
  json out = json::array();
  auto emit = [&](const json* l, std::size_t r) {
    path.push_back(rhs[r]);
    json merged = rule.list_type == ListType::kMap
                      ? Merge(l, config[r], spath + "[]", path, nullptr)
                      : config[r];
    path.pop_back();
    out.push_back(std::move(merged));
  };
  std::size_t li = 0, ri = 0;
  while (li < lhs.size() || ri < rhs.size()) {
    if (li < lhs.size()) {
      const std::string& e = lhs[li];
      bool in_rhs = rhs_index.count(e) != 0;
      if (in_rhs && lhs_first[e] != li) {  // A duplicate of an applied item: the config wins.
        ++li;
        continue;
      }
      if (ri < rhs.size() && e == rhs[ri]) {
        emit(&live[li], ri);
        ++li;
        ++ri;
        if (next < shared.size() && shared[next] == e) ++next;
        continue;
      }
      if (!in_rhs) {
        out.push_back(live[li]);
        ++li;
        continue;
      }
      if (ri < rhs.size() && next < shared.size() && shared[next] != e) {
        ++li;  // Shared, but later in the configuration's order.
        continue;
      }
    }
    if (ri < rhs.size()) {
      auto first = lhs_first.find(rhs[ri]);
      emit(first == lhs_first.end() ? nullptr : &live[first->second], ri);
      if (next < shared.size() && shared[next] == rhs[ri]) ++next;
      ++ri;
      continue;
    }
    ++li;
  }
  return out;
}

}  // namespace gpufleet::core::patch_internal
