// Ztoc: soci-snapshotter's seekable index of one gzip layer, byte-compatible with SOCI (the
// flatbuffers schema in proto/ztoc/ztoc.fbs): the layer's table of contents (every tar entry with
// where its data sits in the uncompressed stream) plus the gzip checkpoints (zinfo blob v2) and
// the sha256 of each compressed span, so a reader fetches and verifies only the spans a file
// needs.
//
// Span i covers the compressed bytes [checkpoint i's `in`, one byte earlier when it starts
// mid-byte; checkpoint i+1's `in`), the last one up to the end of the blob, as SOCI defines them.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "image/gzip_index.h"
#include "image/tar_reader.h"
#include "image/zstd_seekable.h"

namespace gpufleet::image {

inline constexpr std::string_view kZtocVersion = "0.9";
inline constexpr std::string_view kBuildToolIdentifier = "gpufleet";

struct ZtocFile {
  std::string name;
  std::string type;  // reg, dir, symlink, hardlink, char, block, fifo
  int64_t uncompressed_offset = 0;
  int64_t uncompressed_size = 0;
  std::string linkname;
  int64_t mode = 0;
  uint32_t uid = 0, gid = 0;
  std::string uname, gname;
  std::string mod_time;  // RFC 3339, nanoseconds when not whole seconds, UTC
  int64_t devmajor = 0, devminor = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;  // the entry's PAX records
};

enum class ZtocCompression { kGzip, kZstd };

struct Ztoc {
  std::string version = std::string(kZtocVersion);
  ZtocCompression compression = ZtocCompression::kGzip;
  std::string build_tool_identifier = std::string(kBuildToolIdentifier);
  int64_t compressed_archive_size = 0;
  int64_t uncompressed_archive_size = 0;
  std::vector<ZtocFile> files;
  GzipIndex index;                       // gzip: checkpoints; sizes set from the two fields above
  ZstdSeekTable zstd;                    // zstd seekable: the frames (a span per frame)
  std::vector<std::string> span_digests;  // "sha256:<hex>", one per span

  int max_span_id() const {
    return static_cast<int>(compression == ZtocCompression::kZstd ? zstd.frames.size() : index.checkpoints.size()) - 1;
  }
  // Compressed byte range [start, end) of span `id`.
  std::pair<int64_t, int64_t> SpanRange(int id) const;
  // The spans holding uncompressed bytes [offset, offset + length).
  std::pair<int, int> SpansFor(int64_t offset, int64_t length) const;
  const ZtocFile* Find(std::string_view name) const;
};

// Builds the zTOC of a gzip tar layer (one pass inflating and reading the tar, then the span
// digests from the compressed bytes) or of a seekable zstd layer (its seek table read from the
// end, then every frame). `read` serves the compressed layer. Errors: neither gzip nor seekable
// zstd, not tar, a tar entry type SOCI cannot index (it refuses them too).
Result<Ztoc> BuildZtoc(const CompressedReader& read, int64_t compressed_size, int64_t span_size = kDefaultSpanSize);

// The flatbuffer bytes SOCI stores as the zTOC blob.
std::string SerializeZtoc(const Ztoc& ztoc);
// Parses and verifies untrusted zTOC bytes (flatbuffers verifier, then the zinfo blob and
// offsets). Errors name what is wrong.
Result<Ztoc> ParseZtoc(std::string_view bytes);

// One file's bytes from a layer through its zTOC, fetching and verifying only the spans it needs.
// Errors: no such file, not a regular file, a span whose digest does not match (kDataLoss).
Result<std::string> ReadFile(const Ztoc& ztoc, const CompressedReader& read, std::string_view name);

// "2024-05-01T12:00:00.5Z" for (1714564800, 500000000).
std::string FormatModTime(int64_t sec, int32_t nsec);

}  // namespace gpufleet::image
