// JSON merge patch (RFC 7386) and JSON patch (RFC 6902) as the Kubernetes API server applies them.
#include "core/patch.h"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"

namespace gpufleet::core {
namespace {

using json = nlohmann::json;

// RFC 7386 section 2, MergePatch(Target, Patch).
json MergePatchValue(const json* target, const json& patch) {
  if (!patch.is_object()) return patch;
  json result = (target != nullptr && target->is_object()) ? *target : json::object();
  for (const auto& [key, value] : patch.items()) {
    if (value.is_null()) {
      result.erase(key);
      continue;
    }
    auto it = result.find(key);
    result[key] = MergePatchValue(it == result.end() ? nullptr : &*it, value);
  }
  return result;
}

// evanphx/json-patch getDiff: the merge patch from `a` to `b`, both objects.
json MergeDiff(const json& a, const json& b) {
  json into = json::object();
  for (const auto& [key, bv] : b.items()) {
    auto it = a.find(key);
    if (it == a.end() || it->type() != bv.type()) {
      into[key] = bv;
    } else if (bv.is_object()) {
      json sub = MergeDiff(*it, bv);
      if (!sub.empty()) into[key] = std::move(sub);
    } else if (*it != bv) {
      into[key] = bv;
    }
  }
  for (const auto& [key, av] : a.items()) {
    (void)av;
    if (!b.contains(key)) into[key] = nullptr;
  }
  return into;
}

// ---- JSON patch ---------------------------------------------------------------------------

// Thrown inside ApplyJsonPatch only and caught there: keeps the operation code readable.
struct OpError {
  std::string message;
  bool test_failed = false;
};

constexpr std::string_view kTestFailedSuffix = ": test failed";

std::vector<std::string> ParsePointer(const std::string& pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/') {
    throw OpError{"path " + DumpJson(pointer) + " is not a JSON pointer (must start with '/')"};
  }
  std::string token;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(std::move(token));
      token.clear();
    } else if (pointer[i] == '~') {
      if (i + 1 < pointer.size() && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
        token.push_back(pointer[i + 1] == '0' ? '~' : '/');
        ++i;
      } else {
        throw OpError{"path " + DumpJson(pointer) + " has an invalid '~' escape"};
      }
    } else {
      token.push_back(pointer[i]);
    }
  }
  return tokens;
}

// strconv.Atoi: optional sign, decimal digits, no overflow.
std::optional<int64_t> ParseIndex(std::string_view token) {
  if (token.empty()) return std::nullopt;
  bool negative = false;
  std::size_t i = 0;
  if (token[0] == '+' || token[0] == '-') {
    negative = token[0] == '-';
    i = 1;
  }
  if (i == token.size()) return std::nullopt;
  int64_t value = 0;
  for (; i < token.size(); ++i) {
    if (token[i] < '0' || token[i] > '9') return std::nullopt;
    if (value > (std::numeric_limits<int32_t>::max() - (token[i] - '0')) / 10) return std::nullopt;
    value = value * 10 + (token[i] - '0');
  }
  return negative ? -value : value;
}

// An index into an array of `size` elements (negative counts from the end, as evanphx v4 does).
std::size_t ArrayIndex(const std::string& token, std::size_t size) {
  std::optional<int64_t> index = ParseIndex(token);
  if (!index) throw OpError{"value was not a proper array index: '" + token + "'"};
  int64_t i = *index;
  int64_t n = static_cast<int64_t>(size);
  if (i < 0) {
    if (i < -n) throw OpError{"Unable to access invalid index: " + token + ": invalid index"};
    i += n;
  }
  if (i >= n) throw OpError{"Unable to access invalid index: " + token + ": invalid index"};
  return static_cast<std::size_t>(i);
}

// The container that holds the last token of `tokens`, or nullptr when a step is missing.
json* FindParent(json& doc, const std::vector<std::string>& tokens) {
  json* node = &doc;
  for (std::size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (node->is_object()) {
      auto it = node->find(tokens[i]);
      if (it == node->end()) return nullptr;
      node = &*it;
    } else if (node->is_array()) {
      std::optional<int64_t> index = ParseIndex(tokens[i]);
      int64_t n = static_cast<int64_t>(node->size());
      if (!index || *index >= n || *index < -n) return nullptr;
      node = &(*node)[static_cast<std::size_t>(*index < 0 ? *index + n : *index)];
    } else {
      return nullptr;
    }
  }
  return (node->is_object() || node->is_array()) ? node : nullptr;
}

