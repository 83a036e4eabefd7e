#include "core/quantity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;

constexpr Format kDecSI = Format::kDecimalSI;
constexpr Format kBinSI = Format::kBinarySI;
constexpr Format kDecExp = Format::kDecimalExponent;

// mantissa * 10^exp10 in nano-units (exp10 >= -9).
int128 N(int64_t mantissa, int exp10) {
  int128 v = mantissa;
  for (int i = -9; i < exp10; ++i) v *= 10;
  return v;
}

Quantity P(std::string_view text) {
  Result<Quantity> q = Quantity::Parse(text);
  EXPECT_TRUE(q.ok()) << text << ": " << q.status();
  return q.value_or(Quantity());
}

struct ValueCase {
  std::string input;
  int128 nanos;
  Format format;
};

// Upstream's TestQuantityParse table (value and format), plus a few of ours.
const std::vector<ValueCase>& ValidCases() {
  // clang-format off
  static const auto* cases = new std::vector<ValueCase>{
      {"0", 0, kDecSI}, {"0n", 0, kDecSI}, {"0u", 0, kDecSI}, {"0m", 0, kDecSI}, {"0Ki", 0, kBinSI},
      {"0k", 0, kDecSI}, {"0Mi", 0, kBinSI}, {"0M", 0, kDecSI}, {"0Gi", 0, kBinSI},
      {"0G", 0, kDecSI}, {"0Ti", 0, kBinSI}, {"0T", 0, kDecSI}, {"1", N(1, 0), kDecSI},
      {"1Ki", N(1024, 0), kBinSI}, {"8Ki", N(8 * 1024, 0), kBinSI}, {"7Mi", N(7 << 20, 0), kBinSI},
      {"6Gi", N(int64_t{6} << 30, 0), kBinSI}, {"5Ti", N(int64_t{5} << 40, 0), kBinSI},
      {"4Pi", N(int64_t{4} << 50, 0), kBinSI}, {"3Ei", N(int64_t{3} << 60, 0), kBinSI},
      {"10Ti", N(int64_t{10} << 40, 0), kBinSI}, {"100Ti", N(int64_t{100} << 40, 0), kBinSI},
      {"5n", N(5, -9), kDecSI}, {"4u", N(4, -6), kDecSI}, {"3m", N(3, -3), kDecSI},
      {"9", N(9, 0), kDecSI}, {"8k", N(8, 3), kDecSI}, {"50k", N(5, 4), kDecSI},
      {"7M", N(7, 6), kDecSI}, {"6G", N(6, 9), kDecSI}, {"5T", N(5, 12), kDecSI},
      {"40T", N(4, 13), kDecSI}, {"300T", N(3, 14), kDecSI}, {"2P", N(2, 15), kDecSI},
      {"1E", N(1, 18), kDecSI}, {"1E-3", N(1, -3), kDecExp}, {"1e3", N(1, 3), kDecExp},
      {"1E6", N(1, 6), kDecExp}, {"1e9", N(1, 9), kDecExp}, {"1E12", N(1, 12), kDecExp},
      {"1e15", N(1, 15), kDecExp}, {"1E18", N(1, 18), kDecExp}, {"1e14", N(1, 14), kDecExp},
      {"1e13", N(1, 13), kDecExp}, {"100.035k", N(100035, 0), kDecSI}, {"0.001", N(1, -3), kDecSI},
      {"0.0005k", N(5, -1), kDecSI}, {"0.005", N(5, -3), kDecSI}, {"0.05", N(5, -2), kDecSI},
      {"0.5", N(5, -1), kDecSI}, {"0.00050k", N(5, -1), kDecSI}, {"0.00500", N(5, -3), kDecSI},
      {"0.05000", N(5, -2), kDecSI}, {"0.50000", N(5, -1), kDecSI}, {"0.5e0", N(5, -1), kDecExp},
      {"0.5e-1", N(5, -2), kDecExp}, {"0.5e-2", N(5, -3), kDecExp},
      {"10.035M", N(10035, 3), kDecSI}, {"1.2e3", N(12, 2), kDecExp}, {"1.3E+6", N(13, 5), kDecExp},
      {"1.40e9", N(14, 8), kDecExp}, {"1.53E12", N(153, 10), kDecExp},
      {"1.6e15", N(16, 14), kDecExp}, {"1.7E18", N(17, 17), kDecExp}, {"9.01", N(901, -2), kDecSI},
      {"8.1k", N(81, 2), kDecSI}, {"7.123456M", N(7123456, 0), kDecSI},
      {"6.987654321G", N(6987654321, 0), kDecSI}, {"5.444T", N(5444, 9), kDecSI},
      {"40.1T", N(401, 11), kDecSI}, {"300.2T", N(3002, 11), kDecSI}, {"2.5P", N(25, 14), kDecSI},
      {"1.01E", N(101, 16), kDecSI}, {"12E", N(12, 18), kDecSI},
      {"100.035Ki", N(10243584, -2), kBinSI}, {"0.5Mi", N(512 * 1024, 0), kBinSI},
      {"0.05Gi", N(536870912, -1), kBinSI}, {"0.025Ti", N(274877906944, -1), kBinSI},
      {".001", N(1, -3), kDecSI}, {".0001k", N(100, -3), kDecSI}, {"1.", N(1, 0), kDecSI},
      {"1.G", N(1, 9), kDecSI},
      // Beyond int64, exact (upstream's TestParseQuantity).
      {"9999999999999999999", N(999999999999999999, 0) * 10 + N(9, 0), kDecSI},
      {"10E", N(1, 19), kDecSI}, {"1000E", N(1, 21), kDecSI}};
  // clang-format on
  return *cases;
}

