#include "core/json.h"

#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <utility>
#include <vector>

namespace gpufleet::core {
namespace {

using nlohmann::json;

// Returns the byte offset at which text first nests deeper than max_depth, or npos. Brackets
// inside strings do not count. Runs before nlohmann so that a deep value is never built: dump()
// and operator== recurse once per level.
std::size_t FindTooDeep(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

// "[json.exception.parse_error.101] parse error at line 1, column 7: syntax error ..." -> the
// part after the position, which the caller replaces by a byte offset.
std::string_view ParseErrorDetail(std::string_view what) {
  std::size_t column = what.find("column ");
  std::size_t colon = column == std::string_view::npos ? column : what.find(": ", column);
  if (colon != std::string_view::npos) return what.substr(colon + 2);
  std::size_t bracket = what.find("] ");
  return bracket == std::string_view::npos ? what : what.substr(bracket + 2);
}

std::string TypeName(const json& value) {
  if (value.is_number_float()) return "number " + DumpJson(value);
  return value.type_name();
}

std::string PathOrRoot(std::string_view path) {
  return path.empty() ? std::string("<root>") : std::string(path);
}

Status WrongType(std::string_view path, std::string_view want, const json& got) {
  return InvalidArgumentError(PathOrRoot(path) + ": expected " + std::string(want) + ", got " +
                              std::string(got.type_name()));
}

struct Step {
  bool is_index = false;
  std::size_t index = 0;
  std::string_view name;
  std::size_t end = 0;  // field_path.substr(0, end) names the value this step reaches.
};

Status ParsePath(std::string_view path, std::vector<Step>* steps) {
  auto bad = [&](std::string_view why) {
    return InvalidArgumentError("invalid field path \"" + std::string(path) +
                                "\": " + std::string(why));
  };
  std::size_t i = 0;
  while (i < path.size()) {
    Step step;
    if (path[i] == '[') {
      std::size_t close = path.find(']', i + 1);
      if (close == std::string_view::npos) return bad("unclosed [");
      step.name = path.substr(i + 1, close - i - 1);
      if (step.name.empty()) return bad("empty []");
      step.is_index = step.name.find_first_not_of("0123456789") == std::string_view::npos;
      if (step.is_index) {
        if (step.name.size() > 18) return bad("index too large");
        for (char c : step.name) step.index = step.index * 10 + static_cast<std::size_t>(c - '0');
      }
      i = close + 1;
    } else {
      if (path[i] == '.') {
        if (i == 0) return bad("leading .");
        ++i;
      }
      std::size_t end = path.find_first_of(".[]", i);
      if (end == std::string_view::npos) end = path.size();
      if (end == i) return bad("empty field name");
      if (end < path.size() && path[end] == ']') return bad("unmatched ]");
      step.name = path.substr(i, end - i);
      i = end;
    }
    step.end = i;
    if (i < path.size() && path[i] != '.' && path[i] != '[') return bad("expected . or [");
    steps->push_back(step);
  }
  return OkStatus();
}

// FindField without the exception guard.
Result<const json*> Find(const json& obj, std::string_view path) {
  std::vector<Step> steps;
  GF_RETURN_IF_ERROR(ParsePath(path, &steps));
  const json* cur = &obj;
  std::size_t reached = 0;  // path.substr(0, reached) names *cur.
  for (const Step& step : steps) {
    if (cur->is_null()) return static_cast<const json*>(nullptr);
    if (step.is_index) {
      if (!cur->is_array()) return WrongType(path.substr(0, reached), "array", *cur);
      if (step.index >= cur->size()) return static_cast<const json*>(nullptr);
      cur = &(*cur)[step.index];
    } else {
      if (!cur->is_object()) return WrongType(path.substr(0, reached), "object", *cur);
      auto it = cur->find(step.name);
      if (it == cur->end()) return static_cast<const json*>(nullptr);
      cur = &*it;
    }
    reached = step.end;
  }
  return cur;
}

// The value at path, nullptr when absent or null; wrong types along the way are errors.
Result<const json*> FindPresent(const json& obj, std::string_view path) {
  GF_ASSIGN_OR_RETURN(const json* found, FindField(obj, path));
  if (found != nullptr && found->is_null()) return static_cast<const json*>(nullptr);
  return found;
}

Status Missing(std::string_view path) {
  return InvalidArgumentError(PathOrRoot(path) + ": required field is missing");
}

template <typename T, typename Convert>
Result<std::optional<T>> GetOptional(const json& obj, std::string_view path, Convert convert) {
  GF_ASSIGN_OR_RETURN(const json* found, FindPresent(obj, path));
  if (found == nullptr) return std::optional<T>();
  GF_ASSIGN_OR_RETURN(T value, convert(*found));
  return std::optional<T>(std::move(value));
}

template <typename T>
Result<T> Required(std::string_view path, Result<std::optional<T>> optional) {
  if (!optional.ok()) return optional.status();
  if (!optional->has_value()) return Missing(path);
  return std::move(**optional);
}

Result<const json*> GetContainer(const json& obj, std::string_view path, bool want_object,
                                 bool required) {
  GF_ASSIGN_OR_RETURN(const json* found, FindPresent(obj, path));
  if (found == nullptr) {
    if (required) return Missing(path);
    return found;
  }
  if (want_object ? !found->is_object() : !found->is_array()) {
    return WrongType(path, want_object ? "object" : "array", *found);
  }
  return found;
}

}  // namespace

Result<json> ParseJson(std::string_view text, int max_depth) {
  std::size_t deep = FindTooDeep(text, max_depth);
  if (deep != std::string_view::npos) {
    return OutOfRangeError("json: byte " + std::to_string(deep) + ": nesting deeper than " +
                           std::to_string(max_depth) + " levels");
  }
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return InvalidArgumentError("json: byte " + std::to_string(e.byte) + ": " +
                                std::string(ParseErrorDetail(e.what())));
  } catch (const json::out_of_range& e) {
    // Only "number overflow parsing '<token>'" can happen here; it carries no position.
    std::string_view what = e.what();
    std::size_t quote = what.find('\'');
    std::string_view token =
        quote == std::string_view::npos ? "" : what.substr(quote + 1, what.size() - quote - 2);
    std::size_t at = token.empty() ? std::string_view::npos : text.find(token);
    std::string where = at == std::string_view::npos ? "" : "byte " + std::to_string(at) + ": ";
    return InvalidArgumentError("json: " + where + "number out of range: " + std::string(token));
  } catch (const json::exception& e) {
    return InvalidArgumentError("json: " + std::string(ParseErrorDetail(e.what())));
  } catch (const std::bad_alloc&) {
    return ResourceExhaustedError("json: out of memory parsing " + std::to_string(text.size()) +
                                  " bytes");
  }
}

std::string DumpJson(const json& value) {
  try {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
  } catch (const std::exception&) {
    // Unreachable with the replace handler short of running out of memory.
    return "null";
  }
}

JsonPath JsonPath::Field(std::string_view name) const {
  JsonPath out(path_);
  if (!out.path_.empty()) out.path_ += '.';
  out.path_ += name;
  return out;
}

JsonPath JsonPath::Index(std::size_t index) const {
  return JsonPath(path_ + "[" + std::to_string(index) + "]");
}

JsonPath JsonPath::Key(std::string_view key) const {
  return JsonPath(path_ + "[" + std::string(key) + "]");
}

std::ostream& operator<<(std::ostream& os, const JsonPath& path) { return os << path.str(); }

Result<const json*> FindField(const json& obj, std::string_view field_path) {
  try {
    return Find(obj, field_path);
  } catch (const std::exception& e) {
    return InternalError("json: looking up " + PathOrRoot(field_path) + ": " + e.what());
  }
}

Result<std::optional<std::string>> GetOptionalString(const json& obj, std::string_view field_path) {
  return GetOptional<std::string>(obj, field_path, [&](const json& v) -> Result<std::string> {
    if (!v.is_string()) return WrongType(field_path, "string", v);
    return v.get_ref<const std::string&>();
  });
}

Result<std::optional<int64_t>> GetOptionalInt64(const json& obj, std::string_view field_path) {
  return GetOptional<int64_t>(obj, field_path, [&](const json& v) -> Result<int64_t> {
    if (v.is_number_integer() && !v.is_number_unsigned()) return v.get<int64_t>();
    if (v.is_number_unsigned()) {
      uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return OutOfRangeError(PathOrRoot(field_path) + ": " + std::to_string(u) +
                               " does not fit in int64");
      }
      return static_cast<int64_t>(u);
    }
    return InvalidArgumentError(PathOrRoot(field_path) + ": expected integer, got " + TypeName(v));
  });
}