std::string MissingPath(std::string_view op, std::string_view what, const std::string& path) {
  return std::string(op) + " operation does not apply: doc is missing " + std::string(what) + ": " +
         DumpJson(path) + ": missing value";
}

void AddValue(json& doc, const std::string& path, json value, std::string_view op) {
  std::vector<std::string> tokens = ParsePointer(path);
  if (tokens.empty()) {
    doc = std::move(value);
    return;
  }
  json* parent = FindParent(doc, tokens);
  if (parent == nullptr) throw OpError{MissingPath(op, "path", path)};
  const std::string& key = tokens.back();
  if (parent->is_object()) {
    (*parent)[key] = std::move(value);
    return;
  }
  if (key == "-") {
    parent->push_back(std::move(value));
    return;
  }
  // Insert position in [0, size]; negative positions count from size + 1 (evanphx v4).
  std::size_t index = ArrayIndex(key, parent->size() + 1);
  parent->insert(parent->begin() + static_cast<std::ptrdiff_t>(index), std::move(value));
}

json RemoveValue(json& doc, const std::string& path, std::string_view op) {
  std::vector<std::string> tokens = ParsePointer(path);
  json* parent = tokens.empty() ? nullptr : FindParent(doc, tokens);
  if (parent == nullptr) throw OpError{MissingPath(op, "path", path)};
  const std::string& key = tokens.back();
  if (parent->is_object()) {
    auto it = parent->find(key);
    if (it == parent->end()) throw OpError{"Unable to remove nonexistent key: " + key};
    json removed = std::move(*it);
    parent->erase(it);
    return removed;
  }
  std::size_t index = ArrayIndex(key, parent->size());
  json removed = std::move((*parent)[index]);
  parent->erase(parent->begin() + static_cast<std::ptrdiff_t>(index));
  return removed;
}

// The value at `path`, or nullptr for a missing object member. Throws for a missing parent or an
// array index out of range.
const json* GetValue(json& doc, const std::string& path, std::string_view op,
                     std::string_view what) {
  std::vector<std::string> tokens = ParsePointer(path);
  if (tokens.empty()) return &doc;
  json* parent = FindParent(doc, tokens);
  if (parent == nullptr) throw OpError{MissingPath(op, what, path)};
  if (parent->is_object()) {
    auto it = parent->find(tokens.back());
    return it == parent->end() ? nullptr : &*it;
  }
  return &(*parent)[ArrayIndex(tokens.back(), parent->size())];
}

const std::string& StringMember(const json& op, const char* name, std::string_view op_name) {
  auto it = op.find(name);
  if (it == op.end() || !it->is_string()) {
    throw OpError{std::string(op_name) + " operation missing " + name + " field"};
  }
  return it->get_ref<const std::string&>();
}

const json& ValueMember(const json& op, std::string_view op_name) {
  auto it = op.find("value");
  if (it == op.end()) throw OpError{std::string(op_name) + " operation missing value field"};
  return *it;
}

void ApplyOperation(json& doc, const json& op, std::size_t& copied_bytes) {
  auto kind_it = op.find("op");
  std::string kind = (kind_it != op.end() && kind_it->is_string()) ? kind_it->get<std::string>()
                                                                   : std::string("unknown");
  if (kind == "add") {
    AddValue(doc, StringMember(op, "path", kind), ValueMember(op, kind), kind);
  } else if (kind == "remove") {
    RemoveValue(doc, StringMember(op, "path", kind), kind);
  } else if (kind == "replace") {
    const std::string& path = StringMember(op, "path", kind);
    const json& value = ValueMember(op, kind);
    std::vector<std::string> tokens = ParsePointer(path);
    if (tokens.empty()) {
      doc = value;
      return;
    }
    json* parent = FindParent(doc, tokens);
    if (parent == nullptr) throw OpError{MissingPath(kind, "path", path)};
    if (parent->is_object()) {
      (*parent)[tokens.back()] = value;  // A missing member is added, as evanphx v4 does.
    } else {
      (*parent)[ArrayIndex(tokens.back(), parent->size())] = value;
    }
  } else if (kind == "move") {
    const std::string& from = StringMember(op, "from", kind);
    const std::string& path = StringMember(op, "path", kind);
    if (from == path) {
      if (GetValue(doc, from, kind, "from path") == nullptr) {
        throw OpError{MissingPath(kind, "from path", from)};
      }
      return;
    }
    if (path.size() > from.size() && path.compare(0, from.size(), from) == 0 &&
        path[from.size()] == '/') {
      throw OpError{"move operation does not apply: from " + DumpJson(from) +
                    " is a prefix of path"};
    }
    if (GetValue(doc, from, kind, "from path") == nullptr) {
      throw OpError{MissingPath(kind, "from path", from)};
    }
    json value = RemoveValue(doc, from, kind);
    AddValue(doc, path, std::move(value), kind);
  } else if (kind == "copy") {
    const std::string& from = StringMember(op, "from", kind);
    const json* value = GetValue(doc, from, kind, "from path");
    if (value == nullptr) throw OpError{MissingPath(kind, "from path", from)};
    json copy = *value;
    copied_bytes += DumpJson(copy).size();
    if (copied_bytes > kJsonPatchMaxCopyBytes) {
      throw OpError{"Unable to complete the copy, the accumulated size increase of copy is " +
                    std::to_string(copied_bytes) + ", exceeding the limit " +
                    std::to_string(kJsonPatchMaxCopyBytes)};
    }
    AddValue(doc, StringMember(op, "path", kind), std::move(copy), kind);
  } else if (kind == "test") {
    const std::string& path = StringMember(op, "path", kind);
    const json* actual = GetValue(doc, path, kind, "path");
    auto value = op.find("value");
    bool ok = (actual == nullptr) ? value == op.end() : (value != op.end() && *value == *actual);
    if (!ok) {
      throw OpError{"testing value " + path + " failed" + std::string(kTestFailedSuffix), true};
    }
  } else {
    throw OpError{"Unexpected kind: " + kind};
  }
}

}  // namespace

