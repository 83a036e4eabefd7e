// Small helpers shared by the scheduling tests.
#pragma once

#include <string_view>

#include <gtest/gtest.h>

#include "scheduling/model.h"

namespace gpufleet::scheduling {

// How many pods got a node (existing or new).
inline int Placed(const Result& r) {
  int placed = 0;
  for (const Placement& p : r.placements) placed += p.kind != Placement::Kind::kUnplaced ? 1 : 0;
  return placed;
}

// Placed(r), expecting every unplaced pod's error to mention `why`.
inline int PlacedOthersFailingWith(const Result& r, std::string_view why) {
  for (const Placement& p : r.placements) {
    if (p.kind == Placement::Kind::kUnplaced) {
      EXPECT_NE(p.error.find(why), std::string::npos) << p.error;
    }
  }
  return Placed(r);
}

}  // namespace gpufleet::scheduling