TEST(QuantityParse, ValidTable) {
  for (const ValueCase& c : ValidCases()) {
    SCOPED_TRACE(c.input);
    GF_ASSERT_OK_AND_ASSIGN(Quantity q, Quantity::Parse(c.input));
    EXPECT_TRUE(q.NanoValue() == c.nanos) << q.String();
    EXPECT_EQ(q.format(), c.format);
  }
}

TEST(QuantityParse, SignedVariantsOfValidTable) {
  for (const ValueCase& c : ValidCases()) {
    SCOPED_TRACE(c.input);
    GF_ASSERT_OK_AND_ASSIGN(Quantity neg, Quantity::Parse("-" + c.input));
    EXPECT_TRUE(neg.NanoValue() == -c.nanos) << neg.String();
    EXPECT_EQ(neg.format(), c.format);
    GF_ASSERT_OK_AND_ASSIGN(Quantity pos, Quantity::Parse("+" + c.input));
    EXPECT_TRUE(pos.NanoValue() == c.nanos) << pos.String();
    EXPECT_EQ(pos.format(), c.format);
  }
}

TEST(QuantityParse, InvalidTableNamesTextAndPosition) {
  struct Case {
    std::string input;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "expected a digit at position 0"},
      {"1.1.M", "unexpected '.' at position 3"},
      {"1+1.0M", "unexpected '.' at position 3"},
      {"0.1mi", "unknown suffix \"mi\" at position 3"},
      {"0.1am", "unexpected 'a' at position 3"},
      {"aoeu", "unexpected 'a' at position 0"},
      {".5i", "unknown suffix \"i\" at position 2"},
      {"1i", "unknown suffix \"i\" at position 1"},
      {"-3.01i", "unknown suffix \"i\" at position 5"},
      {"-3.01e-", "invalid exponent \"e-\" at position 5"},
      {" 1", "unexpected ' ' at position 0"},
      {"1 ", "unexpected ' ' at position 1"},
      {"1e", "unknown suffix \"e\" at position 1"},
      {"1e+", "invalid exponent \"e+\" at position 1"},
      {"1Ee3", "invalid exponent \"Ee3\" at position 1"},
      {"1e9223372036854775808", "invalid exponent \"e9223372036854775808\" at position 1"},
      {"1Gi5", "unknown suffix \"Gi5\" at position 1"},
      {"1e3Gi", "unexpected 'G' at position 3"},
      {"2Ki.5", "unexpected '.' at position 3"},
      {"1\x01", "unexpected byte 0x01 at position 1"},
      {"Pi", "expected a digit at position 0"},
      {"-Ei", "expected a digit at position 1"},
      {".e-10", "expected a digit at position 1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.input);
    EXPECT_THAT(Quantity::Parse(c.input),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr(c.message)));
  }
}

