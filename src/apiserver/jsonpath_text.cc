// Go-compatible text for JSON values: what client-go's JSONPath PrintResults writes (fmt's %v for
// scalars, encoding/json for objects and arrays), so table cells read as kubectl's do.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "apiserver/jsonpath.h"

namespace gpufleet::apiserver {
namespace {

using json = nlohmann::json;

// A finite double as its shortest round-trip decimal digits: |v| = 0.digits × 10^dp.
struct Decimal {
  bool neg = false;
  std::string digits;
  int dp = 0;
};

Decimal Shortest(double v) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(res.ptr - buf));  // e.g. "-1.25e+06"
  Decimal d;
  if (!s.empty() && s[0] == '-') {
    d.neg = true;
    s.remove_prefix(1);
  }
  size_t e = s.find('e');
  for (char c : s.substr(0, e)) {
    if (c != '.') d.digits += c;
  }
  std::string_view exp_text = e == std::string_view::npos ? "0" : s.substr(e + 1);
  bool exp_neg = !exp_text.empty() && exp_text[0] == '-';
  if (!exp_text.empty() && (exp_text[0] == '-' || exp_text[0] == '+')) exp_text.remove_prefix(1);
  int exp = 0;
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
  d.dp = (exp_neg ? -exp : exp) + 1;
  if (d.digits.empty()) d.digits = "0";
  return d;
}

// Go's strconv %e with the shortest digits: "1e+06", "1.5e-07".
std::string FormatE(const Decimal& d) {
  std::string out = d.neg ? "-" : "";
  out += d.digits[0];
  if (d.digits.size() > 1) out += "." + d.digits.substr(1);
  int exp = d.digits == "0" ? 0 : d.dp - 1;
  out += exp < 0 ? "e-" : "e+";
  if (exp < 0) exp = -exp;
  if (exp < 10) out += '0';
  out += std::to_string(exp);
  return out;
}

// Go's strconv %f with the shortest digits: "100000", "0.001".
std::string FormatF(const Decimal& d) {
  std::string out = d.neg ? "-" : "";
  const int nd = static_cast<int>(d.digits.size());
  auto digit = [&](int i) { return i >= 0 && i < nd ? d.digits[static_cast<size_t>(i)] : '0'; };
  if (d.dp > 0) {
    for (int i = 0; i < d.dp; ++i) out += digit(i);
  } else {
    out += '0';
  }
  const int prec = nd - d.dp > 0 ? nd - d.dp : 0;
  if (prec > 0) {
    out += '.';
    for (int i = 0; i < prec; ++i) out += digit(d.dp + i);
  }
  return out;
}

// fmt's %v for float64 (strconv 'g' with the shortest digits: %e below 1e-4 or from 1e6).
std::string GoFloatV(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  Decimal d = Shortest(v);
  int exp = d.digits == "0" ? 0 : d.dp - 1;
  return exp < -4 || exp >= 6 ? FormatE(d) : FormatF(d);
}

// encoding/json's float encoding.
std::string GoJsonFloat(double v) {
  if (!std::isfinite(v)) return "null";  // Go refuses to encode these
  double abs = std::fabs(v);
  Decimal d = Shortest(v);
  if (abs == 0 || (abs >= 1e-6 && abs < 1e21)) return FormatF(d);
  std::string s = FormatE(d);
  size_t n = s.size();
  if (n >= 4 && s[n - 4] == 'e' && s[n - 3] == '-' && s[n - 2] == '0') s.erase(n - 2, 1);
  return s;
}

// Length of the valid UTF-8 sequence at s[i], or 0 (Go's utf8.DecodeRuneInString rules).
size_t ValidRuneLength(std::string_view s, size_t i, uint32_t* rune) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
  if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
  uint32_t r = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    r = (r << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (r < kMin[n] || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF)) return 0;
  *rune = r;
  return n;
}

void AppendGoString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out += '"';
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      switch (c) {
        case '"':
          *out += "\\\"";
          continue;
        case '\\':
          *out += "\\\\";
          continue;
        case '\b':
          *out += "\\b";
          continue;
        case '\f':
          *out += "\\f";
          continue;
        case '\n':
          *out += "\\n";
          continue;
        case '\r':
          *out += "\\r";
          continue;
        case '\t':
          *out += "\\t";
          continue;
        default:
          break;
      }
      if (c < 0x20 || c == '<' || c == '>' || c == '&') {
        *out += "\\u00";
        *out += kHex[c >> 4];
        *out += kHex[c & 0xF];
      } else {
        *out += static_cast<char>(c);
      }
      continue;
    }
    uint32_t rune = 0;
    size_t n = ValidRuneLength(s, i, &rune);
    if (n == 0) {
      *out += "\\ufffd";
      ++i;
    } else if (rune == 0x2028 || rune == 0x2029) {
      *out += rune == 0x2028 ? "\\u2028" : "\\u2029";
      i += n;
    } else {
      out->append(s.substr(i, n));
      i += n;
    }
  }
  *out += '"';
}

}  // namespace

std::string GoJsonText(const json& value) {
  struct Frame {
    const json* container;
    json::const_iterator it;
    bool first;
  };
  std::string out;
  std::vector<Frame> stack;
  auto emit = [&](const json& v) {
    switch (v.type()) {
      case json::value_t::object:
      case json::value_t::array:
        if (v.empty()) {
          out += v.is_object() ? "{}" : "[]";
        } else {
          out += v.is_object() ? '{' : '[';
          stack.push_back(Frame{&v, v.cbegin(), true});
        }
        break;
      case json::value_t::string:
        AppendGoString(v.get_ref<const std::string&>(), &out);
        break;
      case json::value_t::boolean:
        out += v.get<bool>() ? "true" : "false";
        break;
      case json::value_t::number_integer:
        out += std::to_string(v.get<int64_t>());
        break;
      case json::value_t::number_unsigned:
        out += std::to_string(v.get<uint64_t>());
        break;
      case json::value_t::number_float:
        out += GoJsonFloat(v.get<double>());
        break;
      default:
        out += "null";
        break;
    }
  };
  emit(value);
  while (!stack.empty()) {
    Frame& f = stack.back();
    if (f.it == f.container->cend()) {
      out += f.container->is_object() ? '}' : ']';
      stack.pop_back();
      continue;
    }
    if (!f.first) out += ',';
    f.first = false;
    if (f.container->is_object()) {
      AppendGoString(f.it.key(), &out);
      out += ':';
    }
    const json& child = *f.it;
    ++f.it;  // before emit: emit may grow the stack and invalidate f
    emit(child);
  }
  return out;
}

std::string JsonPathText(const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      return value.get<std::string>();
    case json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case json::value_t::number_integer:
      return std::to_string(value.get<int64_t>());
    case json::value_t::number_unsigned:
      return std::to_string(value.get<uint64_t>());
    case json::value_t::number_float:
      return GoFloatV(value.get<double>());
    case json::value_t::object:
    case json::value_t::array:
      return GoJsonText(value);
    default:
      return "<nil>";
  }
}

}  // namespace gpufleet::apiserver
