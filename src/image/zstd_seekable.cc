#include "image/zstd_seekable.h"

#include <zstd.h>

#include <algorithm>

namespace gpufleet::image {
namespace {

constexpr uint32_t kSkippableMagic = 0x184D2A5E;
constexpr uint32_t kSeekableMagic = 0x8F92EAB1;

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint32_t GetU32(std::string_view s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + static_cast<size_t>(i)]);
  return v;
}

}  // namespace

std::string ZstdSeekTable::Serialize() const {
  std::string out;
  PutU32(out, kSkippableMagic);
  PutU32(out, static_cast<uint32_t>(frames.size() * 8 + kSeekTableFooterSize));
  for (const ZstdFrame& f : frames) {
    PutU32(out, static_cast<uint32_t>(f.compressed_size));
    PutU32(out, static_cast<uint32_t>(f.uncompressed_size));
  }
  PutU32(out, static_cast<uint32_t>(frames.size()));
  out.push_back('\0');  // no checksums: the zTOC's span digests cover every frame
  PutU32(out, kSeekableMagic);
  return out;
}

std::pair<size_t, size_t> ZstdSeekTable::FramesFor(int64_t offset, int64_t length) const {
  auto by_end = [](const ZstdFrame& f, int64_t v) { return f.uncompressed_offset + f.uncompressed_size <= v; };
  const size_t first = static_cast<size_t>(std::lower_bound(frames.begin(), frames.end(), offset, by_end) - frames.begin());
  const int64_t last_byte = offset + std::max<int64_t>(length, 1) - 1;
  size_t last = static_cast<size_t>(std::lower_bound(frames.begin(), frames.end(), last_byte + 1, by_end) - frames.begin());
  if (last >= frames.size()) last = frames.empty() ? 0 : frames.size() - 1;
  return {first, std::max(first, last)};
}

Result<int64_t> SeekTableSize(std::string_view footer) {
  if (footer.size() < kSeekTableFooterSize) return InvalidArgumentError("zstd seek table: footer shorter than 9 bytes");
  footer = footer.substr(footer.size() - kSeekTableFooterSize);
  if (GetU32(footer, 5) != kSeekableMagic) return InvalidArgumentError("not a seekable zstd stream (no seek table footer)");
  const uint32_t count = GetU32(footer, 0);
  const uint8_t descriptor = static_cast<uint8_t>(footer[4]);
  if (descriptor & 0x7C) return InvalidArgumentError("zstd seek table: reserved descriptor bits set");
  const int64_t entry = (descriptor & 0x80) ? 12 : 8;
  return 8 + static_cast<int64_t>(count) * entry + static_cast<int64_t>(kSeekTableFooterSize);
}

Result<ZstdSeekTable> ParseSeekTable(std::string_view tail, int64_t blob_size) {
  GF_ASSIGN_OR_RETURN(const int64_t size, SeekTableSize(tail));
  if (size > static_cast<int64_t>(tail.size()) || size > blob_size) {
    return InvalidArgumentError("zstd seek table: " + std::to_string(size) + " bytes, more than the blob's end holds");
  }
  std::string_view table = tail.substr(tail.size() - static_cast<size_t>(size));
  if (GetU32(table, 0) != kSkippableMagic || GetU32(table, 4) != static_cast<uint32_t>(size - 8)) {
    return InvalidArgumentError("zstd seek table: the skippable frame header does not match its footer");
  }
  const bool checksums = static_cast<uint8_t>(table[table.size() - 5]) & 0x80;
  const size_t entry = checksums ? 12 : 8;
  const uint32_t count = GetU32(table, table.size() - kSeekTableFooterSize);
  ZstdSeekTable out;
  out.compressed_size = blob_size;
  int64_t in = 0, uncompressed = 0;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = 8 + i * entry;
    ZstdFrame f;
    f.compressed_offset = in;
    f.compressed_size = GetU32(table, at);
    f.uncompressed_offset = uncompressed;
    f.uncompressed_size = GetU32(table, at + 4);
    if (f.compressed_size == 0) return InvalidArgumentError("zstd seek table: frame " + std::to_string(i) + " has no bytes");
    in += f.compressed_size;
    uncompressed += f.uncompressed_size;
    out.frames.push_back(f);
  }
  if (in + size != blob_size) {
    return InvalidArgumentError("zstd seek table: its frames add up to " + std::to_string(in) + " bytes, the blob has " +
                                std::to_string(blob_size - size) + " before the table");
  }
  out.uncompressed_size = uncompressed;
  return out;
}

ZstdSeekableWriter::ZstdSeekableWriter(Sink sink, int64_t frame_size, int level)
    : sink_(std::move(sink)), frame_size_(std::max<int64_t>(frame_size, 64 * 1024)), level_(level) {}
ZstdSeekableWriter::~ZstdSeekableWriter() = default;

Status ZstdSeekableWriter::FlushFrame() {
  if (pending_.empty()) return OkStatus();
  out_.resize(ZSTD_compressBound(pending_.size()));
  const size_t n = ZSTD_compress(out_.data(), out_.size(), pending_.data(), pending_.size(), level_);
  if (ZSTD_isError(n)) return InternalError(std::string("zstd compress: ") + ZSTD_getErrorName(n));
  ZstdFrame f;
  f.compressed_offset = table_.frames.empty() ? 0 : table_.frames.back().compressed_offset + table_.frames.back().compressed_size;
  f.compressed_size = static_cast<int64_t>(n);
  f.uncompressed_offset = table_.uncompressed_size;
  f.uncompressed_size = static_cast<int64_t>(pending_.size());
  table_.frames.push_back(f);
  table_.uncompressed_size += f.uncompressed_size;
  pending_.clear();
  return sink_(std::string_view(out_.data(), n));
}

Status ZstdSeekableWriter::Feed(std::string_view data) {
  while (!data.empty()) {
    const size_t take = std::min(data.size(), static_cast<size_t>(frame_size_) - pending_.size());
    pending_.append(data.substr(0, take));
    data.remove_prefix(take);
    if (static_cast<int64_t>(pending_.size()) == frame_size_) GF_RETURN_IF_ERROR(FlushFrame());
  }
  return OkStatus();
}

Status ZstdSeekableWriter::Finish() {
  GF_RETURN_IF_ERROR(FlushFrame());
  const std::string table = table_.Serialize();
  table_.compressed_size =
      (table_.frames.empty() ? 0 : table_.frames.back().compressed_offset + table_.frames.back().compressed_size) +
      static_cast<int64_t>(table.size());
  return sink_(table);
}

Status DecompressZstdFrame(std::string_view frame, char* out, int64_t out_len) {
  const unsigned long long declared = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != static_cast<unsigned long long>(out_len)) {
    return DataLossError("zstd frame: holds " + std::to_string(declared) + " bytes, the seek table says " + std::to_string(out_len));
  }
  const size_t n = ZSTD_decompress(out, static_cast<size_t>(out_len), frame.data(), frame.size());
  if (ZSTD_isError(n)) return DataLossError(std::string("zstd frame: ") + ZSTD_getErrorName(n));
  if (static_cast<int64_t>(n) != out_len) return DataLossError("zstd frame: " + std::to_string(n) + " bytes, not " + std::to_string(out_len));
  return OkStatus();
}

}  // namespace gpufleet::image