TEST(QuantityParse, ErrorMessageQuotesTextAndShowsExamples) {
  EXPECT_THAT(Quantity::Parse("1.1.M"),
              StatusIs(StatusCode::kInvalidArgument,
                       "quantity \"1.1.M\": unexpected '.' at position 3; quantities look like "
                       "500m, 16Gi, 1.5, 2e3"));
  EXPECT_THAT(Quantity::Parse("\"\n"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("quantity \"\\x22\\x0a\":")));
  EXPECT_THAT(Quantity::Parse(std::string(100, 'x')),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr(std::string(64, 'x') + "...\"")));
}

TEST(QuantityParse, DecimalBeyondRangeIsOutOfRange) {
  for (const char* text :
       {"1e30", "-1e30", "200000000000000000000000000000", "1e2147483647",
        "170141183460469231731687303715.884105728", "-170141183460469231731687303715.8841057271"}) {
    SCOPED_TRACE(text);
    EXPECT_THAT(Quantity::Parse(text), StatusIs(StatusCode::kOutOfRange, HasSubstr(text)));
  }
  GF_ASSERT_OK_AND_ASSIGN(Quantity max,
                          Quantity::Parse("170141183460469231731687303715.884105727"));
  EXPECT_TRUE(max.NanoValue() == Quantity::kMaxNanos);
  GF_ASSERT_OK_AND_ASSIGN(Quantity min,
                          Quantity::Parse("-170141183460469231731687303715884105727n"));
  EXPECT_TRUE(min.NanoValue() == -Quantity::kMaxNanos);
}

TEST(QuantityParse, FastAndSlowPathsAgree) {
  // Upstream parses at most 18 digits with int64 and the rest with inf.Dec; values must agree.
  EXPECT_EQ(P("1.5"), P("1.50000000000000000000"));
  EXPECT_EQ(P("16Gi"), P("16.000000000000000000000Gi"));
  EXPECT_EQ(P("1e3"), P("1.000000000000000000000e3"));
  EXPECT_EQ(P("7Pi"), P("7168Ti"));
  EXPECT_EQ(P("100Mi"), P("0.09765625Gi"));
}

TEST(QuantityRounding, RoundsAwayFromZeroToNano) {
  const std::vector<ValueCase> cases = {
      {"3.001n", N(4, -9), kDecSI},
      {"1.1E-9", N(2, -9), kDecExp},
      {"0.0000000001", N(1, -9), kDecSI},
      {"0.0000000005", N(1, -9), kDecSI},
      {"0.00000000050", N(1, -9), kDecSI},
      {"0.5e-9", N(1, -9), kDecExp},
      {"0.9n", N(1, -9), kDecSI},
      {"0.00000012345", N(124, -9), kDecSI},
      {"0.00000012354", N(124, -9), kDecSI},
      {"-3.001n", N(-4, -9), kDecSI},
      {"1e-1000", N(1, -9), kDecExp},
      {"-1e-2147483648", N(-1, -9), kDecExp},
      {"0.000000000001Ki", N(2, -9), kDecSI},  // and becomes DecimalSI (below 1)
      {"0.0000000000e-50", 0, kDecExp}};
  for (const ValueCase& c : cases) {
    SCOPED_TRACE(c.input);
    GF_ASSERT_OK_AND_ASSIGN(Quantity q, Quantity::Parse(c.input));
    EXPECT_TRUE(q.NanoValue() == c.nanos) << q.String();
    EXPECT_EQ(q.format(), c.format);
  }
}

TEST(QuantityQuirk, BinaryCapIsSilentAt2To63Minus1) {
  const int128 cap = N(INT64_MAX, 0);
  for (const char* text : {"9Ei", "8Ei", "9223372036854775807Ki", "99999999999999999999999Ki"}) {
    SCOPED_TRACE(text);
    GF_ASSERT_OK_AND_ASSIGN(Quantity q, Quantity::Parse(text));
    EXPECT_TRUE(q.NanoValue() == cap);
    EXPECT_EQ(q.format(), kBinSI);
    EXPECT_EQ(q.String(), "9223372036854775807");
  }
  EXPECT_TRUE(P("-9Ei").NanoValue() == -cap);
  // Decimal values are not capped.
  EXPECT_EQ(P("9223372036854775808").String(), "9223372036854775808");
}

