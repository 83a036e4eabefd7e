// Fuzz target for zTOC bytes (untrusted: fetched from registries as SOCI artifacts): parsing must
// not crash; an accepted zTOC keeps every file and checkpoint inside the archive it describes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "image/ztoc.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto z = gpufleet::image::ParseZtoc(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!z.ok()) return 0;
  for (const auto& f : z->files) {
    if (f.uncompressed_offset + f.uncompressed_size > z->uncompressed_archive_size) __builtin_trap();
  }
  if (static_cast<int>(z->span_digests.size()) != z->max_span_id() + 1) __builtin_trap();
  return 0;
}
