// Fast inflate with ISA-L (igzip): a whole gzip stream in one pass, or, with a GzipIndex, every
// span on its own core starting from its checkpoint (the window as dictionary, the partial byte's
// bits primed), which is what makes one large layer inflate faster than one zlib stream can
// (~120 MB/s of compressed input on these machines).
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "core/status.h"
#include "image/gzip_index.h"

namespace gpufleet::image {

// Inflates every member of a gzip stream with ISA-L, handing the output to `sink` in pieces.
// Errors: not gzip, corrupt data or CRC, truncated.
Status InflateGzip(std::string_view compressed, const std::function<Status(std::string_view)>& sink);

// Inflates a gzip stream (every member, zero padding between them allowed) fed in pieces as it
// arrives, with ISA-L: the pull pipeline's inflater, so no blob is stored before it is unpacked.
class GzipInflater {
 public:
  using Sink = std::function<Status(std::string_view)>;
  using BufferSource = std::function<std::string()>;
  using OwnedSink = std::function<Status(std::string)>;
  explicit GzipInflater(Sink sink);
  // Inflates straight into buffers from `source` and hands each on whole (1 MiB, the last one
  // shorter, given at Finish): no copy out of an internal buffer.
  GzipInflater(BufferSource source, OwnedSink sink);
  ~GzipInflater();
  GzipInflater(const GzipInflater&) = delete;
  GzipInflater& operator=(const GzipInflater&) = delete;

  // The next compressed piece; inflated bytes go to the sink (up to 1 MiB at a time). Errors: not
  // gzip, corrupt data, a CRC or length that does not match, or the sink's error.
  Status Feed(std::string_view compressed);
  // Errors: the stream ended inside a member (truncated), or held no member at all.
  Status Finish();
  int64_t total_out() const { return total_out_; }

 private:
  struct State;
  Status Emit(size_t produced);
  std::unique_ptr<State> state_;
  Sink sink_;
  BufferSource source_;
  OwnedSink owned_sink_;
  std::string current_;   // owned mode: the buffer being filled
  size_t current_used_ = 0;
  int64_t total_in_ = 0, total_out_ = 0, member_start_ = 0;
  bool in_member_ = false, any_member_ = false;
};

// Inflates one span: `out_len` bytes from checkpoint `cp`, whose compressed bytes lie in `window`
// (which starts at compressed offset `window_offset` and must hold the byte before cp.in when
// cp.bits > 0, and enough past the span's end for the decoder's look-ahead). ISA-L, or zlib where
// the span crosses a gzip member boundary. Errors: corrupt data, a window that does not hold it.
Status InflateSpan(const GzipCheckpoint& cp, int64_t out_len, std::string_view window, int64_t window_offset, char* out);

// Inflates the whole indexed stream into `out` (index.uncompressed_size bytes) with `threads`
// threads, one span at a time each. A span that crosses a gzip member boundary is inflated with
// zlib from its checkpoint. Errors: corrupt data, an index that does not fit the stream.
Status InflateSpansParallel(const GzipIndex& index, std::string_view compressed, unsigned threads, char* out);

}  // namespace gpufleet::image