TEST(QuantityQuirk, BinaryBelowOneBecomesDecimalSI) {
  EXPECT_EQ(P("0.0001Ki").format(), kDecSI);   // 0.1024
  EXPECT_EQ(P("-0.0001Ki").format(), kDecSI);  // -0.1024
  EXPECT_EQ(P("0.001Ki").format(), kBinSI);    // 1.024 is not below 1
  EXPECT_EQ(P("0Ki").format(), kBinSI);        // zero keeps BinarySI
}

TEST(QuantityQuirk, LoneSignOrDotIsZero) {
  for (const char* text : {"-", "+", ".", "-.", "+.", "-0", "00", "-000"}) {
    SCOPED_TRACE(text);
    GF_ASSERT_OK_AND_ASSIGN(Quantity q, Quantity::Parse(text));
    EXPECT_TRUE(q.IsZero());
    EXPECT_EQ(q.String(), "0");
  }
}

TEST(QuantityQuirk, SuffixWithoutDigitsIsZeroOnlyOnUpstreamFastPath) {
  for (const char* text : {"m", "n", "k", "E", "Gi", "Ti", "-Ki", "e3", "e-9", ".Mi"}) {
    SCOPED_TRACE(text);
    GF_ASSERT_OK_AND_ASSIGN(Quantity q, Quantity::Parse(text));
    EXPECT_TRUE(q.IsZero());
  }
  // Pi, Ei and exponents below -9 take upstream's inf.Dec path, which needs a digit.
  for (const char* text : {"Pi", "Ei", "e-10", "-Pi"}) {
    SCOPED_TRACE(text);
    EXPECT_THAT(Quantity::Parse(text), StatusIs(StatusCode::kInvalidArgument));
  }
}

