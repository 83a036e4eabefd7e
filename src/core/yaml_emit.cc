// JSON -> YAML (JsonToYaml). Written by hand rather than with YAML::Emitter because yaml-cpp
// 0.7 neither writes block chomping indicators (|- and |+) nor knows which plain strings YAML 1.1
// would re-type; both are needed for YamlToJson(JsonToYaml(v)) == v.
#include <cmath>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/yaml.h"
#include "core/yaml_scalar.h"

namespace gpufleet::core {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxImplicitKey = 1000;

bool IsControl(unsigned char c) { return c < 0x20 || c == 0x7F; }

// Whether s can be written as a plain scalar, in block context, and read back as the same string.
bool IsSafePlain(std::string_view s) {
  if (s.empty()) return false;
  if (yaml_internal::ResolvePlain(s).kind != yaml_internal::PlainScalar::Kind::kString) {
    return false;
  }
  if (s == "<<") return false;  // A merge key.
  // Indicators. '-', '?' and ':' may start a plain scalar when a non-space follows.
  std::string_view indicators = ",[]{}#&*!|>'\"%@`";
  char first = s[0];
  if (indicators.find(first) != std::string_view::npos || first == ' ') return false;
  if ((first == '-' || first == '?' || first == ':') && (s.size() == 1 || s[1] == ' ')) {
    return false;
  }
  if (s.substr(0, 3) == "---" || s.substr(0, 3) == "...") return false;  // Document markers.
  if (s.back() == ' ' || s.back() == ':') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (IsControl(c)) return false;  // Also \t, \n and \r.
    if (c == ':' && i + 1 < s.size() && s[i + 1] == ' ') return false;
    if (c == '#' && s[i - 1] == ' ') return false;  // i > 0: '#' cannot come first here.
  }
  return true;
}

// Whether s can be a literal block scalar (|, |- or |+) that reads back byte for byte.
bool IsSafeLiteral(std::string_view s) {
  if (s.find('\n') == std::string_view::npos) return false;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t end = s.find('\n', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view line = s.substr(start, end - start);
    if (start == 0 && line.empty()) return false;  // The first line sets the indentation.
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') &&
        (start == 0 || line.find_first_not_of(" \t") == std::string_view::npos)) {
      return false;
    }
    for (char ch : line) {
      auto c = static_cast<unsigned char>(ch);
      if (IsControl(c) && c != '\t') return false;
    }
    start = end + 1;
  }
  return true;
}

void AppendDoubleQuoted(std::string_view s, std::string* out) {
  *out += '"';
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        *out += "\\\"";
        break;
      case '\\':
        *out += "\\\\";
        break;
      case '\n':
        *out += "\\n";
        break;
      case '\t':
        *out += "\\t";
        break;
      case '\r':
        *out += "\\r";
        break;
      default:
        if (IsControl(c)) {
          char hex[8];
          std::snprintf(hex, sizeof(hex), "\\x%02X", c);
          *out += hex;
        } else {
          *out += ch;
        }
    }
  }
  *out += '"';
}

class Emitter {
 public:
  explicit Emitter(std::string* out) : out_(*out) {}

  void Document(const json& value) {
    if (IsBlockCollection(value)) {
      Collection(value, 0, /*first_inline=*/false);
    } else {
      Scalar(value, 2);
      out_ += '\n';
    }
  }

 private:
  static bool IsBlockCollection(const json& v) { return v.is_structured() && !v.empty(); }

  void Indent(int n) { out_.append(static_cast<std::size_t>(n), ' '); }

  // A non-empty mapping or sequence whose first line starts at column `indent`, or right after
  // "- " when first_inline.
  void Collection(const json& v, int indent, bool first_inline) {
    bool first = true;
    if (v.is_object()) {
      for (const auto& [key, item] : v.items()) {
        if (!first || !first_inline) Indent(indent);
        first = false;
        std::size_t key_start = out_.size();
        String(key, indent, /*allow_block=*/false);
        // yaml-cpp (like the YAML spec) wants the ':' of an implicit key within 1024 characters;
        // longer keys take the explicit "? key" form.
        bool explicit_key = out_.size() - key_start > kMaxImplicitKey;
        if (explicit_key) {
          out_.insert(key_start, "? ");
          out_ += '\n';
          Indent(indent);
        }
        out_ += ':';
        if (IsBlockCollection(item)) {
          out_ += '\n';
          // Sequences sit at their key's indentation, as kubectl prints them.
          Collection(item, item.is_object() || explicit_key ? indent + 2 : indent, false);
        } else {
          out_ += ' ';
          Scalar(item, indent + 2);
          out_ += '\n';
        }
      }
      return;
    }
    for (const json& item : v) {
      if (!first || !first_inline) Indent(indent);
      first = false;
      out_ += "- ";
      if (IsBlockCollection(item)) {
        Collection(item, indent + 2, /*first_inline=*/true);
      } else {
        Scalar(item, indent + 2);
        out_ += '\n';
      }
    }
  }

  // A scalar or an empty collection; block scalar lines are indented by `indent`.
  void Scalar(const json& v, int indent) {
    switch (v.type()) {
      case json::value_t::object:
        out_ += "{}";
        return;
      case json::value_t::array:
        out_ += "[]";
        return;
      case json::value_t::string:
        String(v.get_ref<const std::string&>(), indent, /*allow_block=*/true);
        return;
      case json::value_t::boolean:
        out_ += v.get<bool>() ? "true" : "false";
        return;
      case json::value_t::number_integer:
      case json::value_t::number_unsigned:
        out_ += v.dump();
        return;
      case json::value_t::number_float:
        // nlohmann prints the shortest round-trip form ("1.5", "1e+300"), which YAML 1.1 reads
        // as the same float; JSON has no NaN or infinity, so those become null as in DumpJson.
        out_ += std::isfinite(v.get<double>()) ? v.dump() : "null";
        return;
      case json::value_t::null:
      case json::value_t::binary:
      case json::value_t::discarded:
        out_ += "null";
        return;
    }
  }

  void String(std::string_view s, int indent, bool allow_block) {
    // yaml-cpp sniffs the first bytes of a stream for a byte order mark (EF BB BF, FE FF...).
    bool sniffed = out_.empty() && !s.empty() && static_cast<unsigned char>(s[0]) >= 0x80;
    if (!sniffed && IsSafePlain(s)) {
      out_ += s;
    } else if (allow_block && IsSafeLiteral(s)) {
      Literal(s, indent);
    } else {
      AppendDoubleQuoted(s, &out_);
    }
  }

  // "|-" (no final newline), "|" (one) or "|+" (more), then the lines; the caller ends the last.
  void Literal(std::string_view s, int indent) {
    std::size_t trailing = s.size() - (s.find_last_not_of('\n') + 1);
    out_ += trailing == 0 ? "|-" : trailing == 1 ? "|" : "|+";
    std::size_t start = 0;
    while (true) {
      std::size_t end = s.find('\n', start);
      if (end == std::string_view::npos) {
        if (start < s.size()) {  // A last line without a newline (|-).
          out_ += '\n';
          Indent(indent);
          out_ += s.substr(start);
        }
        return;
      }
      out_ += '\n';
      if (end > start) {
        Indent(indent);
        out_ += s.substr(start, end - start);
      }
      start = end + 1;
    }
  }

  std::string& out_;
};

}  // namespace

std::string JsonToYaml(const json& value) {
  std::string out;
  Emitter(&out).Document(value);
  return out;
}

}  // namespace gpufleet::core
