#include "core/yaml_scalar.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

namespace gpufleet::core::yaml_internal {
namespace {

using Kind = PlainScalar::Kind;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

PlainScalar Make(Kind kind) {
  PlainScalar s;
  s.kind = kind;
  return s;
}

PlainScalar MakeFloat(double v) {
  PlainScalar s = Make(Kind::kFloat);
  s.float_value = v;
  return s;
}

template <std::size_t N>
bool OneOf(std::string_view s, const std::array<std::string_view, N>& set) {
  for (std::string_view v : set) {
    if (s == v) return true;
  }
  return false;
}

// go-yaml v2's resolveMap: exact spellings only ("yEs" is a string).
bool LookupTable(std::string_view s, PlainScalar* out) {
  static constexpr std::array<std::string_view, 11> kTrue = {
      "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"};
  static constexpr std::array<std::string_view, 11> kFalse = {
      "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"};
  static constexpr std::array<std::string_view, 5> kNull = {"", "~", "null", "Null", "NULL"};
  static constexpr std::array<std::string_view, 3> kNaN = {".nan", ".NaN", ".NAN"};
  static constexpr std::array<std::string_view, 6> kInf = {".inf",  ".Inf",  ".INF",
                                                           "+.inf", "+.Inf", "+.INF"};
  static constexpr std::array<std::string_view, 3> kNegInf = {"-.inf", "-.Inf", "-.INF"};
  if (OneOf(s, kTrue) || OneOf(s, kFalse)) {
    *out = Make(Kind::kBool);
    out->bool_value = OneOf(s, kTrue);
  } else if (OneOf(s, kNull)) {
    *out = Make(Kind::kNull);
  } else if (OneOf(s, kNaN)) {
    *out = MakeFloat(std::numeric_limits<double>::quiet_NaN());
  } else if (OneOf(s, kInf) || OneOf(s, kNegInf)) {
    double inf = std::numeric_limits<double>::infinity();
    *out = MakeFloat(OneOf(s, kInf) ? inf : -inf);
  } else {
    return false;
  }
  return true;
}

enum class ParseResult { kOk, kSyntax, kRange };

// Splits Go's base-0 prefix off s: 0x/0X 16, 0o/0O 8, 0b/0B 2, other leading 0 8, else 10.
int TakeBasePrefix(std::string_view* s) {
  if (s->size() >= 1 && (*s)[0] == '0') {
    if (s->size() >= 3) {
      char p = static_cast<char>((*s)[1] | 0x20);
      int base = p == 'x' ? 16 : p == 'o' ? 8 : p == 'b' ? 2 : 0;
      if (base != 0) {
        s->remove_prefix(2);
        return base;
      }
    }
    s->remove_prefix(1);
    return 8;
  }
  return 10;
}

int DigitValue(char c) {
  if (IsDigit(c)) return c - '0';
  char lower = static_cast<char>(c | 0x20);
  if (lower >= 'a' && lower <= 'z') return lower - 'a' + 10;
  return 99;
}

// strconv.ParseUint(s, 0, 64) on text without underscores. *approx gets the value as a double
// even when it overflows (for kRange), the way math/big would then read it.
ParseResult ParseUint(std::string_view s, uint64_t* out, double* approx) {
  if (s.empty()) return ParseResult::kSyntax;
  int base = TakeBasePrefix(&s);
  if (s.empty() && base != 8) return ParseResult::kSyntax;  // "0" alone is octal zero.
  uint64_t n = 0;
  double d = 0;
  bool overflow = false;
  for (char c : s) {
    int digit = DigitValue(c);
    if (digit >= base) return ParseResult::kSyntax;
    d = d * base + digit;
    if (n > (std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(digit)) /
                static_cast<uint64_t>(base)) {
      overflow = true;
    }
    n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(digit);
  }
  if (approx != nullptr) *approx = d;
  if (overflow) return ParseResult::kRange;
  *out = n;
  return ParseResult::kOk;
}

// strconv.ParseInt(s, 0, 64).
ParseResult ParseInt(std::string_view s, int64_t* out) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  uint64_t u = 0;
  ParseResult r = ParseUint(s, &u, nullptr);
  if (r != ParseResult::kOk) return r;
  constexpr uint64_t kCutoff = uint64_t{1} << 63;
  if (!negative && u >= kCutoff) return ParseResult::kRange;
  if (negative && u > kCutoff) return ParseResult::kRange;
  *out = negative ? static_cast<int64_t>(~u + 1) : static_cast<int64_t>(u);
  return ParseResult::kOk;
}

std::size_t SkipDigits(std::string_view s, std::size_t i) {
  while (i < s.size() && IsDigit(s[i])) ++i;
  return i;
}

// go-yaml v2's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool IsYamlStyleFloat(std::string_view s) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  if (i < s.size() && s[i] == '.') {
    std::size_t end = SkipDigits(s, i + 1);
    if (end == i + 1) return false;
    i = end;
  } else {
    std::size_t end = SkipDigits(s, i);
    if (end == i) return false;
    i = end;
    if (i < s.size() && s[i] == '.') i = SkipDigits(s, i + 1);
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    std::size_t end = SkipDigits(s, i);
    if (end == i) return false;
    i = end;
  }
  return i == s.size();
}

