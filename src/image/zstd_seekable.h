// The zstd seekable format (facebook/zstd contrib/seekable_format): a zstd stream cut into
// independent frames, followed by a skippable frame holding the seek table (each frame's
// compressed and decompressed size). Every zstd decoder reads it as one ordinary stream (skippable
// frames are ignored), so a layer written this way stays a plain `tar+zstd` layer for containerd,
// umoci and skopeo, while gpufleet can read any frame alone: random file reads and decompression
// on every core. This is gpufleet's zstd mode of the zTOC, which SOCI lacks (soci #519).
//
// Seek table frame: u32 magic 0x184D2A5E, u32 content size, per frame u32 compressed size and
// u32 decompressed size [u32 checksum when flagged], then the 9-byte footer: u32 frame count,
// u8 descriptor (bit 7: checksums present), u32 magic 0x8F92EAB1. Little-endian.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gpufleet::image {

struct ZstdFrame {
  int64_t compressed_offset = 0, compressed_size = 0;
  int64_t uncompressed_offset = 0, uncompressed_size = 0;
};

struct ZstdSeekTable {
  std::vector<ZstdFrame> frames;
  int64_t compressed_size = 0;    // of the whole blob, seek table included
  int64_t uncompressed_size = 0;

  // The skippable frame that ends a seekable stream (no checksums).
  std::string Serialize() const;
  // The frames holding uncompressed bytes [offset, offset + length).
  std::pair<size_t, size_t> FramesFor(int64_t offset, int64_t length) const;
};

inline constexpr size_t kSeekTableFooterSize = 9;

// The seek table at the end of a blob of `blob_size` bytes; `tail` is its last bytes (at least
// the whole seek table frame: SeekTableSize(footer) says how many). Errors: no seek table (not
// seekable), sizes that do not add up to the blob.
Result<ZstdSeekTable> ParseSeekTable(std::string_view tail, int64_t blob_size);
// How many bytes at the end of the blob the seek table frame takes, from its 9-byte footer.
Result<int64_t> SeekTableSize(std::string_view footer);

// Compresses a stream into the seekable format, a frame per `frame_size` uncompressed bytes.
class ZstdSeekableWriter {
 public:
  using Sink = std::function<Status(std::string_view)>;
  ZstdSeekableWriter(Sink sink, int64_t frame_size, int level = 3);
  ~ZstdSeekableWriter();
  Status Feed(std::string_view data);
  // Flushes the last frame and writes the seek table.
  Status Finish();
  const ZstdSeekTable& table() const { return table_; }

 private:
  Status FlushFrame();
  Sink sink_;
  int64_t frame_size_;
  int level_;
  std::string pending_;  // uncompressed bytes of the frame being filled
  std::string out_;
  ZstdSeekTable table_;
};

// Decompresses one frame of exactly `out_len` bytes into `out`. Errors: corrupt data, a size
// that differs from the table's.
Status DecompressZstdFrame(std::string_view frame, char* out, int64_t out_len);

}  // namespace gpufleet::image