Result<nlohmann::json> ApplyMergePatch(const nlohmann::json& original,
                                       const nlohmann::json& patch) {
  try {
    return MergePatchValue(&original, patch);
  } catch (const std::exception& e) {
    return InternalError(std::string("merge patch: ") + e.what());
  }
}

Result<nlohmann::json> CreateTwoWayMergePatch(const nlohmann::json& original,
                                              const nlohmann::json& modified) {
  if (!original.is_object() || !modified.is_object()) {
    return InvalidArgumentError("Invalid JSON Document: merge patch needs two JSON objects");
  }
  try {
    return MergeDiff(original, modified);
  } catch (const std::exception& e) {
    return InternalError(std::string("merge patch: ") + e.what());
  }
}

Result<nlohmann::json> ApplyJsonPatch(const nlohmann::json& original, const nlohmann::json& patch) {
  if (!patch.is_array()) {
    return InvalidArgumentError(std::string("json: cannot unmarshal ") + patch.type_name() +
                                " into Go value of type jsonpatch.Patch");
  }
  for (const json& op : patch) {
    if (!op.is_object()) {
      return InvalidArgumentError(std::string("json: cannot unmarshal ") + op.type_name() +
                                  " into Go value of type jsonpatch.Operation");
    }
  }
  if (patch.size() > kMaxJsonPatchOperations) {
    return OutOfRangeError("The allowed maximum operations in a JSON patch is " +
                           std::to_string(kMaxJsonPatchOperations) + ", got " +
                           std::to_string(patch.size()));
  }
  json doc = original;
  std::size_t copied_bytes = 0;
  for (std::size_t i = 0; i < patch.size(); ++i) {
    const json& op = patch[i];
    try {
      ApplyOperation(doc, op, copied_bytes);
    } catch (const OpError& e) {
      auto op_it = op.find("op");
      auto path_it = op.find("path");
      std::string prefix = "json patch operation " + std::to_string(i) + " (" +
                           (op_it != op.end() && op_it->is_string() ? op_it->get<std::string>()
                                                                    : std::string("unknown"));
      if (path_it != op.end() && path_it->is_string()) prefix += " " + DumpJson(*path_it);
      return FailedPreconditionError(prefix + "): " + e.message);
    } catch (const std::exception& e) {
      return InternalError("json patch operation " + std::to_string(i) + ": " + e.what());
    }
  }
  return doc;
}

bool IsJsonPatchTestFailure(const Status& status) {
  // "json patch operation <i> (test ...): testing value <path> failed: test failed". Every other
  // error of a "test" operation ends differently, so the op name plus the suffix is unambiguous.
  constexpr std::string_view kPrefix = "json patch operation ";
  std::string_view message = status.message();
  if (status.code() != StatusCode::kFailedPrecondition || !message.starts_with(kPrefix) ||
      !message.ends_with(kTestFailedSuffix)) {
    return false;
  }
  std::size_t pos = kPrefix.size();
  while (pos < message.size() && message[pos] >= '0' && message[pos] <= '9') ++pos;
  return message.substr(pos).starts_with(" (test ");
}

}  // namespace gpufleet::core
