// Fuzz target for zTOC bytes (untrusted: fetched from registries as SOCI artifacts) and for zstd
// seek tables (read from the end of layers): parsing must not crash; an accepted zTOC keeps every
// file and span inside the archive it describes, an accepted seek table adds up to its blob.
#include <cstddef>
#include <cstdint>
#include <string>

#include "image/ztoc.h"
#include "image/zstd_seekable.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gpufleet::image;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto table = ParseSeekTable(bytes, static_cast<int64_t>(size) + 1000);
  if (table.ok()) {
    int64_t sum = 0;
    for (const auto& f : table->frames) sum += f.compressed_size;
    if (sum > static_cast<int64_t>(size) + 1000) __builtin_trap();
  }
  auto z = ParseZtoc(bytes);
  if (!z.ok()) return 0;
  for (const auto& f : z->files) {
    if (f.uncompressed_offset + f.uncompressed_size > z->uncompressed_archive_size) __builtin_trap();
  }
  if (static_cast<int>(z->span_digests.size()) != z->max_span_id() + 1) __builtin_trap();
  for (int id = 0; id <= z->max_span_id(); ++id) {
    auto [start, end] = z->SpanRange(id);
    if (start < 0 || end > z->compressed_archive_size || start > end) __builtin_trap();
  }
  return 0;
}
