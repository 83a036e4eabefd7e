// GzipIndex: random access into a gzip stream, compatible with soci-snapshotter's "zinfo"
// checkpoints (the heart of a zTOC).
//
// A checkpoint is a place where inflating can start without the bytes before it: the compressed
// offset `in` (of the first byte holding the next deflate block), the uncompressed offset `out`,
// the number of bits of the byte before `in` that belong to that block (0-7), and the 32 KiB of
// output before `out` (the dictionary that block may refer back into). As SOCI does (a modified
// zran.c), checkpoints are taken only at deflate block boundaries, the first right after the
// gzip header, then whenever more than `span_size` bytes came out since the last one; none after
// the last block. Concatenated gzip members (pigz, mgzip) are indexed across.
//
// The packed blob is SOCI's, little-endian: int32 count, int64 span size, then per checkpoint
// int64 in, int64 out, uint8 bits and the 32,768-byte window (32,785 bytes each). Blob v2 holds
// checkpoint 0; v1 leaves it out (it carries no information); Parse tells them apart by length.
//
// The builder is fed the compressed stream in pieces as it arrives, so the index can be built
// during a download instead of after it.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gpufleet::image {

inline constexpr size_t kGzipWindowSize = 32768;
inline constexpr int64_t kDefaultSpanSize = int64_t{1} << 22;  // 4 MiB, SOCI's default
inline constexpr size_t kPackedCheckpointSize = 8 + 8 + 1 + kGzipWindowSize;  // 32,785

struct GzipCheckpoint {
  int64_t in = 0;   // compressed offset
  int64_t out = 0;  // uncompressed offset
  uint8_t bits = 0;
  std::vector<uint8_t> window;  // kGzipWindowSize bytes, oldest first
};

struct GzipIndex {
  int64_t span_size = kDefaultSpanSize;
  int64_t compressed_size = 0;
  int64_t uncompressed_size = 0;
  std::vector<GzipCheckpoint> checkpoints;

  // SOCI's zinfo blob, version 1 or 2.
  std::string Serialize(int version = 2) const;
  // The checkpoint to start from for uncompressed `offset` (the last one at or before it).
  size_t CheckpointFor(int64_t offset) const;
};

// Parses a zinfo blob (v1 or v2). Errors name what does not fit: a count that disagrees with the
// length, offsets that go backwards, bits above 7. The blob does not carry the stream sizes (the
// zTOC does): set compressed_size and uncompressed_size before ExtractRange.
Result<GzipIndex> ParseGzipIndex(std::string_view blob);

class GzipIndexBuilder {
 public:
  explicit GzipIndexBuilder(int64_t span_size = kDefaultSpanSize);
  ~GzipIndexBuilder();
  GzipIndexBuilder(const GzipIndexBuilder&) = delete;
  GzipIndexBuilder& operator=(const GzipIndexBuilder&) = delete;

  // The next piece of the compressed stream. `on_output`, when set, receives the inflated bytes
  // (so one pass both indexes and unpacks). Errors: not gzip, corrupt deflate data.
  Status Feed(std::string_view compressed, const std::function<void(std::string_view)>& on_output = {});
  // The whole index. Errors: the stream ended inside a member (truncated).
  Result<GzipIndex> Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Builds the index of a whole gzip stream in memory.
Result<GzipIndex> BuildGzipIndex(std::string_view compressed, int64_t span_size = kDefaultSpanSize);

// Reads `length` compressed bytes at `offset` (a local file, or HTTP Range requests).
using CompressedReader = std::function<Result<std::string>(int64_t offset, int64_t length)>;

// The uncompressed bytes [offset, offset + length) of the indexed stream, inflating only from the
// nearest checkpoint. Errors: a range outside the stream (kOutOfRange), corrupt data.
Result<std::string> ExtractRange(const GzipIndex& index, const CompressedReader& read, int64_t offset, int64_t length);

}  // namespace gpufleet::image
