// LayerDecompressor: one streaming interface over a layer's compression (gzip through ISA-L,
// zstd through libzstd, or none), so the pull pipeline does not care which a layer uses.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "image/manifest.h"

namespace gpufleet::image {

class LayerDecompressor {
 public:
  using Sink = std::function<Status(std::string_view)>;
  virtual ~LayerDecompressor() = default;
  // The next compressed piece; the uncompressed bytes go to the sink. Errors: corrupt data.
  virtual Status Feed(std::string_view compressed) = 0;
  // Errors: the stream ended early (truncated).
  virtual Status Finish() = 0;
};

std::unique_ptr<LayerDecompressor> NewLayerDecompressor(LayerCompression compression, LayerDecompressor::Sink sink);

// The same, handing on whole buffers taken from `source`: gzip inflates straight into them (no
// copy; the pull pipeline's path), the others copy into them.
using BufferSource = std::function<std::string()>;
using OwnedSink = std::function<Status(std::string)>;
std::unique_ptr<LayerDecompressor> NewLayerDecompressor(LayerCompression compression, BufferSource source, OwnedSink sink);

}  // namespace gpufleet::image
