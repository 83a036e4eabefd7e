#include "core/time_format.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace gpufleet::core {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::seconds;

std::string FormatDate(TimePoint t, seconds* whole) {
  auto secs = std::chrono::floor<seconds>(t);
  *whole = secs.time_since_epoch();
  auto days = std::chrono::floor<std::chrono::days>(secs);
  std::chrono::year_month_day ymd{days};
  std::chrono::hh_mm_ss hms{secs - days};
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

bool ReadDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

struct Unit {
  std::string_view name;
  uint64_t nanos;
};
constexpr std::array<Unit, 8> kUnits = {{{"ns", 1},
                                         {"us", 1000},
                                         {"\xC2\xB5s", 1000},  // U+00B5 micro sign
                                         {"\xCE\xBCs", 1000},  // U+03BC Greek mu
                                         {"ms", 1000000},
                                         {"s", 1000000000},
                                         {"m", 60000000000},
                                         {"h", 3600000000000}}};

}  // namespace

std::string FormatRfc3339(TimePoint t) {
  seconds whole;
  return FormatDate(t, &whole) + "Z";
}

std::string FormatRfc3339Micro(TimePoint t) {
  seconds whole;
  std::string out = FormatDate(t, &whole);
  auto micros = duration_cast<microseconds>(t.time_since_epoch()) - whole;
  char buf[16];
  std::snprintf(buf, sizeof(buf), ".%06lldZ", static_cast<long long>(micros.count()));
  return out + buf;
}

Result<TimePoint> ParseRfc3339(std::string_view text) {
  auto fail = [&](std::string_view why) {
    return InvalidArgumentError("timestamp \"" + std::string(text) + "\": " + std::string(why) +
                                " (expected RFC 3339, e.g. 2026-11-24T22:16:01Z)");
  };
  int year, month, day, hour, minute, second;
  if (text.size() < 20 || !ReadDigits(text, 0, 4, &year) || text[4] != '-' ||
      !ReadDigits(text, 5, 2, &month) || text[7] != '-' || !ReadDigits(text, 8, 2, &day) ||
      (text[10] != 'T' && text[10] != 't') || !ReadDigits(text, 11, 2, &hour) ||
      text[13] != ':' || !ReadDigits(text, 14, 2, &minute) || text[16] != ':' ||
      !ReadDigits(text, 17, 2, &second)) {
    return fail("malformed date or time");
  }
  std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{unsigned(month)},
                                  std::chrono::day{unsigned(day)}};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return fail("field out of range");
  size_t pos = 19;
  std::chrono::nanoseconds frac{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t start = pos;
    int64_t nanos = 0;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) {
        nanos = nanos * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (pos == start) return fail("empty fraction of a second");
    for (; digits < 9; ++digits) nanos *= 10;
    frac = std::chrono::nanoseconds(nanos);
  }
  std::chrono::minutes offset{0};
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!ReadDigits(text, pos + 1, 2, &oh) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !ReadDigits(text, pos + 4, 2, &om) || oh > 23 || om > 59) {
      return fail("malformed UTC offset");
    }
    offset = std::chrono::hours(oh) + std::chrono::minutes(om);
    if (text[pos] == '-') offset = -offset;
    pos += 6;
  } else {
    return fail("missing time zone (Z or ±HH:MM)");
  }
  if (pos != text.size()) return fail("unexpected text after the time zone");
  auto local = std::chrono::sys_days{ymd} + std::chrono::hours(hour) +
               std::chrono::minutes(minute) + std::chrono::seconds(second);
  return TimePoint(duration_cast<TimePoint::duration>((local - offset).time_since_epoch() + frac));
}

Result<Duration> ParseGoDuration(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return InvalidArgumentError("duration \"" + std::string(text) + "\": " + std::string(why) +
                                " (expected e.g. 720h, 1h30m, 10s, 500ms)");
  };
  auto overflow = [&] {
    return OutOfRangeError("duration \"" + std::string(text) + "\": out of range");
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) return invalid("empty");
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || (s[0] >= '0' && s[0] <= '9'))) return invalid("expected a number");
    uint64_t whole = 0;
    size_t i = 0;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
      if (whole > (kLimit - 1) / 10) return overflow();
      whole = whole * 10 + uint64_t(s[i] - '0');
      if (whole > kLimit) return overflow();
    }
    bool has_whole = i > 0;
    s.remove_prefix(i);
    uint64_t frac = 0;
    double scale = 1;
    bool has_frac = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      bool overflowed = false;
      for (i = 0; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
        if (overflowed) continue;
        if (frac > (INT64_MAX - 9) / 10) {
          overflowed = true;  // further digits cannot change the result
          continue;
        }
        frac = frac * 10 + uint64_t(s[i] - '0');
        scale *= 10;
      }
      has_frac = i > 0;
      s.remove_prefix(i);
    }
    if (!has_whole && !has_frac) return invalid("expected digits");
    for (i = 0; i < s.size() && s[i] != '.' && (s[i] < '0' || s[i] > '9'); ++i) {
    }
    if (i == 0) return invalid("missing unit");
    std::string_view unit_name = s.substr(0, i);
    s.remove_prefix(i);
    const Unit* unit = nullptr;
    for (const auto& u : kUnits) {
      if (u.name == unit_name) unit = &u;
    }
    if (!unit) return invalid("unknown unit \"" + std::string(unit_name) + "\"");
    if (whole > kLimit / unit->nanos) return overflow();
    uint64_t v = whole * unit->nanos;
    if (frac > 0) {
      v += static_cast<uint64_t>(static_cast<double>(frac) *
                                 (static_cast<double>(unit->nanos) / scale));
      if (v > kLimit) return overflow();
    }
    total += v;
    if (total > kLimit) return overflow();
  }
  if (negative) return Duration(total == kLimit ? INT64_MIN : -static_cast<int64_t>(total));
  if (total > kLimit - 1) return overflow();
  return Duration(static_cast<int64_t>(total));
}

std::string FormatGoDuration(Duration d) {
  int64_t n = d.count();
  if (n == 0) return "0s";
  bool negative = n < 0;
  uint64_t u = negative ? uint64_t(0) - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  // Prints v / 10^prec with trailing zeros (and a bare '.') dropped.
  auto frac = [](uint64_t v, int prec) {
    std::string digits;
    bool printed = false;
    for (int i = 0; i < prec; ++i) {
      int digit = static_cast<int>(v % 10);
      printed = printed || digit != 0;
      if (printed) digits.insert(digits.begin(), char('0' + digit));
      v /= 10;
    }
    std::string out = std::to_string(v);
    if (printed) out += "." + digits;
    return out;
  };
  std::string out;
  if (u < 1000000000) {
    if (u < 1000) {
      out = std::to_string(u) + "ns";
    } else if (u < 1000000) {
      out = frac(u, 3) + "\xC2\xB5s";
    } else {
      out = frac(u, 6) + "ms";
    }
  } else {
    uint64_t secs_nanos = u % 60000000000;
    uint64_t minutes = u / 60000000000;
    out = frac(secs_nanos, 9) + "s";
    if (minutes > 0) {
      out = std::to_string(minutes % 60) + "m" + out;
      if (minutes >= 60) out = std::to_string(minutes / 60) + "h" + out;
    }
  }
  return negative ? "-" + out : out;
}

}  // namespace gpufleet::core