// Go's strconv.ParseFloat on text matching IsYamlStyleFloat: fails only on overflow (underflow
// gives zero, as in Go).
bool ParseFiniteFloat(const std::string& s, double* out) {
  double v = std::strtod(s.c_str(), nullptr);
  if (std::isinf(v)) return false;
  *out = v;
  return true;
}

PlainScalar ResolveNumber(std::string_view text) {
  std::string plain;
  plain.reserve(text.size());
  for (char c : text) {
    if (c != '_') plain += c;
  }
  int64_t i = 0;
  if (ParseInt(plain, &i) == ParseResult::kOk) {
    PlainScalar s = Make(Kind::kInt);
    s.int_value = i;
    return s;
  }
  uint64_t u = 0;
  double approx = 0;
  ParseResult unsigned_result = ParseUint(plain, &u, &approx);
  if (unsigned_result == ParseResult::kOk) {
    PlainScalar s = Make(Kind::kUint);
    s.uint_value = u;
    return s;
  }
  double f = 0;
  if (IsYamlStyleFloat(plain) && ParseFiniteFloat(plain, &f)) return MakeFloat(f);
  if (unsigned_result == ParseResult::kRange) {
    PlainScalar s = Make(Kind::kBigInt);
    s.float_value = approx;
    return s;
  }
  return Make(Kind::kString);
}

// A value starting with '.': Go ParseFloat syntax, where '_' may only sit between two digits.
PlainScalar ResolveDotFloat(std::string_view text) {
  std::string plain;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '_') {
      plain += text[i];
    } else if (i == 0 || i + 1 == text.size() || !IsDigit(text[i - 1]) || !IsDigit(text[i + 1])) {
      return Make(Kind::kString);
    }
  }
  double f = 0;
  if (IsYamlStyleFloat(plain) && ParseFiniteFloat(plain, &f)) return MakeFloat(f);
  return Make(Kind::kString);
}

}  // namespace

PlainScalar ResolvePlain(std::string_view text) {
  PlainScalar out;
  if (LookupTable(text, &out)) return out;
  if (text.empty()) return out;
  char c = text[0];
  if (c == '.') return ResolveDotFloat(text);
  if (c == '+' || c == '-' || IsDigit(c)) return ResolveNumber(text);
  return Make(Kind::kString);
}

std::string FormatFloatKey(double value) {
  if (std::isnan(value)) return ".nan";
  // Go converts to float32 first, rounding to nearest: beyond FLT_MAX plus half an ulp is Inf.
  constexpr double kMax = std::numeric_limits<float>::max();
  constexpr double kHalfUlp = 10141204801825835211973625643008.0;  // 2^103
  if (std::fabs(value) >= kMax + kHalfUlp) return value > 0 ? ".inf" : "-.inf";
  float f = std::fabs(value) > kMax ? static_cast<float>(value > 0 ? kMax : -kMax)
                                    : static_cast<float>(value);
  char buf[64];
  auto result = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  std::string_view sci(buf, static_cast<std::size_t>(result.ptr - buf));  // "-1.2345679e+08"
  std::string out;
  if (!sci.empty() && sci[0] == '-') {
    out += '-';
    sci.remove_prefix(1);
  }
  std::size_t e = sci.find('e');
  std::string digits;
  for (char d : sci.substr(0, e)) {
    if (d != '.') digits += d;
  }
  int exp = std::atoi(std::string(sci.substr(e + 1)).c_str());
  int nd = static_cast<int>(digits.size());
  if (exp < -4 || exp >= 6) {  // %e with the shortest digits and at least two exponent digits.
    out += digits[0];
    if (nd > 1) out += "." + digits.substr(1);
    out += exp < 0 ? "e-" : "e+";
    int abs_exp = exp < 0 ? -exp : exp;
    if (abs_exp < 10) out += '0';
    out += std::to_string(abs_exp);
    return out;
  }
  int dp = exp + 1;  // digits before the decimal point.
  if (dp <= 0) {
    out += "0." + std::string(static_cast<std::size_t>(-dp), '0') + digits;
  } else if (dp >= nd) {
    out += digits + std::string(static_cast<std::size_t>(dp - nd), '0');
  } else {
    out += digits.substr(0, static_cast<std::size_t>(dp)) + "." +
           digits.substr(static_cast<std::size_t>(dp));
  }
  return out;
}

}  // namespace gpufleet::core::yaml_internal
