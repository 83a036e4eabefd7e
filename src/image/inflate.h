// Fast inflate with ISA-L (igzip): a whole gzip stream in one pass, or, with a GzipIndex, every
// span on its own core starting from its checkpoint (the window as dictionary, the partial byte's
// bits primed), which is what makes one large layer inflate faster than one zlib stream can
// (~120 MB/s of compressed input on these machines).
#pragma once

#include <functional>
#include <string_view>

#include "core/status.h"
#include "image/gzip_index.h"

namespace gpufleet::image {

// Inflates every member of a gzip stream with ISA-L, handing the output to `sink` in pieces.
// Errors: not gzip, corrupt data or CRC, truncated.
Status InflateGzip(std::string_view compressed, const std::function<Status(std::string_view)>& sink);

// Inflates the whole indexed stream into `out` (index.uncompressed_size bytes) with `threads`
// threads, one span at a time each. A span that crosses a gzip member boundary is inflated with
// zlib from its checkpoint. Errors: corrupt data, an index that does not fit the stream.
Status InflateSpansParallel(const GzipIndex& index, std::string_view compressed, unsigned threads, char* out);

}  // namespace gpufleet::image
