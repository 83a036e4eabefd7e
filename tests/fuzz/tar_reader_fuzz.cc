// Fuzz target for the tar reader (layers come from registries): must not crash; every entry it
// reports has a name and its data lies inside the stream consumed so far.
#include <cstddef>
#include <cstdint>
#include <string>

#include "image/tar_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gpufleet::image;
  const std::string text(reinterpret_cast<const char*>(data), size);
  TarReader reader({.on_entry = [&](const TarEntry& e) -> gpufleet::Status {
                      if (e.name.empty() || e.size < 0 || e.data_offset < e.header_offset) __builtin_trap();
                      return gpufleet::OkStatus();
                    },
                    .on_data = {}});
  for (size_t at = 0; at < text.size(); at += 700) {
    if (!reader.Feed(std::string_view(text).substr(at, 700)).ok()) return 0;
  }
  (void)reader.Finish();
  return 0;
}
