// Fuzz target for Quantity::Parse, the parser of every resource quantity read from a manifest.
// For each input that parses it checks the serialization invariants Kubernetes relies on:
// String() parses back to an equal value, and the reparse serializes to the same text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/quantity.h"

namespace {

using ::gpufleet::core::Quantity;

void Check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  gpufleet::Result<Quantity> parsed = Quantity::Parse(text);
  if (!parsed.ok()) {
    // Errors name the text; the code says whether it is malformed or merely too large.
    Check(parsed.status().code() == gpufleet::StatusCode::kInvalidArgument ||
          parsed.status().code() == gpufleet::StatusCode::kOutOfRange);
    return 0;
  }
  const Quantity& q = *parsed;
  const std::string serialized = q.String();
  Check(!serialized.empty());
  gpufleet::Result<Quantity> reparsed = Quantity::Parse(serialized);
  Check(reparsed.ok());
  Check(*reparsed == q);
  Check(reparsed->String() == serialized);
  Check(q.Cmp(q) == 0 && q.Sign() == reparsed->Sign());

  // Negation and add/sub are exact and never leave the range for a parsed value.
  Quantity negated = q;
  negated.Neg();
  Check(negated.Sign() == -q.Sign());
  Quantity sum = q;
  Check(sum.Add(negated).ok() && sum.IsZero());
  Quantity back = negated;
  back.Neg();
  Check(back == q);
  gpufleet::Result<Quantity> negated_reparsed = Quantity::Parse(negated.String());
  Check(negated_reparsed.ok() && *negated_reparsed == negated);
  return 0;
}
