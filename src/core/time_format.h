// Time and duration text as Kubernetes writes it: RFC 3339 timestamps (metav1.Time with seconds,
// metav1.MicroTime with microseconds) and Go durations ("720h", "1m30s", "500ms") used by
// Karpenter fields such as expireAfter and consolidateAfter.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace gpufleet::core {

// "2026-11-24T22:16:01Z" (UTC, whole seconds, truncated).
std::string FormatRfc3339(TimePoint t);
// "2026-11-24T22:16:01.123456Z" (UTC, microseconds).
std::string FormatRfc3339Micro(TimePoint t);
// Accepts "YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)" ('t'/'z' too). InvalidArgument names the text.
Result<TimePoint> ParseRfc3339(std::string_view text);

// Go's time.ParseDuration: optional sign, then one or more decimal numbers with a unit each
// (ns us µs μs ms s m h), or "0". InvalidArgument names the text; OutOfRange on int64 overflow.
Result<Duration> ParseGoDuration(std::string_view text);
// Go's Duration.String(): "0s", "1h0m0s", "1m30s", "1.5s", "500ms", "2µs", "-3ns".
std::string FormatGoDuration(Duration d);

}  // namespace gpufleet::core
