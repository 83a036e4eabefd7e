// Quantity: Kubernetes' resource.Quantity (k8s.io/apimachinery/pkg/api/resource), a fixed-point
// number such as "500m", "16Gi", "1.5" or "2e3", with upstream's parse and serialization rules.
//
// Grammar (upstream's scanner, including what it tolerates):
//   <quantity> ::= [+-] <number> <suffix>
//   <number>   ::= <digits> | <digits> "." [<digits>] | "." <digits>     (any part may be empty)
//   <suffix>   ::= "" | n | u | m | k | M | G | T | P | E      (DecimalSI, powers of 1000)
//                | Ki | Mi | Gi | Ti | Pi | Ei                (BinarySI, powers of 1024)
//                | (e|E) [+-] <digits>                        (DecimalExponent, int64 then int32)
// Values are kept exactly, as a count of nano-units (1e-9); a finer value is rounded away from
// zero to the next nano ("0.9n" is 1n, "-3.001n" is -4n). BinarySI values are capped at 2^63-1
// in magnitude, silently, as upstream does ("9Ei" is 9223372036854775807); decimal ones are not.
// A BinarySI value strictly between -1 and 1 becomes DecimalSI. Text without digits ("-", ".",
// "m", "Gi") is 0, except where upstream's inf.Dec path needs a digit ("Pi", "Ei", "e-10").
//
// String() is what Kubernetes serializes: the parsed text verbatim when upstream's int64 fast
// parser judged it canonical (decimal: at most 18 digits, a non-zero integer part, a power-of-10
// scale that is a multiple of 3 and >= -9, digits not ending in 000; binary: a short integer
// mantissa not divisible by 8), so "+1", "1.", "100.035k", "1E3" and "012Mi" print as written;
// otherwise
// the canonical form: the mantissa is an integer with no trailing zeros beyond a power-of-1000
// exponent ("1.5" -> "1500m", "1000M" -> "1G", "1.5Gi" -> "1536Mi"); BinarySI prints with a
// 1024 suffix only for integral values with |v| >= 1024, else as DecimalSI; DecimalSI beyond "E"
// falls back to exponent notation ("1000E" -> "1e21"); DecimalExponent prints "e<N>".
//
// Deliberate divergences from upstream (all in edge cases no real manifest reaches):
//   - Range: |value| < 2^127 nano-units (about 1.7e29). Parse returns OutOfRange beyond it, where
//     upstream's inf.Dec is unbounded, and Add/Sub return OutOfRange instead of growing.
//   - Exponents are applied exactly after upstream's int64 parse and int32 wrap of the "e" part;
//     upstream additionally wraps its internal scale when the exponent is within 17 of INT32_MIN.
//   - Value()/MilliValue() saturate at the int64 limits where upstream overflows (undefined).
//   - A BinarySI value of 1024^7 or more prints with "Ei" (e.g. "1024Ei"); upstream drops the
//     suffix and prints a wrong number.
// Value type: copyable, movable; const methods are safe to call concurrently; no exceptions.
// 32 bytes: resource lists are held by the million in informer caches, so the verbatim text is
// kept inline (every real manifest's quantities fit in 14 bytes) and only longer text allocates.
#pragma once

#include <compare>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "core/status.h"

namespace gpufleet::core {

__extension__ typedef __int128 int128;
__extension__ typedef unsigned __int128 uint128;

// How a quantity prints. Parse sets it from the suffix; it survives arithmetic (see Add).
enum class Format : uint8_t {
  kDecimalExponent,  // 12e6
  kBinarySI,         // 12Mi (12 * 2^20)
  kDecimalSI,        // 12M  (12 * 10^6)
};

// "DecimalExponent", "BinarySI" or "DecimalSI", as upstream spells them.
std::string_view FormatName(Format format);

class Quantity {
 public:
  // The largest magnitude, in nano-units: 2^127 - 1.
  static constexpr int128 kMaxNanos = static_cast<int128>(~static_cast<uint128>(0) >> 1);

