#include "core/resource_list.h"

#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace gpufleet::core {
namespace {

using Json = nlohmann::json;

std::string ResourceContext(std::string_view name) {
  return "resource " + Json(std::string(name)).dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The API server trims the text of a quantity (strings.TrimSpace) before parsing it.
std::string_view TrimAsciiSpace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  const size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

Result<Quantity> ParseValue(std::string_view name, std::string_view text) {
  Result<Quantity> q = Quantity::Parse(text);
  if (!q.ok()) return q.status().WithContext(ResourceContext(name));
  return q;
}

Status WrongType(std::string_view name, std::string_view type) {
  return InvalidArgumentError(ResourceContext(name) +
                              ": expected a quantity string or number, got " + std::string(type));
}

Status NotAnObject(std::string_view type) {
  return InvalidArgumentError("resource list must be a JSON object, got " + std::string(type));
}

// Streams the JSON so that a number's literal text, not a double, reaches Quantity::Parse.
class ResourceListSax final : public nlohmann::json_sax<Json> {
 public:
  ResourceList& list() { return list_; }
  Status& status() { return status_; }

  bool null() override { return Store(Quantity()); }
  bool boolean(bool) override { return Fail("boolean"); }
  bool number_integer(number_integer_t v) override { return Parse(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return Parse(std::to_string(v)); }
  bool number_float(number_float_t, const string_t& text) override { return Parse(text); }
  bool string(string_t& v) override {
    return depth_ == 1 ? Parse(TrimAsciiSpace(v)) : Fail("string");
  }
  bool binary(binary_t&) override { return Fail("binary"); }
  bool start_object(std::size_t) override { return depth_++ == 0 || Fail("object"); }
  bool key(string_t& k) override {
    key_ = std::move(k);
    return true;
  }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return Fail("array"); }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    // 406: a number too large for a double; a quantity that large is out of range anyway.
    const std::string message = std::string("resource list: invalid JSON: ") + e.what();
    status_ = e.id == 406 ? OutOfRangeError(message) : InvalidArgumentError(message);
    return false;
  }

 private:
  bool Fail(std::string_view type) {
    status_ = depth_ == 0 ? NotAnObject(type) : WrongType(key_, type);
    return false;
  }
  bool Parse(std::string_view text) {
    if (depth_ == 0) return Fail("number");
    Result<Quantity> q = ParseValue(key_, text);
    if (!q.ok()) {
      status_ = q.status();
      return false;
    }
    return Store(*std::move(q));
  }
  bool Store(Quantity q) {
    if (depth_ == 1) list_.Set(key_, std::move(q));
    return true;  // a top-level null is an empty list, as for a nil Go map
  }

  int depth_ = 0;
  std::string key_;
  ResourceList list_;
  Status status_;
};

}  // namespace

ResourceList::ResourceList(std::initializer_list<std::pair<std::string_view, Quantity>> entries) {
  for (const auto& [name, quantity] : entries) Set(name, quantity);
}

Result<ResourceList> ResourceList::FromJson(std::string_view json_text) {
  ResourceListSax sax;
  try {
    if (!Json::sax_parse(json_text.begin(), json_text.end(), &sax)) {
      if (sax.status().ok()) return InvalidArgumentError("resource list: invalid JSON");
      return sax.status();
    }
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("resource list: invalid JSON: ") + e.what());
  }
  return std::move(sax.list());
}

Result<ResourceList> ResourceList::FromJsonValue(const nlohmann::json& object) {
  if (object.is_null()) return ResourceList();
  if (!object.is_object()) return NotAnObject(object.type_name());
  ResourceList list;
  try {
    for (const auto& [name, value] : object.items()) {
      std::string text;
      if (value.is_null()) {
        list.Set(name, Quantity());
        continue;
      } else if (value.is_string()) {
        text = TrimAsciiSpace(value.get_ref<const std::string&>());
      } else if (value.is_number_unsigned()) {
        text = std::to_string(value.get<uint64_t>());
      } else if (value.is_number_integer()) {
        text = std::to_string(value.get<int64_t>());
      } else if (value.is_number_float()) {
        text = value.dump();  // shortest round-trip decimal; "null" for NaN and infinities
      } else {
        return WrongType(name, value.type_name());
      }
      GF_ASSIGN_OR_RETURN(Quantity q, ParseValue(name, text));
      list.Set(name, std::move(q));
    }
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("resource list: ") + e.what());
  }
  return list;
}

