// FieldSet operations and the FieldsV1 encoding (sigs.k8s.io/structured-merge-diff fieldpath).
#include "core/patch_fieldset.h"

#include <exception>
#include <string>
#include <utility>

#include "core/json.h"

namespace gpufleet::core::patch_internal {

using json = nlohmann::json;

const FieldSet* FieldSet::Child(const PathElement& element) const {
  auto it = children_.find(element);
  return it == children_.end() ? nullptr : &it->second;
}

void FieldSet::Insert(const FieldPath& path) {
  if (path.empty()) return;
  FieldSet* node = this;
  for (const PathElement& element : path) node = &node->children_[element];
  node->member_ = true;
}

void FieldSet::Union(const FieldSet& other) {
  member_ = member_ || other.member_;
  for (const auto& [element, child] : other.children_) children_[element].Union(child);
}

FieldSet FieldSet::Difference(const FieldSet& other) const {
  FieldSet out;
  out.member_ = member_ && !other.member_;
  for (const auto& [element, child] : children_) {
    const FieldSet* theirs = other.Child(element);
    FieldSet d = theirs == nullptr ? child : child.Difference(*theirs);
    if (!d.empty()) out.children_.emplace(element, std::move(d));
  }
  return out;
}

FieldSet FieldSet::Intersection(const FieldSet& other) const {
  FieldSet out;
  out.member_ = member_ && other.member_;
  for (const auto& [element, child] : children_) {
    const FieldSet* theirs = other.Child(element);
    if (theirs == nullptr) continue;
    FieldSet i = child.Intersection(*theirs);
    if (!i.empty()) out.children_.emplace(element, std::move(i));
  }
  return out;
}

void FieldSet::ForEach(const std::function<void(const FieldPath&)>& fn) const {
  FieldPath prefix;
  ForEachImpl(prefix, fn);
}

void FieldSet::ForEachImpl(FieldPath& prefix,
                           const std::function<void(const FieldPath&)>& fn) const {
  if (member_ && !prefix.empty()) fn(prefix);
  for (const auto& [element, child] : children_) {
    prefix.push_back(element);
    child.ForEachImpl(prefix, fn);
    prefix.pop_back();
  }
}

json FieldSet::ToFieldsV1() const {
  json out = json::object();
  for (const auto& [element, child] : children_) {
    json sub = child.ToFieldsV1();
    if (child.member_ && !child.children_.empty()) sub["."] = json::object();
    out[element] = std::move(sub);
  }
  return out;
}

namespace {

// Parses and re-serializes the JSON in a k:/v: element so equal keys compare equal.
Result<PathElement> CanonicalElement(const std::string& key) {
  if (key.size() < 2 || key[1] != ':') {
    return InvalidArgumentError("fieldsV1: invalid path element " + DumpJson(key));
  }
  char type = key[0];
  std::string_view body = std::string_view(key).substr(2);
  switch (type) {
    case 'f':
      return key;
    case 'i': {
      if (body.empty() || body.find_first_not_of("0123456789") != std::string_view::npos) {
        return InvalidArgumentError("fieldsV1: invalid index in " + DumpJson(key));
      }
      return key;
    }
    case 'k':
    case 'v': {
      Result<json> value = ParseJson(body, 64);
      if (!value.ok() || (type == 'k' && !value->is_object())) {
        return InvalidArgumentError("fieldsV1: invalid value in " + DumpJson(key));
      }
      return std::string(1, type) + ":" + DumpJson(*value);
    }
    default:
      return InvalidArgumentError("fieldsV1: invalid path element " + DumpJson(key));
  }
}

}  // namespace

Result<FieldSet> FieldSet::FromFieldsV1(const json& fields) {
  if (!fields.is_object()) return InvalidArgumentError("fieldsV1: expected an object");
  FieldSet out;
  for (const auto& [key, value] : fields.items()) {
    if (key == ".") {
      out.member_ = true;
      continue;
    }
    GF_ASSIGN_OR_RETURN(PathElement element, CanonicalElement(key));
    GF_ASSIGN_OR_RETURN(FieldSet child, FromFieldsV1(value));
    if (value.empty()) child.member_ = true;
    out.children_[element].Union(child);
  }
  return out;
}

std::string PathString(const FieldPath& path) {
  std::string out;
  for (const PathElement& element : path) {
    std::string_view body = std::string_view(element).substr(element.size() >= 2 ? 2 : 0);
    if (element.starts_with("f:")) {
      out += "." + std::string(body);
    } else if (element.starts_with("i:")) {
      out += "[" + std::string(body) + "]";
    } else if (element.starts_with("v:")) {
      out += "[=" + std::string(body) + "]";
    } else if (element.starts_with("k:")) {
      Result<json> keys = ParseJson(body, 64);
      out += "[";
      if (keys.ok() && keys->is_object()) {
        bool first = true;
        for (const auto& [name, value] : keys->items()) {
          out += (first ? "" : ",") + name + "=" + DumpJson(value);
          first = false;
        }
      }
      out += "]";
    } else {
      out += "{{invalid path element}}";
    }
  }
  return out;
}

}  // namespace gpufleet::core::patch_internal