Result<std::optional<bool>> GetOptionalBool(const json& obj, std::string_view field_path) {
  return GetOptional<bool>(obj, field_path, [&](const json& v) -> Result<bool> {
    if (!v.is_boolean()) return WrongType(field_path, "boolean", v);
    return v.get<bool>();
  });
}

Result<std::string> GetString(const json& obj, std::string_view field_path) {
  return Required(field_path, GetOptionalString(obj, field_path));
}

Result<int64_t> GetInt64(const json& obj, std::string_view field_path) {
  return Required(field_path, GetOptionalInt64(obj, field_path));
}

Result<bool> GetBool(const json& obj, std::string_view field_path) {
  return Required(field_path, GetOptionalBool(obj, field_path));
}

Result<const json*> GetObject(const json& obj, std::string_view field_path) {
  return GetContainer(obj, field_path, /*want_object=*/true, /*required=*/true);
}

Result<const json*> GetArray(const json& obj, std::string_view field_path) {
  return GetContainer(obj, field_path, /*want_object=*/false, /*required=*/true);
}

Result<const json*> GetOptionalObject(const json& obj, std::string_view field_path) {
  return GetContainer(obj, field_path, /*want_object=*/true, /*required=*/false);
}

Result<const json*> GetOptionalArray(const json& obj, std::string_view field_path) {
  return GetContainer(obj, field_path, /*want_object=*/false, /*required=*/false);
}

}  // namespace gpufleet::core