std::string ResourceList::ToJson() const {
  Json object = Json::object();
  for (const auto& [name, quantity] : entries_) object[name] = quantity.String();
  // replace: a name that is not UTF-8 must not throw out of here.
  return object.dump(-1, ' ', false, Json::error_handler_t::replace);
}

const Quantity* ResourceList::Find(std::string_view name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

Quantity* ResourceList::Find(std::string_view name) {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

Quantity ResourceList::Get(std::string_view name) const {
  const Quantity* q = Find(name);
  return q == nullptr ? Quantity() : *q;
}

void ResourceList::Set(std::string_view name, Quantity quantity) {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    entries_.emplace(std::string(name), std::move(quantity));
  } else {
    it->second = std::move(quantity);
  }
}

bool ResourceList::Erase(std::string_view name) {
  auto it = entries_.find(name);
  if (it == entries_.end()) return false;
  entries_.erase(it);
  return true;
}

bool ResourceList::IsZero() const {
  for (const auto& [name, quantity] : entries_) {
    if (!quantity.IsZero()) return false;
  }
  return true;
}

std::ostream& operator<<(std::ostream& os, const ResourceList& list) { return os << list.ToJson(); }

Result<ResourceList> Merge(std::span<const ResourceList> lists) {
  ResourceList result;
  for (const ResourceList& list : lists) GF_RETURN_IF_ERROR(MergeInto(result, list));
  return result;
}

Result<ResourceList> Merge(const ResourceList& a, const ResourceList& b) {
  const ResourceList lists[] = {a, b};
  return Merge(lists);
}

Status MergeInto(ResourceList& dest, const ResourceList& src) {
  // Check every sum first so that an error leaves dest unchanged.
  for (const auto& [name, quantity] : src) {
    const Quantity* current = dest.Find(name);
    if (current == nullptr) continue;  // 0 + q is always in range
    int128 sum = 0;
    if (__builtin_add_overflow(current->NanoValue(), quantity.NanoValue(), &sum) ||
        sum < -Quantity::kMaxNanos) {
      Quantity probe = *current;
      return probe.Add(quantity).WithContext(ResourceContext(name));
    }
  }
  for (const auto& [name, quantity] : src) {
    if (Quantity* current = dest.Find(name); current != nullptr) {
      current->Add(quantity).IgnoreError();  // checked above
      continue;
    }
    // Like Go's `current := dest[name]; current.Add(q)`: a new name starts from zero, so it takes
    // the quantity's format but not its parsed text.
    Quantity sum;
    sum.Add(quantity).IgnoreError();  // 0 + q
    dest.Set(name, std::move(sum));
  }
  return OkStatus();
}

Result<ResourceList> Subtract(const ResourceList& lhs, const ResourceList& rhs) {
  ResourceList result = lhs;
  for (const auto& [name, quantity] : lhs) {
    const Quantity* subtrahend = rhs.Find(name);
    if (subtrahend == nullptr) continue;
    Quantity difference = quantity;
    if (Status s = difference.Sub(*subtrahend); !s.ok()) {
      return s.WithContext(ResourceContext(name));
    }
    result.Set(name, std::move(difference));
  }
  return result;
}

ResourceList MaxResources(std::span<const ResourceList> lists) {
  ResourceList result;
  for (const ResourceList& list : lists) {
    for (const auto& [name, quantity] : list) {
      const Quantity* current = result.Find(name);
      if (current == nullptr || quantity > *current) result.Set(name, quantity);
    }
  }
  return result;
}

ResourceList MaxResources(const ResourceList& a, const ResourceList& b) {
  const ResourceList lists[] = {a, b};
  return MaxResources(lists);
}

bool Fits(const ResourceList& candidate, const ResourceList& total) {
  for (const auto& [name, quantity] : total) {
    if (quantity.Sign() < 0) return false;
  }
  for (const auto& [name, quantity] : candidate) {
    const Quantity* available = total.Find(name);
    if (available == nullptr ? quantity.Sign() > 0 : quantity > *available) return false;
  }
  return true;
}

int CmpResource(const ResourceList& lhs, const ResourceList& rhs, std::string_view name) {
  const Quantity* a = lhs.Find(name);
  const Quantity* b = rhs.Find(name);
  const Quantity zero;
  return (a == nullptr ? zero : *a).Cmp(b == nullptr ? zero : *b);
}

}  // namespace gpufleet::core