// Upstream keeps the parsed text verbatim whenever its fast path judged it canonical.
TEST(QuantityQuirk, TrailingDotIsKeptVerbatim) {
  EXPECT_EQ(P("1.").String(), "1.");
  EXPECT_EQ(P("1.G").String(), "1.G");
  EXPECT_THAT(Quantity::Parse("1.5."),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unexpected '.' at position 3")));
}

TEST(QuantityQuirk, ExplicitPlusIsKeptVerbatim) {
  EXPECT_EQ(P("+1").String(), "+1");
  EXPECT_EQ(P("+1k").String(), "+1k");
  EXPECT_EQ(P("+1.5").String(), "1500m");  // scale -1: not kept
  EXPECT_EQ(P("+1000").String(), "1k");    // ends with 000: not kept
}

TEST(QuantityQuirk, LeadingZerosAreKeptVerbatim) {
  EXPECT_EQ(P("012").String(), "012");
  EXPECT_EQ(P("012Mi").String(), "012Mi");  // 12 & 7 != 0
  EXPECT_EQ(P("016Mi").String(), "16Mi");   // 16 & 7 == 0: recomputed
  EXPECT_EQ(P("0.5").String(), "500m");     // digits "05" start with 0: recomputed
}

TEST(QuantityQuirk, FractionWithScaleMultipleOf3IsKeptVerbatim) {
  EXPECT_EQ(P("100.035k").String(), "100.035k");
  EXPECT_EQ(P("1.500").String(), "1.500");
  EXPECT_EQ(P("1.5").String(), "1500m");
  EXPECT_EQ(P("1.000").String(), "1");  // digits "1000" end with 000
}

TEST(QuantityQuirk, UppercaseExponentIsKeptVerbatim) {
  EXPECT_EQ(P("1E3").String(), "1E3");
  EXPECT_EQ(P("1E+3").String(), "1E+3");
  EXPECT_EQ(P("1.5E3").String(), "1500");
  EXPECT_EQ(P("1E4").String(), "10e3");
}

TEST(QuantityQuirk, BinaryTextKeptWhenValueNotMultipleOf8) {
  EXPECT_EQ(P("1025Ki").String(), "1025Ki");
  EXPECT_EQ(P("1024Ki").String(), "1Mi");
  EXPECT_EQ(P("1536Ki").String(), "1536Ki");
}

TEST(QuantityQuirk, ExponentWrapsTo32Bits) {
  GF_ASSERT_OK_AND_ASSIGN(Quantity q, Quantity::Parse("1e4294967296"));  // int32 wrap: 1e0
  EXPECT_EQ(q.Value(), 1);
  EXPECT_EQ(q.String(), "1e4294967296");
  EXPECT_EQ(P("1e4294967299").Value(), 1000);
  EXPECT_EQ(P("2e-4294967295").Value(), 20);  // -4294967295 wraps to 1
}

TEST(QuantityQuirk, NineteenDigitsPrintCanonical) {
  // 19+ digits take upstream's inf.Dec path, which never keeps the text.
  EXPECT_EQ(P("1000000000000000000").String(), "1E");
  EXPECT_EQ(P("-1000000000000000000").String(), "-1E");
  EXPECT_EQ(P("100000000000000000").String(), "100P");
  EXPECT_EQ(P("0001000000000000000000").String(), "1E");
}

TEST(QuantityString, CanonicalTable) {
  // clang-format off
  const std::vector<std::pair<std::string, std::string>> cases = {
      // Upstream's TestQuantityParseEmit.
      {"1Ki", "1Ki"}, {"1Mi", "1Mi"}, {"1Gi", "1Gi"}, {"1024Mi", "1Gi"}, {"1000M", "1G"},
      {".001Ki", "1024m"}, {".000001Ki", "1024u"}, {".000000001Ki", "1024n"},
      {".000000000001Ki", "2n"},
      // Upstream's TestQuantityString alternates.
      {"1024Mi", "1Gi"}, {"307200Ki", "300Mi"}, {"1025024Mi", "1001Gi"}, {"1024Gi", "1Ti"},
      {"5000m", "5"}, {"0.5", "500m"}, {"1000M", "1G"}, {"0.001T", "1G"}, {"1000u", "1m"},
      {"1.08", "1080m"}, {"1080000000n", "1080m"}, {"1000E", "1e21"}, {"5000E", "5e21"},
      {"1000000E", "1e24"}, {".001e12", "1e9"}, {"0.001e0", "1e-3"}, {"1000e-12", "1e-9"},
      {"00", "0"},
      // Upstream's TestParseQuantity canonical column.
      {"999999999999999999.0", "999999999999999999"},
      {"999999999999999999.1", "999999999999999999100m"},
      {"9999999999999999999000m", "9999999999999999999"},
      {"1.0000000000000000001E", "1000000000000000000100m"},
      {"1.000000000000000001E", "1000000000000000001"}, {"10000000000000000000", "10E"},
      {"10.0E", "10E"}, {"1.0E", "1E"}, {"9223372036854775808.1", "9223372036854775808100m"},
      {"-9223372036854775809000m", "-9223372036854775809"},
      // Ours.
      {"1.5", "1500m"}, {"1.5Gi", "1536Mi"}, {"0.9Gi", "966367641600m"}, {"1.1Ki", "1126400m"},
      {"0.30000000000000004", "300000001n"}, {"0.5Ki", "512"}, {"1.5Ki", "1536"},
      {"1073741824", "1073741824"}, {"-1.5", "-1500m"}, {"-1024Mi", "-1Gi"}, {"1.5e3", "1500"},
      {"15e-1", "1500e-3"}, {"1e22", "10e21"}};
  // clang-format on
  for (const auto& [input, want] : cases) {
    SCOPED_TRACE(input);
    EXPECT_EQ(P(input).String(), want);
  }
}

TEST(QuantityString, CanonicalTextRoundTrips) {
  // Upstream's TestQuantityString expectations, each of which it keeps verbatim on parse.
  for (const char* text :
       {"1Gi",   "300Mi",    "6Ki",      "1001Gi", "1Ti",  "5",     "500m",  "1G",
        "1m",    "80m",      "1080m",    "300M",   "1T",   "1E",    "1e21",  "5e21",
        "1e24",  "1234567M", "1234567m", "3k",     "1025", "0",     "1e9",   "1e-3",
        "1e-9",  "80e-3",    "300e6",    "1e12",   "1e3",  "3e3",   "1n",    "80n",
        "1080n", "1u",       "80u",      "1080u",  "-1Gi", "-1e21", "-80e-3"}) {
    EXPECT_EQ(P(text).String(), text);
  }
}

TEST(QuantityString, FromConstructors) {
  // Upstream's TestNewSet, TestMilliNewSet, TestNewScaledSet and TestQuantityString.
  EXPECT_EQ(Quantity::FromInt(1).String(), "1");
  EXPECT_EQ(Quantity::FromInt(1000).String(), "1k");
  EXPECT_EQ(Quantity::FromInt(1234000).String(), "1234k");
  EXPECT_EQ(Quantity::FromInt(1024, kBinSI).String(), "1Ki");
  EXPECT_EQ(Quantity::FromInt(1000000, kDecExp).String(), "1e6");
  EXPECT_EQ(Quantity::FromInt(1024 * 1024, kBinSI).String(), "1Mi");
  EXPECT_EQ(Quantity::FromInt(5, kBinSI).String(), "5");
  EXPECT_EQ(Quantity::FromInt(1025, kBinSI).String(), "1025");
  EXPECT_EQ(Quantity::FromInt(0, kBinSI).String(), "0");
  EXPECT_EQ(Quantity::FromInt(INT64_MIN, kBinSI).String(), "-8Ei");
  EXPECT_EQ(Quantity::FromMilli(1).String(), "1m");
  EXPECT_EQ(Quantity::FromMilli(1000).String(), "1");
  EXPECT_EQ(Quantity::FromMilli(1234000).String(), "1234");
  EXPECT_EQ(Quantity::FromMilli(1024, kBinSI).String(), "1024m");
  EXPECT_EQ(Quantity::FromMilli(1000000, kDecExp).String(), "1e3");
  EXPECT_EQ(Quantity::FromMilli(1024 * 1024, kBinSI).String(), "1048576m");
  EXPECT_EQ(Quantity::FromMilli(1234567, kBinSI).String(), "1234567m");
  EXPECT_EQ(Quantity::FromNano(1).String(), "1n");
  EXPECT_EQ(Quantity::FromNano(1000).String(), "1u");
  EXPECT_EQ(Quantity::FromNano(1000000).String(), "1m");
  EXPECT_EQ(Quantity::FromNano(80, kDecExp).String(), "80e-9");
  EXPECT_EQ(Quantity().String(), "0");
  EXPECT_EQ(Quantity().format(), kDecSI);
}

TEST(QuantityString, BinaryBeyondEiKeepsEiSuffix) {
  // Divergence: upstream drops the suffix for 1024^7 and prints "1".
  Quantity q = Quantity::FromInt(int64_t{1} << 60, kBinSI);
  for (int i = 0; i < 1023; ++i) GF_ASSERT_OK(q.Add(Quantity::FromInt(int64_t{1} << 60)));
  EXPECT_EQ(q.String(), "1024Ei");
}

TEST(QuantityValue, RoundsAwayFromZeroAndSaturates) {
  EXPECT_EQ(P("1.1").Value(), 2);
  EXPECT_EQ(P("-1.1").Value(), -2);
  EXPECT_EQ(P("1n").Value(), 1);
  EXPECT_EQ(P("1Gi").Value(), int64_t{1} << 30);
  EXPECT_EQ(P("1.5m").MilliValue(), 2);
  EXPECT_EQ(P("-1.5m").MilliValue(), -2);
  EXPECT_EQ(P("2").MilliValue(), 2000);
  EXPECT_EQ(P("1e20").Value(), INT64_MAX);
  EXPECT_EQ(P("-1e20").Value(), INT64_MIN);
  EXPECT_EQ(P("9223372036854775807").MilliValue(), INT64_MAX);
  EXPECT_TRUE(P("1e20").NanoValue() == N(1, 20));
}

TEST(QuantityValue, AsApproximateDouble) {
  // Upstream's TestStringQuantityAsApproximateFloat64.
  EXPECT_EQ(P("2Ki").AsApproximateDouble(), 2048);
  EXPECT_EQ(P("1.1Ki").AsApproximateDouble(), 1126.4);
  EXPECT_EQ(P("1Mi").AsApproximateDouble(), 1.048576e+06);
  EXPECT_EQ(P("2Gi").AsApproximateDouble(), 2.147483648e+09);
  EXPECT_EQ(P("12E").AsApproximateDouble(), 1.2e19);
  EXPECT_EQ(P("-500m").AsApproximateDouble(), -0.5);
}

TEST(QuantityCompare, CmpTableAndOperators) {
  struct Case {
    const char* a;
    const char* b;
    int cmp;
  };
  for (const Case& c : std::vector<Case>{{"0", "0", 0},
                                         {"100m", "50m", 1},
                                         {"50m", "100m", -1},
                                         {"10000T", "100Gi", 1},
                                         {"1Gi", "1073741824", 0},
                                         {"1Ki", "1k", 1},
                                         {"-1", "0", -1},
                                         {"1n", "0", 1},
                                         {"1e29", "99999999999999999999999999999", 1},
                                         {"9.01", "9.010", 0},
                                         {"800m", "79e-2", 1}}) {
    SCOPED_TRACE(std::string(c.a) + " vs " + c.b);
    const Quantity a = P(c.a), b = P(c.b);
    EXPECT_EQ(a.Cmp(b), c.cmp);
    EXPECT_EQ(b.Cmp(a), -c.cmp);
    EXPECT_EQ(a == b, c.cmp == 0);
    EXPECT_EQ(a != b, c.cmp != 0);
    EXPECT_EQ(a < b, c.cmp < 0);
    EXPECT_EQ(a <= b, c.cmp <= 0);
    EXPECT_EQ(a > b, c.cmp > 0);
    EXPECT_EQ(a >= b, c.cmp >= 0);
  }
  EXPECT_EQ(P("5").Sign(), 1);
  EXPECT_EQ(P("-5n").Sign(), -1);
  EXPECT_EQ(P("0Ki").Sign(), 0);
}

TEST(QuantityArithmetic, AddAndSubFollowReceiverFormat) {
  // Upstream's TestAdd and TestSub.
  struct Case {
    Quantity a, b;
    int64_t sum, diff;
    Format format;
  };
  for (Case c :
       std::vector<Case>{{Quantity::FromInt(10), Quantity::FromInt(10), 20, 0, kDecSI},
                         {Quantity::FromInt(10), Quantity::FromInt(1, kBinSI), 11, 9, kDecSI},
                         {Quantity::FromInt(10, kBinSI), Quantity::FromInt(1), 11, 9, kBinSI},
                         {Quantity(), Quantity::FromInt(50), 50, -50, kDecSI},
                         {Quantity::FromInt(50), Quantity(), 50, 50, kDecSI},
                         {Quantity(), Quantity(), 0, 0, kDecSI}}) {
    Quantity sum = c.a, diff = c.a;
    GF_ASSERT_OK(sum.Add(c.b));
    GF_ASSERT_OK(diff.Sub(c.b));
    EXPECT_EQ(sum.Value(), c.sum);
    EXPECT_EQ(diff.Value(), c.diff);
    EXPECT_EQ(sum.format(), c.format);
  }
}

TEST(QuantityArithmetic, ZeroReceiverTakesOtherFormat) {
  // Upstream's TestQuantityAddZeroPreservesSuffix and TestQuantitySubZeroPreservesSuffix.
  for (const char* text : {"100m", "1Gi"}) {
    SCOPED_TRACE(text);
    const Quantity value = P(text), zero = P("0");
    Quantity v1 = value, v2 = zero, v3 = value, v4 = zero;
    GF_ASSERT_OK(v1.Add(zero));
    GF_ASSERT_OK(v2.Add(value));
    GF_ASSERT_OK(v3.Sub(zero));
    GF_ASSERT_OK(v4.Sub(value));
    EXPECT_EQ(v1.String(), text);
    EXPECT_EQ(v2.String(), text);
    EXPECT_EQ(v3.String(), text);
    Quantity neg = value;
    neg.Neg();
    EXPECT_EQ(v4.String(), neg.String());
  }
  Quantity binary_zero = P("0Ki");
  GF_ASSERT_OK(binary_zero.Add(P("2048")));
  EXPECT_EQ(binary_zero.String(), "2048");  // took DecimalSI
}

TEST(QuantityArithmetic, ArithmeticForgetsParsedText) {
  Quantity plus = P("+1");
  GF_ASSERT_OK(plus.Add(Quantity()));
  EXPECT_EQ(plus.String(), "1");
  Quantity fraction = P("1.500");
  fraction.Neg();
  fraction.Neg();
  EXPECT_EQ(fraction.String(), "1500m");
}

TEST(QuantityArithmetic, NegKeepsFormat) {
  // Upstream's TestQuantityNeg.
  Quantity q = P("9.01");
  q.Neg();
  EXPECT_EQ(q.String(), "-9010m");
  Quantity b = Quantity::FromInt(-10, kBinSI);
  b.Neg();
  EXPECT_EQ(b.Value(), 10);
  EXPECT_EQ(b.format(), kBinSI);
  Quantity zero;
  zero.Neg();
  EXPECT_EQ(zero.String(), "0");
}

TEST(QuantityArithmetic, OverflowIsOutOfRangeAndLeavesValue) {
  const Quantity max = P("170141183460469231731687303715.884105727");
  Quantity q = max;
  EXPECT_THAT(q.Add(P("1n")), StatusIs(StatusCode::kOutOfRange, HasSubstr("sum")));
  EXPECT_EQ(q, max);
  Quantity low = max;
  low.Neg();
  EXPECT_THAT(low.Sub(P("1n")), StatusIs(StatusCode::kOutOfRange, HasSubstr("difference")));
  EXPECT_TRUE(low.NanoValue() == -Quantity::kMaxNanos);
  GF_EXPECT_OK(low.Add(max));
  EXPECT_TRUE(low.IsZero());
}

TEST(QuantityArithmetic, AddSubRoundTripAcrossScales) {
  // Upstream's TestAddSubRoundTrip, with a fixed seed.
  std::mt19937_64 rng(42);
  Quantity q;
  std::vector<Quantity> added;
  for (int i = 0; i < 200; ++i) {
    const auto j = static_cast<int64_t>(rng() >> 1);
    added.push_back(i % 2 == 0 ? Quantity::FromNano(j) : Quantity::FromInt(j % 1000000007));
    GF_ASSERT_OK(q.Add(added.back()));
  }
  for (const Quantity& a : added) GF_ASSERT_OK(q.Sub(a));
  EXPECT_TRUE(q.IsZero()) << q;
}

TEST(QuantityStorage, LongVerbatimTextSurvivesCopyMoveAndAssignment) {
  // 16 characters: beyond the inline buffer, so the text lives on the heap.
  const std::string long_text = "123456789012345k";
  Quantity q = P(long_text);
  ASSERT_EQ(q.String(), long_text);
  Quantity copy = q;
  Quantity moved = std::move(q);
  EXPECT_EQ(copy.String(), long_text);
  EXPECT_EQ(moved.String(), long_text);
  Quantity assigned = P("100.035k");
  assigned = copy;
  EXPECT_EQ(assigned.String(), long_text);
  assigned = P("1E3");  // heap text released, inline text taken
  EXPECT_EQ(assigned.String(), "1E3");
  copy = std::move(moved);
  EXPECT_EQ(copy.String(), long_text);
  GF_ASSERT_OK(copy.Add(P("1")));  // arithmetic forgets the text
  EXPECT_EQ(copy.String(), "123456789012345001");
  const Quantity fourteen = P("123456789.123k");  // exactly the inline size
  EXPECT_EQ(Quantity(fourteen).String(), "123456789.123k");
}

TEST(QuantityFormat, NamesMatchUpstream) {
  EXPECT_EQ(FormatName(kDecExp), "DecimalExponent");
  EXPECT_EQ(FormatName(kBinSI), "BinarySI");
  EXPECT_EQ(FormatName(kDecSI), "DecimalSI");
}

}  // namespace
}  // namespace gpufleet::core
