#include "image/inflate.h"

#include <isa-l/igzip_lib.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace gpufleet::image {
namespace {

std::string IsalError(int ret) {
  switch (ret) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid lookback distance";
    case ISAL_INVALID_WRAPPER: return "not a gzip stream";
    case ISAL_UNSUPPORTED_METHOD: return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM: return "CRC mismatch";
    default: return "ISA-L inflate error " + std::to_string(ret);
  }
}

// Inflates one span with ISA-L. Returns false (no error) when the span crosses a member
// boundary, which raw inflate cannot cross: the caller falls back to zlib.
Result<bool> InflateSpanIsal(const GzipCheckpoint& cp, int64_t out_len, std::string_view window, int64_t window_offset,
                             char* out) {
  if (cp.in == 0 && cp.out == 0) return false;  // starts at the gzip header (a v1 blob): zlib does that
  auto state = std::make_unique<inflate_state>();  // ~40 KiB: not on the stack
  isal_inflate_init(state.get());
  state->crc_flag = ISAL_DEFLATE;
  if (isal_inflate_set_dict(state.get(), const_cast<uint8_t*>(cp.window.data()), static_cast<uint32_t>(cp.window.size())) !=
      COMP_OK) {
    return InternalError("isal_inflate_set_dict failed");
  }
  const int64_t at = cp.in - window_offset;
  if (cp.bits > 0) {
    state->read_in = static_cast<uint8_t>(window[static_cast<size_t>(at - 1)]) >> (8 - cp.bits);
    state->read_in_length = cp.bits;
  }
  state->next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(window.data() + at));
  state->avail_in = static_cast<uint32_t>(std::min<int64_t>(static_cast<int64_t>(window.size()) - at, UINT32_MAX));
  state->next_out = reinterpret_cast<uint8_t*>(out);
  int64_t left = out_len;
  while (left > 0) {
    const uint32_t chunk = static_cast<uint32_t>(std::min<int64_t>(left, 1u << 30));
    state->avail_out = chunk;
    const int ret = isal_inflate(state.get());
    const uint32_t produced = chunk - state->avail_out;
    left -= produced;
    if (ret < 0) return DataLossError("gzip span at offset " + std::to_string(cp.in) + ": " + IsalError(ret));
    if (left > 0 && (state->block_state == ISAL_BLOCK_FINISH || (produced == 0 && state->avail_in == 0))) return false;
    if (left > 0 && produced == 0) return false;
  }
  return true;
}

}  // namespace

struct GzipInflater::State {
  inflate_state isal;
  std::vector<uint8_t> out = std::vector<uint8_t>(1 << 20);
};

GzipInflater::GzipInflater(Sink sink) : state_(std::make_unique<State>()), sink_(std::move(sink)) {}
GzipInflater::GzipInflater(BufferSource source, OwnedSink sink)
    : state_(std::make_unique<State>()), source_(std::move(source)), owned_sink_(std::move(sink)) {}

// Hands on `produced` new bytes: a view of the internal buffer, or the owned buffer once full.
Status GzipInflater::Emit(size_t produced) {
  total_out_ += static_cast<int64_t>(produced);
  if (!owned_sink_) {
    return produced > 0 ? sink_(std::string_view(reinterpret_cast<char*>(state_->out.data()), produced)) : OkStatus();
  }
  current_used_ += produced;
  if (current_used_ < current_.size()) return OkStatus();
  current_used_ = 0;
  return owned_sink_(std::move(current_));
}
GzipInflater::~GzipInflater() = default;

Status GzipInflater::Feed(std::string_view compressed) {
  inflate_state& st = state_->isal;
  size_t at = 0;
  while (at < compressed.size()) {
    if (!in_member_) {
      // Zero padding after a member is allowed, as gzip allows it.
      if (any_member_ && compressed[at] == '\0') {
        ++at;
        ++total_in_;
        continue;
      }
      isal_inflate_init(&st);
      st.crc_flag = ISAL_GZIP;
      in_member_ = true;
      member_start_ = total_in_;
    }
    st.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(compressed.data() + at));
    st.avail_in = static_cast<uint32_t>(std::min<size_t>(compressed.size() - at, UINT32_MAX));
    for (;;) {
      if (owned_sink_ && current_used_ == 0) {
        current_ = source_();
        current_.resize(state_->out.size());
      }
      uint8_t* target = owned_sink_ ? reinterpret_cast<uint8_t*>(current_.data()) + current_used_ : state_->out.data();
      const size_t room = owned_sink_ ? current_.size() - current_used_ : state_->out.size();
      st.next_out = target;
      st.avail_out = static_cast<uint32_t>(room);
      const uint32_t avail_before = st.avail_in;
      const int ret = isal_inflate(&st);
      const size_t consumed = avail_before - st.avail_in;
      at += consumed;
      total_in_ += static_cast<int64_t>(consumed);
      if (ret < 0) {
        return DataLossError("gzip: " + IsalError(ret) + " in the member at offset " + std::to_string(member_start_));
      }
      const size_t produced = room - st.avail_out;
      GF_RETURN_IF_ERROR(Emit(produced));
      if (st.block_state == ISAL_BLOCK_FINISH) {
        in_member_ = false;
        any_member_ = true;
        break;
      }
      if (st.avail_in == 0 && produced < room) break;  // needs more input
    }
  }
  return OkStatus();
}

