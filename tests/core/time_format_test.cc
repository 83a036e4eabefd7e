#include "core/time_format.h"

#include <gtest/gtest.h>

#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using ::gpufleet::testing::StatusIs;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

TimePoint At(const char* text) {
  auto t = ParseRfc3339(text);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : TimePoint{};
}

TEST(Rfc3339, FormatsSecondsAndMicros) {
  TimePoint t = At("2026-11-24T22:16:01.123456789Z");
  EXPECT_EQ(FormatRfc3339(t), "2026-11-24T22:16:01Z");
  EXPECT_EQ(FormatRfc3339Micro(t), "2026-11-24T22:16:01.123456Z");
}

TEST(Rfc3339, ParsesOffsets) {
  EXPECT_EQ(At("2026-11-24T23:16:01+01:00"), At("2026-11-24T22:16:01Z"));
  EXPECT_EQ(At("2026-11-24T20:46:01-01:30"), At("2026-11-24T22:16:01Z"));
  EXPECT_EQ(At("2026-11-24t22:16:01z"), At("2026-11-24T22:16:01Z"));
}

TEST(Rfc3339, RejectsMalformed) {
  for (auto bad : {"", "2026-11-24", "2026-11-24T22:16:01", "2026-13-01T00:00:00Z",
                   "2026-02-30T00:00:00Z", "2026-11-24T22:16:01.Z", "2026-11-24T22:16:01Zjunk",
                   "2026-11-24T22:16:01+0100", "2026/11/24T22:16:01Z"}) {
    EXPECT_THAT(ParseRfc3339(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr(bad))) << bad;
  }
}

TEST(GoDuration, ParsesKarpenterValues) {
  struct Case {
    const char* text;
    Duration want;
  } cases[] = {
      {"720h", 720h},   {"30s", 30s},       {"1h30m", 90min},   {"1.5h", 90min},
      {"500ms", 500ms}, {"0", 0s},          {"-1m", -1min},     {"+5s", 5s},
      {"1us", 1us},     {"1\xC2\xB5s", 1us}, {"1\xCE\xBCs", 1us}, {"2ns", 2ns},
      {".5s", 500ms},   {"1.s", 1s},        {"1h0m0s", 1h},     {"0.000000001s", 1ns},
  };
  for (const auto& c : cases) {
    auto d = ParseGoDuration(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status();
    EXPECT_EQ(*d, c.want) << c.text;
  }
}

TEST(GoDuration, RejectsMalformed) {
  for (auto bad : {"", "1", "h", ".s", "1d", "1 h", "--1s", "1h-1m", "Never", "+"}) {
    EXPECT_THAT(ParseGoDuration(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_THAT(ParseGoDuration("3000000h"), StatusIs(StatusCode::kOutOfRange));
  EXPECT_THAT(ParseGoDuration("9223372036854775808ns"), StatusIs(StatusCode::kOutOfRange));
  EXPECT_EQ(*ParseGoDuration("-9223372036854775808ns"), Duration::min());
}

TEST(GoDuration, FormatsLikeGo) {
  struct Case {
    Duration d;
    const char* want;
  } cases[] = {
      {0s, "0s"},          {720h, "720h0m0s"}, {90s, "1m30s"},    {1500ms, "1.5s"},
      {500ms, "500ms"},    {1us, "1\xC2\xB5s"}, {3ns, "3ns"},      {-90min, "-1h30m0s"},
      {1h + 500ms, "1h0m0.5s"}, {1001us, "1.001ms"},
  };
  for (const auto& c : cases) EXPECT_EQ(FormatGoDuration(c.d), c.want);
}

TEST(GoDuration, FormatParseRoundTrip) {
  for (Duration d : {Duration(1), Duration(999), Duration(123456789), Duration(3600000000001)}) {
    EXPECT_EQ(*ParseGoDuration(FormatGoDuration(d)), d);
  }
}

}  // namespace
}  // namespace gpufleet::core
