#include "image/decompress.h"

#include <zstd.h>

#include <vector>

#include "image/inflate.h"

namespace gpufleet::image {
namespace {

class GzipDecompressor : public LayerDecompressor {
 public:
  explicit GzipDecompressor(Sink sink) : inflater_(std::move(sink)) {}
  GzipDecompressor(BufferSource source, OwnedSink sink) : inflater_(std::move(source), std::move(sink)) {}
  Status Feed(std::string_view compressed) override { return inflater_.Feed(compressed); }
  Status Finish() override { return inflater_.Finish(); }

 private:
  GzipInflater inflater_;
};

class ZstdDecompressor : public LayerDecompressor {
 public:
  explicit ZstdDecompressor(Sink sink) : sink_(std::move(sink)), stream_(ZSTD_createDStream()), out_(ZSTD_DStreamOutSize()) {
    // Layers are made with windows up to 128 MiB (--long); more is a bomb, not an image.
    ZSTD_DCtx_setParameter(stream_, ZSTD_d_windowLogMax, 27);
  }
  ~ZstdDecompressor() override { ZSTD_freeDStream(stream_); }

  Status Feed(std::string_view compressed) override {
    ZSTD_inBuffer in{compressed.data(), compressed.size(), 0};
    while (in.pos < in.size || pending_output_) {
      ZSTD_outBuffer out{out_.data(), out_.size(), 0};
      const size_t ret = ZSTD_decompressStream(stream_, &out, &in);
      if (ZSTD_isError(ret)) return DataLossError(std::string("zstd: ") + ZSTD_getErrorName(ret) + " near offset " + std::to_string(total_in_ + in.pos));
      frame_open_ = ret != 0;
      pending_output_ = out.pos == out.size;  // the output buffer filled: more may be waiting
      if (out.pos > 0) GF_RETURN_IF_ERROR(sink_(std::string_view(out_.data(), out.pos)));
      if (in.pos == in.size && !pending_output_) break;
    }
    total_in_ += compressed.size();
    any_ = any_ || !compressed.empty();
    return OkStatus();
  }
  Status Finish() override {
    if (!any_) return InvalidArgumentError("zstd: empty stream");
    if (frame_open_) return DataLossError("zstd: truncated: the stream ends inside a frame (after " + std::to_string(total_in_) + " bytes)");
    return OkStatus();
  }

 private:
  Sink sink_;
  ZSTD_DStream* stream_;
  std::vector<char> out_;
  size_t total_in_ = 0;
  bool frame_open_ = false, pending_output_ = false, any_ = false;
};

class PlainTar : public LayerDecompressor {
 public:
  explicit PlainTar(Sink sink) : sink_(std::move(sink)) {}
  Status Feed(std::string_view data) override { return data.empty() ? OkStatus() : sink_(data); }
  Status Finish() override { return OkStatus(); }

 private:
  Sink sink_;
};

}  // namespace

std::unique_ptr<LayerDecompressor> NewLayerDecompressor(LayerCompression compression, LayerDecompressor::Sink sink) {
  switch (compression) {
    case LayerCompression::kGzip: return std::make_unique<GzipDecompressor>(std::move(sink));
    case LayerCompression::kZstd: return std::make_unique<ZstdDecompressor>(std::move(sink));
    case LayerCompression::kNone: break;
  }
  return std::make_unique<PlainTar>(std::move(sink));
}

std::unique_ptr<LayerDecompressor> NewLayerDecompressor(LayerCompression compression, BufferSource source, OwnedSink sink) {
  if (compression == LayerCompression::kGzip) return std::make_unique<GzipDecompressor>(std::move(source), std::move(sink));
  return NewLayerDecompressor(compression, [source = std::move(source), sink = std::move(sink)](std::string_view out) {
    std::string piece = source();
    piece.assign(out);
    return sink(std::move(piece));
  });
}

}  // namespace gpufleet::image
