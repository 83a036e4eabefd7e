#include "image/gzip_index.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>

namespace gpufleet::image {
namespace {

void PutLe(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t GetLe(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

std::string ZlibError(const z_stream& s, int ret) {
  if (s.msg != nullptr) return s.msg;
  switch (ret) {
    case Z_DATA_ERROR: return "invalid deflate data";
    case Z_MEM_ERROR: return "out of memory";
    case Z_NEED_DICT: return "a preset dictionary is required";
    default: return "zlib error " + std::to_string(ret);
  }
}

}  // namespace

std::string GzipIndex::Serialize(int version) const {
  const size_t skip = version == 1 && !checkpoints.empty() ? 1 : 0;
  std::string out;
  out.reserve(12 + (checkpoints.size() - skip) * kPackedCheckpointSize);
  PutLe(out, checkpoints.size() - skip, 4);
  PutLe(out, static_cast<uint64_t>(span_size), 8);
  for (size_t i = skip; i < checkpoints.size(); ++i) {
    const GzipCheckpoint& c = checkpoints[i];
    PutLe(out, static_cast<uint64_t>(c.in), 8);
    PutLe(out, static_cast<uint64_t>(c.out), 8);
    out.push_back(static_cast<char>(c.bits));
    out.append(reinterpret_cast<const char*>(c.window.data()), kGzipWindowSize);
  }
  return out;
}

size_t GzipIndex::CheckpointFor(int64_t offset) const {
  auto it = std::upper_bound(checkpoints.begin(), checkpoints.end(), offset,
                             [](int64_t o, const GzipCheckpoint& c) { return o < c.out; });
  return it == checkpoints.begin() ? 0 : static_cast<size_t>(it - checkpoints.begin()) - 1;
}

Result<GzipIndex> ParseGzipIndex(std::string_view blob) {
  if (blob.size() < 12) return InvalidArgumentError("zinfo: " + std::to_string(blob.size()) + " bytes, shorter than its 12-byte header");
  const uint64_t count = GetLe(blob, 0, 4);
  GzipIndex index;
  index.span_size = static_cast<int64_t>(GetLe(blob, 4, 8));
  if (index.span_size <= 0) return InvalidArgumentError("zinfo: span size " + std::to_string(index.span_size));
  if ((blob.size() - 12) % kPackedCheckpointSize != 0 || (blob.size() - 12) / kPackedCheckpointSize != count) {
    return InvalidArgumentError("zinfo: header says " + std::to_string(count) + " checkpoints, the blob holds " +
                                std::to_string(blob.size() - 12) + " bytes of them (" +
                                std::to_string(kPackedCheckpointSize) + " each)");
  }
  size_t at = 12;
  for (uint64_t i = 0; i < count; ++i, at += kPackedCheckpointSize) {
    GzipCheckpoint c;
    c.in = static_cast<int64_t>(GetLe(blob, at, 8));
    c.out = static_cast<int64_t>(GetLe(blob, at + 8, 8));
    c.bits = static_cast<uint8_t>(blob[at + 16]);
    if (c.bits > 7) return InvalidArgumentError("zinfo: checkpoint " + std::to_string(i) + " has bits " + std::to_string(c.bits));
    if (c.in < 0 || c.out < 0 || (!index.checkpoints.empty() && (c.in <= index.checkpoints.back().in ||
                                                                 c.out < index.checkpoints.back().out))) {
      return InvalidArgumentError("zinfo: checkpoint " + std::to_string(i) + " does not follow the one before");
    }
    c.window.assign(blob.begin() + static_cast<std::ptrdiff_t>(at + 17),
                    blob.begin() + static_cast<std::ptrdiff_t>(at + 17 + kGzipWindowSize));
    index.checkpoints.push_back(std::move(c));
  }
  // Version 1 leaves out checkpoint 0 (right after the gzip header, nothing before it): restore it
  // so lookups below the first stored checkpoint start from the stream's beginning.
  if (index.checkpoints.empty() || index.checkpoints.front().out != 0) {
    GzipCheckpoint first;
    first.in = 0;  // "from the gzip header": ExtractRange parses the header itself
    first.window.assign(kGzipWindowSize, 0);
    index.checkpoints.insert(index.checkpoints.begin(), std::move(first));
  }
  return index;
}

struct GzipIndexBuilder::State {
  z_stream strm{};
  int64_t span;
  int64_t total_in = 0, total_out = 0, last_out = 0;
  bool member_open = false;  // inside a gzip member (header seen, end not yet)
  bool any_member = false;
  bool failed = false;
  std::vector<uint8_t> ring = std::vector<uint8_t>(kGzipWindowSize, 0);
  size_t ring_pos = 0;
  GzipIndex index;

  void Remember(const uint8_t* data, size_t n) {
    if (n >= kGzipWindowSize) {
      std::memcpy(ring.data(), data + n - kGzipWindowSize, kGzipWindowSize);
      ring_pos = 0;
      return;
    }
    const size_t first = std::min(n, kGzipWindowSize - ring_pos);
    std::memcpy(ring.data() + ring_pos, data, first);
    std::memcpy(ring.data(), data + first, n - first);
    ring_pos = (ring_pos + n) % kGzipWindowSize;
  }

  void AddCheckpoint() {
    GzipCheckpoint c;
    c.in = total_in;
    c.out = total_out;
    c.bits = static_cast<uint8_t>(strm.data_type & 7);
    c.window.resize(kGzipWindowSize);
    std::memcpy(c.window.data(), ring.data() + ring_pos, kGzipWindowSize - ring_pos);  // oldest first
    std::memcpy(c.window.data() + kGzipWindowSize - ring_pos, ring.data(), ring_pos);
    index.checkpoints.push_back(std::move(c));
    last_out = total_out;
  }
};

GzipIndexBuilder::GzipIndexBuilder(int64_t span_size) : state_(std::make_unique<State>()) {
  state_->span = span_size > 0 ? span_size : kDefaultSpanSize;
  state_->index.span_size = state_->span;
  if (inflateInit2(&state_->strm, 47) != Z_OK) state_->failed = true;  // 32 + 15: gzip or zlib header
}

GzipIndexBuilder::~GzipIndexBuilder() { inflateEnd(&state_->strm); }

Status GzipIndexBuilder::Feed(std::string_view compressed, const std::function<void(std::string_view)>& on_output) {
  State& s = *state_;
  if (s.failed) return FailedPreconditionError("gzip index: the stream already failed");
  s.strm.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  s.strm.avail_in = static_cast<uInt>(compressed.size());
  unsigned char out[65536];
  while (s.strm.avail_in > 0) {
    if (!s.member_open && s.any_member) {
      // After a member: another member, or zero padding (which gzip tolerates); anything else is
      // not gzip.
      const unsigned char* p = s.strm.next_in;
      size_t zeros = 0;
      while (zeros < s.strm.avail_in && p[zeros] == 0) ++zeros;
      if (zeros > 0) {
        s.strm.next_in += zeros;
        s.strm.avail_in -= static_cast<uInt>(zeros);
        s.total_in += static_cast<int64_t>(zeros);
        continue;
      }
      inflateReset2(&s.strm, 47);
    }
    s.member_open = true;
    s.any_member = true;
    s.strm.next_out = out;
    s.strm.avail_out = sizeof(out);
    const uInt in_before = s.strm.avail_in;
    const int ret = inflate(&s.strm, Z_BLOCK);
    const size_t produced = sizeof(out) - s.strm.avail_out;
    s.total_in += in_before - s.strm.avail_in;
    s.total_out += static_cast<int64_t>(produced);
    if (produced > 0) {
      s.Remember(out, produced);
      if (on_output) on_output(std::string_view(reinterpret_cast<const char*>(out), produced));
    }
    if (ret == Z_STREAM_END) {
      s.member_open = false;
      continue;
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      s.failed = true;
      return InvalidArgumentError("gzip: " + ZlibError(s.strm, ret) + " at compressed offset " + std::to_string(s.total_in));
    }
    // At the end of a deflate block header-wise (not the last block): a possible checkpoint.
    if ((s.strm.data_type & 128) && !(s.strm.data_type & 64) &&
        (s.index.checkpoints.empty() ? s.total_out == 0 : s.total_out - s.last_out > s.span)) {
      s.AddCheckpoint();
    }
    if (ret == Z_BUF_ERROR && produced == 0 && in_before == s.strm.avail_in) break;
  }
  return OkStatus();
}

Result<GzipIndex> GzipIndexBuilder::Finish() {
  State& s = *state_;
  if (s.failed) return FailedPreconditionError("gzip index: the stream failed");
  if (!s.any_member) return InvalidArgumentError("gzip: empty stream");
  if (s.member_open) {
    return InvalidArgumentError("gzip: truncated: the stream ends inside a member at compressed offset " +
                                std::to_string(s.total_in));
  }
  s.index.compressed_size = s.total_in;
  s.index.uncompressed_size = s.total_out;
  if (s.index.checkpoints.empty()) {
    GzipCheckpoint first;
    first.window.assign(kGzipWindowSize, 0);
    s.index.checkpoints.push_back(std::move(first));
  }
  return std::move(s.index);
}

Result<GzipIndex> BuildGzipIndex(std::string_view compressed, int64_t span_size) {
  GzipIndexBuilder builder(span_size);
  GF_RETURN_IF_ERROR(builder.Feed(compressed));
  return builder.Finish();
}

Result<std::string> ExtractRange(const GzipIndex& index, const CompressedReader& read, int64_t offset, int64_t length) {
  if (offset < 0 || length < 0 || offset + length > index.uncompressed_size) {
    return OutOfRangeError("range [" + std::to_string(offset) + ", " + std::to_string(offset + length) +
                           ") is outside the " + std::to_string(index.uncompressed_size) + "-byte stream");
  }
  std::string result;
  if (length == 0) return result;
  const GzipCheckpoint& cp = index.checkpoints[index.CheckpointFor(offset)];
  z_stream strm{};
  const bool from_header = cp.out == 0 && cp.in == 0;
  if (inflateInit2(&strm, from_header ? 47 : -15) != Z_OK) return InternalError("inflateInit2 failed");
  struct Closer {
    z_stream* s;
    ~Closer() { inflateEnd(s); }
  } closer{&strm};
  int64_t pos = cp.in;
  if (!from_header) {
    if (cp.bits > 0) {
      GF_ASSIGN_OR_RETURN(std::string byte, read(cp.in - 1, 1));
      if (byte.size() != 1) return DataLossError("compressed stream shorter than the index says");
      inflatePrime(&strm, cp.bits, static_cast<unsigned char>(byte[0]) >> (8 - cp.bits));
    }
    inflateSetDictionary(&strm, cp.window.data(), static_cast<uInt>(cp.window.size()));
  }
  int64_t skip = offset - cp.out;
  bool raw = !from_header;
  std::string chunk;
  size_t chunk_used = 0;
  unsigned char out[65536];
  while (static_cast<int64_t>(result.size()) < length) {
    if (chunk_used >= chunk.size()) {
      const int64_t want = std::min<int64_t>(256 * 1024, index.compressed_size - pos);
      if (want <= 0) return DataLossError("gzip: the stream ended before the requested range");
      GF_ASSIGN_OR_RETURN(chunk, read(pos, want));
      if (chunk.empty()) return DataLossError("gzip: no compressed data at offset " + std::to_string(pos));
      pos += static_cast<int64_t>(chunk.size());
      chunk_used = 0;
    }
    strm.next_in = reinterpret_cast<Bytef*>(chunk.data() + chunk_used);
    strm.avail_in = static_cast<uInt>(chunk.size() - chunk_used);
    strm.next_out = out;
    strm.avail_out = sizeof(out);
    const uInt in_before = strm.avail_in;
    const int ret = inflate(&strm, Z_NO_FLUSH);
    chunk_used += in_before - strm.avail_in;
    int64_t produced = static_cast<int64_t>(sizeof(out) - strm.avail_out);
    const unsigned char* data = out;
    if (skip > 0) {
      const int64_t dropped = std::min(skip, produced);
      skip -= dropped;
      data += dropped;
      produced -= dropped;
    }
    result.append(reinterpret_cast<const char*>(data),
                  static_cast<size_t>(std::min<int64_t>(produced, length - static_cast<int64_t>(result.size()))));
    if (ret == Z_STREAM_END) {
      // End of a member: in raw mode the 8-byte trailer follows; then the next member's header.
      size_t trailer = raw ? 8 : 0;
      while (trailer > 0) {
        if (chunk_used >= chunk.size()) {
          const int64_t want = std::min<int64_t>(256 * 1024, index.compressed_size - pos);
          if (want <= 0) break;
          GF_ASSIGN_OR_RETURN(chunk, read(pos, want));
          pos += static_cast<int64_t>(chunk.size());
          chunk_used = 0;
        }
        const size_t take = std::min(trailer, chunk.size() - chunk_used);
        chunk_used += take;
        trailer -= take;
      }
      inflateReset2(&strm, 47);
      raw = false;
      continue;
    }
    if (ret != Z_OK && ret != Z_BUF_ERROR) {
      return DataLossError("gzip: " + ZlibError(strm, ret) + " near compressed offset " + std::to_string(pos));
    }
  }
  return result;
}

}  // namespace gpufleet::image
