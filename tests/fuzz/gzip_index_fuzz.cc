// Fuzz target for gzip indexes (untrusted: zTOCs come from registries) and gzip streams (layers
// come from registries): parsing a zinfo blob and indexing a stream must not crash; an index built
// from a stream must give back the bytes the stream inflates to, and ISA-L (whole stream and per
// span) must agree with zlib on the streams zlib accepts.
#include <cstddef>
#include <cstdint>
#include <string>

#include "image/gzip_index.h"
#include "image/inflate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gpufleet::image;
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)ParseGzipIndex(text);
  GzipIndexBuilder builder(4096);
  std::string inflated;
  if (!builder.Feed(text, [&](std::string_view out) {
        if (inflated.size() < (1 << 20)) inflated += out;
      }).ok()) {
    return 0;
  }
  auto index = builder.Finish();
  if (!index.ok() || index->uncompressed_size > (1 << 20)) return 0;
  // ISA-L must agree with zlib on a stream zlib accepted (it may still refuse one, e.g. on CRC).
  std::string isal;
  if (InflateGzip(text, [&](std::string_view out) {
        isal += out;
        return gpufleet::OkStatus();
      }).ok() && isal != inflated) {
    __builtin_trap();
  }
  std::string parallel(static_cast<size_t>(index->uncompressed_size), '\0');
  if (InflateSpansParallel(*index, text, 2, parallel.data()).ok() && parallel != inflated) __builtin_trap();
  auto read = [&](int64_t offset, int64_t length) -> gpufleet::Result<std::string> {
    return text.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
  };
  const int64_t n = index->uncompressed_size;
  auto got = ExtractRange(*index, read, n / 2, n - n / 2);
  if (!got.ok() || *got != inflated.substr(static_cast<size_t>(n / 2))) __builtin_trap();
  return 0;
}