  // Zero, DecimalSI.
  Quantity() = default;
  Quantity(const Quantity& other) { CopyFrom(other); }
  Quantity(Quantity&& other) noexcept { StealFrom(other); }
  Quantity& operator=(const Quantity& other) {
    if (this != &other) {
      ClearText();
      CopyFrom(other);
    }
    return *this;
  }
  Quantity& operator=(Quantity&& other) noexcept {
    if (this != &other) {
      ClearText();
      StealFrom(other);
    }
    return *this;
  }
  ~Quantity() { ClearText(); }

  // Parses `text` exactly as upstream's ParseQuantity does (no surrounding whitespace allowed).
  // InvalidArgument for malformed text: the message quotes the text and gives the 0-based byte
  // position of the first offending character, e.g.
  //   quantity "1.1.M": unexpected '.' at position 3; quantities look like 500m, 16Gi, 1.5, 2e3
  // OutOfRange for a well-formed decimal value whose magnitude is 2^127 nano-units or more.
  static Result<Quantity> Parse(std::string_view text);

  // value, value/1000 or value/1e9 in `format`; never fails. Like NewQuantity, NewMilliQuantity.
  static Quantity FromInt(int64_t value, Format format = Format::kDecimalSI);
  static Quantity FromMilli(int64_t milli, Format format = Format::kDecimalSI);
  static Quantity FromNano(int64_t nano, Format format = Format::kDecimalSI);

  Format format() const { return format_; }
  bool IsZero() const { return nanos_ == 0; }
  // -1, 0 or 1.
  int Sign() const { return nanos_ < 0 ? -1 : (nanos_ > 0 ? 1 : 0); }

  // The value rounded away from zero to an integer (1.1 -> 2, -1.1 -> -2), saturated at the
  // int64 limits.
  int64_t Value() const;
  // The value in thousandths, rounded away from zero, saturated at the int64 limits.
  int64_t MilliValue() const;
  // The exact value in nano-units.
  int128 NanoValue() const { return nanos_; }
  // The nearest double (may lose precision).
  double AsApproximateDouble() const;

  // What Kubernetes serializes (see the file comment). Never empty.
  std::string String() const;

  // -1, 0 or 1 as this is less than, equal to or greater than `other`. Format is ignored.
  int Cmp(const Quantity& other) const {
    return nanos_ < other.nanos_ ? -1 : (nanos_ > other.nanos_ ? 1 : 0);
  }

  // this += other, exactly. If this is zero it takes other's format (upstream's rule); the
  // parsed text is forgotten. OutOfRange, leaving this unchanged, if the sum leaves the range.
  Status Add(const Quantity& other);
  // this -= other; same rules as Add.
  Status Sub(const Quantity& other);
  // this = -this; keeps the format, forgets the parsed text. Always in range.
  void Neg();

  // Value comparisons; format and parsed text are ignored ("1Gi" == "1073741824").
  friend bool operator==(const Quantity& a, const Quantity& b) { return a.nanos_ == b.nanos_; }
  friend std::strong_ordering operator<=>(const Quantity& a, const Quantity& b) {
    return a.nanos_ < b.nanos_   ? std::strong_ordering::less
           : a.nanos_ > b.nanos_ ? std::strong_ordering::greater
                                 : std::strong_ordering::equal;
  }

 private:
  Quantity(int128 nanos, Format format) : nanos_(nanos), format_(format) {}

  static constexpr size_t kInlineText = 14;
  static constexpr uint8_t kHeapText = 0xff;  // text_ holds a std::string* (memcpy'd)
  std::string_view Text() const;
  void SetText(std::string_view text);
  void ClearText() noexcept;
  void CopyFrom(const Quantity& other);
  void StealFrom(Quantity& other) noexcept;

  int128 nanos_ = 0;
  Format format_ = Format::kDecimalSI;
  // The parsed text when upstream would keep it verbatim (empty otherwise): inline when it
  // fits, else on the heap.
  uint8_t text_size_ = 0;
  char text_[kInlineText] = {};
};
static_assert(sizeof(Quantity) == 32);

// Prints String(); for GoogleTest and logs.
std::ostream& operator<<(std::ostream& os, const Quantity& q);

}  // namespace gpufleet::core