Status GzipInflater::Finish() {
  if (owned_sink_ && current_used_ > 0) {
    current_.resize(current_used_);
    current_used_ = 0;
    GF_RETURN_IF_ERROR(owned_sink_(std::move(current_)));
  }
  if (in_member_) {
    return DataLossError("gzip: truncated: the stream ends inside the member at offset " + std::to_string(member_start_) +
                         " (after " + std::to_string(total_in_) + " bytes)");
  }
  if (!any_member_) return InvalidArgumentError("gzip: empty stream");
  return OkStatus();
}

Status InflateGzip(std::string_view compressed, const std::function<Status(std::string_view)>& sink) {
  GzipInflater inflater(sink);
  GF_RETURN_IF_ERROR(inflater.Feed(compressed));
  return inflater.Finish();
}

Status InflateSpan(const GzipCheckpoint& cp, int64_t out_len, std::string_view window, int64_t window_offset, char* out) {
  if (cp.in < window_offset + (cp.bits > 0 ? 1 : 0) || cp.in > window_offset + static_cast<int64_t>(window.size())) {
    return InvalidArgumentError("the span at compressed offset " + std::to_string(cp.in) + " is not inside the bytes given");
  }
  GF_ASSIGN_OR_RETURN(bool done, InflateSpanIsal(cp, out_len, window, window_offset, out));
  if (done) return OkStatus();
  // Across a member boundary (or from the gzip header): zlib from the same checkpoint.
  GzipIndex one;
  one.compressed_size = window_offset + static_cast<int64_t>(window.size());
  one.uncompressed_size = cp.out + out_len;
  one.checkpoints.push_back(cp);
  GF_ASSIGN_OR_RETURN(std::string bytes, ExtractRange(one,
                                                      [&](int64_t o, int64_t l) -> Result<std::string> {
                                                        if (o < window_offset) return DataLossError("the span reads before its bytes");
                                                        const int64_t from = o - window_offset;
                                                        if (from >= static_cast<int64_t>(window.size())) return std::string();
                                                        return std::string(window.substr(static_cast<size_t>(from), static_cast<size_t>(l)));
                                                      },
                                                      cp.out, out_len));
  if (static_cast<int64_t>(bytes.size()) != out_len) return DataLossError("gzip span at offset " + std::to_string(cp.in) + ": short");
  std::copy(bytes.begin(), bytes.end(), out);
  return OkStatus();
}

Status InflateSpansParallel(const GzipIndex& index, std::string_view compressed, unsigned threads, char* out) {
  if (index.compressed_size != static_cast<int64_t>(compressed.size())) {
    return InvalidArgumentError("the index is of a " + std::to_string(index.compressed_size) + "-byte stream, not " +
                                std::to_string(compressed.size()) + " bytes");
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  auto worker = [&] {
    for (size_t span; (span = next.fetch_add(1)) < index.checkpoints.size();) {
      const GzipCheckpoint& cp = index.checkpoints[span];
      const int64_t end = span + 1 < index.checkpoints.size() ? index.checkpoints[span + 1].out : index.uncompressed_size;
      Status s = InflateSpan(cp, end - cp.out, compressed, 0, out + cp.out);
      if (!s.ok()) {
        std::lock_guard lock(mu);
        if (first_error.ok()) first_error = s;
        next = index.checkpoints.size();  // stop the others early
      }
    }
  };
  std::vector<std::jthread> pool;
  for (unsigned t = 1; t < std::max(1u, threads); ++t) pool.emplace_back(worker);
  worker();
  pool.clear();
  return first_error;
}

}  // namespace gpufleet::image
