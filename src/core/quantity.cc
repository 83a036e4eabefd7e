#include "core/quantity.h"

#include <cstdio>
#include <cstring>
#include <iterator>
#include <optional>
#include <string>

namespace gpufleet::core {
namespace {

constexpr int128 kNanosPerUnit = 1000000000;
// Upstream caps BinarySI values at 2^63-1 units.
constexpr int128 kBinaryCapNanos = static_cast<int128>(INT64_MAX) * kNanosPerUnit;
constexpr std::string_view kExamples = "; quantities look like 500m, 16Gi, 1.5, 2e3";
// Upstream's maxInt64Factors: a decimal with more digits than this takes the inf.Dec path.
constexpr int kMaxFastDigits = 18;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsSuffixLetter(char c) {
  return std::string_view("eEinumkKMGTP").find(c) != std::string_view::npos;
}

// The text for an error message: quoted, non-printable bytes escaped, long input elided.
std::string Quote(std::string_view text) {
  constexpr size_t kMaxShown = 64;
  std::string out = "\"";
  for (size_t i = 0; i < text.size() && i < kMaxShown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMaxShown) out += "...";
  return out + "\"";
}

Status SyntaxError(std::string_view text, std::string_view what, size_t position) {
  return InvalidArgumentError("quantity " + Quote(text) + ": " + std::string(what) +
                              " at position " + std::to_string(position) + std::string(kExamples));
}

Status UnexpectedByte(std::string_view text, size_t position) {
  const auto c = static_cast<unsigned char>(text[position]);
  std::string what;
  if (c >= 0x20 && c < 0x7f) {
    what = std::string("unexpected '") + static_cast<char>(c) + "'";
  } else {
    char buf[24];
    std::snprintf(buf, sizeof(buf), "unexpected byte 0x%02x", c);
    what = buf;
  }
  return SyntaxError(text, what, position);
}

// The pieces of upstream's parseQuantityString.
struct Scanned {
  bool positive = true;
  std::string_view num;     // numerator digits without leading zeros; empty means 0
  std::string_view denom;   // digits after the '.'
  std::string_view suffix;  // letters, optionally followed by [+-]digits
  size_t suffix_start = 0;  // where the numeric part ends
};

// Mirrors upstream's scanner, including what it tolerates ("", "-", ".", "1."). Returns the
// position of the offending byte, or npos.
size_t Scan(std::string_view s, Scanned& out) {
  const size_t end = s.size();
  size_t pos = 0;
  if (pos < end && (s[0] == '-' || s[0] == '+')) {
    out.positive = s[0] == '+';
    ++pos;
  }
  size_t i = pos;
  while (i < end && s[i] == '0') ++i;
  out.suffix_start = end;
  if (i >= end) return std::string_view::npos;  // only zeros (or nothing): the value is 0
  pos = i;
  while (i < end && IsDigit(s[i])) ++i;
  out.num = s.substr(pos, i - pos);
  if (i >= end) return std::string_view::npos;
  pos = i;
  if (s[pos] == '.') {
    i = ++pos;
    while (i < end && IsDigit(s[i])) ++i;
    out.denom = s.substr(pos, i - pos);
    if (i >= end) return std::string_view::npos;
    pos = i;
  }
  out.suffix_start = pos;
  while (i < end && IsSuffixLetter(s[i])) ++i;
  if (i < end) {
    if (s[i] == '+' || s[i] == '-') ++i;
    while (i < end && IsDigit(s[i])) ++i;
    if (i < end) return i;
  }
  out.suffix = s.substr(out.suffix_start);
  return std::string_view::npos;
}

// Go's strconv.ParseInt(s, 10, 64).
std::optional<int64_t> ParseGoInt64(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  const uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  for (char c : s) {
    if (!IsDigit(c)) return std::nullopt;
    const auto d = static_cast<uint64_t>(c - '0');
    if (v > (limit - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  return negative ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
}

struct Suffix {
  int base;          // 10 or 2
  int32_t exponent;  // power of the base
  Format format;
};

std::optional<Suffix> InterpretSuffix(std::string_view s) {
  static constexpr struct {
    std::string_view text;
    Suffix suffix;
  } kTable[] = {
      {"", {10, 0, Format::kDecimalSI}},   {"n", {10, -9, Format::kDecimalSI}},
      {"u", {10, -6, Format::kDecimalSI}}, {"m", {10, -3, Format::kDecimalSI}},
      {"k", {10, 3, Format::kDecimalSI}},  {"M", {10, 6, Format::kDecimalSI}},
      {"G", {10, 9, Format::kDecimalSI}},  {"T", {10, 12, Format::kDecimalSI}},
      {"P", {10, 15, Format::kDecimalSI}}, {"E", {10, 18, Format::kDecimalSI}},
      {"Ki", {2, 10, Format::kBinarySI}},  {"Mi", {2, 20, Format::kBinarySI}},
      {"Gi", {2, 30, Format::kBinarySI}},  {"Ti", {2, 40, Format::kBinarySI}},
      {"Pi", {2, 50, Format::kBinarySI}},  {"Ei", {2, 60, Format::kBinarySI}},
  };
  for (const auto& entry : kTable) {
    if (entry.text == s) return entry.suffix;
  }
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    std::optional<int64_t> exponent = ParseGoInt64(s.substr(1));
    if (!exponent) return std::nullopt;
    // Upstream converts with int32(parsed): a wrap, not a range check ("1e4294967296" is 1).
    return Suffix{10, static_cast<int32_t>(*exponent), Format::kDecimalExponent};
  }
  return std::nullopt;
}

// v * 10^k (k >= 0), or nullopt when that exceeds Quantity::kMaxNanos.
std::optional<uint128> ScaleUp(uint128 v, int64_t k) {
  const auto max = static_cast<uint128>(Quantity::kMaxNanos);
  if (v > max) return std::nullopt;
  for (int64_t i = 0; i < k && v != 0; ++i) {
    if (v > max / 10) return std::nullopt;
    v *= 10;
  }
  return v;
}

// digits * 10^k rounded away from zero to an integer (inf.RoundUp), for a digit string without
// leading zeros; nullopt when that exceeds Quantity::kMaxNanos.
std::optional<uint128> RoundUpScaled(std::string_view digits, int64_t k) {
  if (digits.empty()) return 0;
  bool round_up = false;
  if (k < 0) {
    const uint64_t drop = static_cast<uint64_t>(-(k + 1)) + 1;
    if (drop >= digits.size()) return 1;
    round_up = digits.substr(digits.size() - drop).find_first_not_of('0') != std::string::npos;
    digits.remove_suffix(drop);
    k = 0;
  }
  const auto max = static_cast<uint128>(Quantity::kMaxNanos);
  uint128 v = 0;
  for (char c : digits) {
    const auto d = static_cast<uint128>(c - '0');
    if (v > (max - d) / 10) return std::nullopt;
    v = v * 10 + d;
  }
  std::optional<uint128> scaled = ScaleUp(v, k);
  if (scaled && round_up) {
    if (*scaled == max) return std::nullopt;
    ++*scaled;
  }
  return scaled;
}

// digits * factor as a digit string, for factor <= 2^60.
std::string MultiplyDigits(std::string_view digits, uint64_t factor) {
  std::string out(digits.size() + 20, '0');
  uint128 carry = 0;
  size_t o = out.size();
  for (size_t i = digits.size(); i-- > 0;) {
    const uint128 cur = static_cast<uint128>(digits[i] - '0') * factor + carry;
    out[--o] = static_cast<char>('0' + static_cast<int>(cur % 10));
    carry = cur / 10;
  }
  while (carry != 0) {
    out[--o] = static_cast<char>('0' + static_cast<int>(carry % 10));
    carry /= 10;
  }
  return out.substr(o);
}

// Templated so that the common case runs on 64-bit arithmetic.
template <typename U>
void AppendDecimal(std::string& out, U v) {
  char buf[40];
  size_t n = sizeof(buf);
  do {
    buf[--n] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  out.append(buf + n, sizeof(buf) - n);
}

// Appends m * 10^exponent in canonical decimal form: trailing zeros dropped, then the exponent
// lowered to a multiple of 3 (never overflows: it only restores zeros just dropped).
template <typename U>
void AppendCanonicalDecimal(std::string& out, U m, int exponent, Format format) {
  while (m % 10 == 0) {
    m /= 10;
    ++exponent;
  }
  while (exponent % 3 != 0) {
    m *= 10;
    --exponent;
  }
  AppendDecimal(out, m);
  if (format != Format::kDecimalExponent && exponent >= -9 && exponent <= 18) {
    static constexpr std::string_view kDecimal[] = {"n", "u", "m", "",  "k",
                                                    "M", "G", "T", "P", "E"};
    out.append(kDecimal[(exponent + 9) / 3]);
  } else if (exponent != 0) {
    out += "e" + std::to_string(exponent);
  }
}

}  // namespace

std::string_view FormatName(Format format) {
  switch (format) {
    case Format::kDecimalExponent:
      return "DecimalExponent";
    case Format::kBinarySI:
      return "BinarySI";
    case Format::kDecimalSI:
      return "DecimalSI";
  }
  return "DecimalExponent";
}

Result<Quantity> Quantity::Parse(std::string_view text) {
  if (text.empty()) return SyntaxError(text, "expected a digit", 0);
  if (text == "0") {
    Quantity zero;
    zero.SetText("0");
    return zero;
  }
  Scanned sc;
  if (size_t bad = Scan(text, sc); bad != std::string_view::npos) return UnexpectedByte(text, bad);
  const std::optional<Suffix> suffix = InterpretSuffix(sc.suffix);
  if (!suffix) {
    const bool exponent = sc.suffix.size() > 1 && (sc.suffix[0] == 'e' || sc.suffix[0] == 'E');
    return SyntaxError(text,
                       std::string(exponent ? "invalid exponent \"" : "unknown suffix \"") +
                           std::string(sc.suffix) + "\"",
                       sc.suffix_start);
  }
  const bool binary = suffix->base == 2;
  // Upstream scans a numerator that was all zeros (or absent) as "0".
  const size_t num_len = sc.num.empty() ? 1 : sc.num.size();
  const auto denom_len = static_cast<int64_t>(sc.denom.size());

  // Upstream's int64 fast path: it decides whether the text is kept verbatim, and only its
  // inf.Dec fallback insists on a digit. The value is the same on either path.
  bool fast = false;
  if (binary) {
    fast =
        sc.denom.empty() && 15 - static_cast<int64_t>(num_len) - suffix->exponent * 3 / 10 - 1 >= 0;
  } else {
    fast = kMaxFastDigits - static_cast<int64_t>(num_len) - denom_len >= 0 &&
           static_cast<int64_t>(suffix->exponent) - denom_len >= -9;
  }
  if (!fast && text.substr(0, sc.suffix_start).find_first_of("0123456789") == std::string::npos) {
    return SyntaxError(text, "expected a digit", sc.suffix_start);
  }

  std::optional<uint128> magnitude;
  bool keep_text = false;
  if (fast) {
    // At most 18 digits: exact in 64 bits, and far below the BinarySI cap once shifted.
    uint64_t value = 0;
    for (char c : sc.num) value = value * 10 + static_cast<uint64_t>(c - '0');
    for (char c : sc.denom) value = value * 10 + static_cast<uint64_t>(c - '0');
    const int64_t scale = binary ? 0 : int64_t{suffix->exponent} - denom_len;
    const uint128 shifted = binary ? static_cast<uint128>(value) << suffix->exponent : value;
    magnitude = ScaleUp(shifted, scale + 9);
    // Upstream keeps the text when it looks canonical: for BinarySI when value & 7 != 0, for
    // decimals when the scale is a multiple of 3 and the digits neither start with '0' nor end
    // with "000".
    keep_text = binary ? value % 8 != 0 : !sc.num.empty() && scale % 3 == 0 && value % 1000 != 0;
  } else {
    std::string digits;
    digits.reserve(sc.num.size() + sc.denom.size());
    digits.append(sc.num).append(sc.denom);
    const size_t first = digits.find_first_not_of('0');
    const std::string_view significant =
        first == std::string::npos ? std::string_view() : std::string_view(digits).substr(first);
    magnitude = binary ? RoundUpScaled(MultiplyDigits(significant, uint64_t{1} << suffix->exponent),
                                       9 - denom_len)
                       : RoundUpScaled(significant, int64_t{suffix->exponent} - denom_len + 9);
  }
  if (binary && (!magnitude || *magnitude > static_cast<uint128>(kBinaryCapNanos))) {
    magnitude = static_cast<uint128>(kBinaryCapNanos);
  }
  if (!magnitude) {
    return OutOfRangeError("quantity " + Quote(text) +
                           ": magnitude is beyond the supported range (below 2^127 nano-units, "
                           "about 1.7e29)");
  }
  Format format = suffix->format;
  if (binary && *magnitude < static_cast<uint128>(kNanosPerUnit) && *magnitude != 0) {
    format = Format::kDecimalSI;
  }
  const auto nanos = static_cast<int128>(*magnitude);
  Quantity q(sc.positive ? nanos : -nanos, format);
  if (keep_text) q.SetText(text);
  return q;
}

Quantity Quantity::FromInt(int64_t value, Format format) {
  return Quantity(static_cast<int128>(value) * kNanosPerUnit, format);
}

Quantity Quantity::FromMilli(int64_t milli, Format format) {
  return Quantity(static_cast<int128>(milli) * 1000000, format);
}

Quantity Quantity::FromNano(int64_t nano, Format format) { return Quantity(nano, format); }

namespace {

// ceil(|nanos| / divisor) with nanos' sign, saturated at the int64 limits.
int64_t ScaledAwayFromZero(int128 nanos, int128 divisor) {
  int128 q = nanos / divisor;
  if (nanos % divisor != 0) q += nanos > 0 ? 1 : -1;
  if (q > INT64_MAX) return INT64_MAX;
  if (q < INT64_MIN) return INT64_MIN;
  return static_cast<int64_t>(q);
}

}  // namespace

int64_t Quantity::Value() const { return ScaledAwayFromZero(nanos_, kNanosPerUnit); }

int64_t Quantity::MilliValue() const { return ScaledAwayFromZero(nanos_, 1000000); }

double Quantity::AsApproximateDouble() const {
  constexpr int128 kExactInDouble = int128{1} << 53;
  const auto unit = static_cast<double>(kNanosPerUnit);
  if (nanos_ > -kExactInDouble && nanos_ < kExactInDouble) {
    return static_cast<double>(nanos_) / unit;  // one rounding
  }
  return static_cast<double>(nanos_ / kNanosPerUnit) +
         static_cast<double>(nanos_ % kNanosPerUnit) / unit;
}

std::string Quantity::String() const {
  if (text_size_ != 0) return std::string(Text());
  if (nanos_ == 0) return "0";
  std::string out;
  if (nanos_ < 0) out += '-';
  uint128 m = nanos_ < 0 ? -static_cast<uint128>(nanos_) : static_cast<uint128>(nanos_);
  const auto unit = static_cast<uint128>(kNanosPerUnit);
  if (format_ == Format::kBinarySI && m >= 1024 * unit && m % unit == 0) {
    static constexpr std::string_view kBinary[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    m /= unit;
    size_t e = 0;
    while (m >= 1024 && m % 1024 == 0 && e + 1 < std::size(kBinary)) {
      m /= 1024;
      ++e;
    }
    AppendDecimal(out, m);
    return out.append(kBinary[e]);
  }
  // Decimal; a BinarySI value below 1024 or with a fraction prints this way too.
  if (m <= UINT64_MAX) {
    AppendCanonicalDecimal(out, static_cast<uint64_t>(m), -9, format_);
  } else {
    AppendCanonicalDecimal(out, m, -9, format_);
  }
  return out;
}

Status Quantity::Add(const Quantity& other) {
  int128 sum = 0;
  if (__builtin_add_overflow(nanos_, other.nanos_, &sum) || sum < -kMaxNanos) {
    return OutOfRangeError("quantity " + String() + " + " + other.String() +
                           ": sum is beyond the supported range (about 1.7e29)");
  }
  if (nanos_ == 0) format_ = other.format_;
  nanos_ = sum;
  ClearText();
  return OkStatus();
}

Status Quantity::Sub(const Quantity& other) {
  int128 diff = 0;
  if (__builtin_sub_overflow(nanos_, other.nanos_, &diff) || diff < -kMaxNanos) {
    return OutOfRangeError("quantity " + String() + " - " + other.String() +
                           ": difference is beyond the supported range (about 1.7e29)");
  }
  if (nanos_ == 0) format_ = other.format_;
  nanos_ = diff;
  ClearText();
  return OkStatus();
}

void Quantity::Neg() {
  nanos_ = -nanos_;
  ClearText();
}

std::string_view Quantity::Text() const {
  if (text_size_ != kHeapText) return {text_, text_size_};
  std::string* heap = nullptr;
  std::memcpy(&heap, text_, sizeof(heap));
  return *heap;
}

void Quantity::SetText(std::string_view text) {
  ClearText();
  if (text.size() <= kInlineText) {
    std::memcpy(text_, text.data(), text.size());
    text_size_ = static_cast<uint8_t>(text.size());
    return;
  }
  auto* heap = new std::string(text);
  std::memcpy(text_, &heap, sizeof(heap));
  text_size_ = kHeapText;
}

void Quantity::ClearText() noexcept {
  if (text_size_ == kHeapText) {
    std::string* heap = nullptr;
    std::memcpy(&heap, text_, sizeof(heap));
    delete heap;
  }
  text_size_ = 0;
}

void Quantity::CopyFrom(const Quantity& other) {
  nanos_ = other.nanos_;
  format_ = other.format_;
  text_size_ = 0;
  if (other.text_size_ != 0) SetText(other.Text());
}

void Quantity::StealFrom(Quantity& other) noexcept {
  nanos_ = other.nanos_;
  format_ = other.format_;
  text_size_ = other.text_size_;
  std::memcpy(text_, other.text_, kInlineText);
  other.text_size_ = 0;  // a heap string now belongs to this
}

std::ostream& operator<<(std::ostream& os, const Quantity& q) { return os << q.String(); }

}  // namespace gpufleet::core
