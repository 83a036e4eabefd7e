#include "image/span_inflater.h"

#include <algorithm>

#include "image/inflate.h"

namespace gpufleet::image {
namespace {

// Bytes past a span's end given to its decoder: ISA-L reads ahead up to 8 bytes; a member
// trailer and the next member's header (the zlib fallback crosses them) are a few dozen.
constexpr int64_t kLookAhead = 64 * 1024;

}  // namespace

SpanPlan GzipSpanPlan(const GzipIndex& index) {
  SpanPlan p;
  p.count = index.checkpoints.size();
  p.compressed_size = index.compressed_size;
  p.input_start = [&index](size_t span) {
    const GzipCheckpoint& cp = index.checkpoints[span];
    return cp.in - (cp.bits > 0 ? 1 : 0);
  };
  p.input_end = [&index](size_t span) {
    if (span + 1 >= index.checkpoints.size()) return index.compressed_size;
    return std::min(index.compressed_size, index.checkpoints[span + 1].in + kLookAhead);
  };
  p.output_length = [&index](size_t span) {
    const int64_t end = span + 1 < index.checkpoints.size() ? index.checkpoints[span + 1].out : index.uncompressed_size;
    return end - index.checkpoints[span].out;
  };
  p.decode = [&index](size_t span, std::string_view input, int64_t input_offset, char* out, int64_t out_len) {
    return InflateSpan(index.checkpoints[span], out_len, input, input_offset, out);
  };
  return p;
}

SpanPlan ZstdSpanPlan(const ZstdSeekTable& table) {
  SpanPlan p;
  p.count = table.frames.size();
  p.compressed_size = table.compressed_size;
  p.input_start = [&table](size_t span) { return table.frames[span].compressed_offset; };
  p.input_end = [&table](size_t span) { return table.frames[span].compressed_offset + table.frames[span].compressed_size; };
  p.output_length = [&table](size_t span) { return table.frames[span].uncompressed_size; };
  p.decode = [](size_t, std::string_view input, int64_t, char* out, int64_t out_len) { return DecompressZstdFrame(input, out, out_len); };
  return p;
}

SpanInflater::SpanInflater(SpanPlan plan, unsigned threads, Sink sink, BufferSource buffers, size_t max_in_flight)
    : plan_(std::move(plan)), sink_(std::move(sink)), buffers_(std::move(buffers)),
      max_in_flight_(max_in_flight ? max_in_flight : 2 * std::max(1u, threads) + 2) {
  for (unsigned i = 0; i < std::max(1u, threads); ++i) workers_.emplace_back([this] { Work(); });
}

SpanInflater::~SpanInflater() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void SpanInflater::Work() {
  for (;;) {
    Job* job;
    {
      std::unique_lock lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      job = queue_.front();
      queue_.pop_front();
    }
    const int64_t length = plan_.output_length(job->span);
    Status s = length < 0 || length > (int64_t{1} << 32)
                   ? DataLossError("span " + std::to_string(job->span) + " of the index has an impossible length")
                   : OkStatus();
    if (s.ok()) {
      job->output.resize(static_cast<size_t>(length));  // a recycled buffer: no zero-filling once warm
      s = plan_.decode(job->span, job->input, job->input_offset, job->output.data(), length);
    }
    {
      std::lock_guard lock(mu_);
      job->holder.reset();
      job->own_input = std::string();
      job->input = {};
      job->status = std::move(s);
      job->done = true;
    }
    done_cv_.notify_all();
  }
}

void SpanInflater::Submit(size_t span) {
  const int64_t start = plan_.input_start(span), end = plan_.input_end(span);
  Job job{span, nullptr, {}, {}, start, buffers_ ? buffers_() : std::string(), OkStatus(), false};
  // The chunk holding `start`; the span is read in place when it also holds `end`.
  size_t i = 0;
  while (i + 1 < chunks_.size() && chunks_[i + 1].first <= start) ++i;
  const auto& [offset, chunk] = chunks_[i];
  if (end <= offset + static_cast<int64_t>(chunk->size())) {
    job.holder = chunk;
    job.input = std::string_view(*chunk).substr(static_cast<size_t>(start - offset), static_cast<size_t>(end - start));
  } else {
    job.own_input.reserve(static_cast<size_t>(end - start));
    for (size_t j = i; j < chunks_.size() && chunks_[j].first < end; ++j) {
      const int64_t from = std::max(start, chunks_[j].first);
      const int64_t to = std::min(end, chunks_[j].first + static_cast<int64_t>(chunks_[j].second->size()));
      job.own_input.append(*chunks_[j].second, static_cast<size_t>(from - chunks_[j].first), static_cast<size_t>(to - from));
    }
    job.input = job.own_input;
  }
  std::lock_guard lock(mu_);
  in_flight_.push_back(std::move(job));
  queue_.push_back(&in_flight_.back());
  work_cv_.notify_one();
}

Status SpanInflater::DeliverReady(bool wait_for_one) {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      if (in_flight_.empty()) return OkStatus();
      if (wait_for_one) done_cv_.wait(lock, [&] { return in_flight_.front().done; });
      if (!in_flight_.front().done) return OkStatus();
      job = std::move(in_flight_.front());
      in_flight_.pop_front();
    }
    wait_for_one = false;
    if (!job.status.ok()) return job.status;
    GF_RETURN_IF_ERROR(sink_(std::move(job.output)));
  }
}

Status SpanInflater::Feed(std::shared_ptr<const std::string> chunk) {
  const int64_t n = chunk ? static_cast<int64_t>(chunk->size()) : 0;
  if (fed_ + n > plan_.compressed_size) {
    return DataLossError("the layer is longer than its index says (" + std::to_string(plan_.compressed_size) + " bytes)");
  }
  if (n > 0) chunks_.emplace_back(fed_, std::move(chunk));
  fed_ += n;
  while (next_submit_ < plan_.count && plan_.input_end(next_submit_) <= fed_) {
    bool full;
    {
      std::lock_guard lock(mu_);
      full = in_flight_.size() >= max_in_flight_;
    }
    if (full) {
      GF_RETURN_IF_ERROR(DeliverReady(true));
      continue;
    }
    const int64_t start = plan_.input_start(next_submit_);
    const int64_t kept_from = chunks_.empty() ? fed_ : chunks_.front().first;
    if (start < kept_from || start > plan_.input_end(next_submit_)) {
      return DataLossError("span " + std::to_string(next_submit_) + " of the index goes backwards");
    }
    Submit(next_submit_++);
  }
  // Keep only the chunks later spans still need.
  const int64_t keep_from = next_submit_ < plan_.count ? plan_.input_start(next_submit_) : fed_;
  while (!chunks_.empty() && chunks_.front().first + static_cast<int64_t>(chunks_.front().second->size()) <= keep_from) {
    chunks_.pop_front();
  }
  return DeliverReady(false);
}

Status SpanInflater::Finish() {
  if (fed_ != plan_.compressed_size) {
    return DataLossError("the layer ended after " + std::to_string(fed_) + " bytes; its index says " + std::to_string(plan_.compressed_size));
  }
  GF_RETURN_IF_ERROR(Feed(std::shared_ptr<const std::string>()));
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (in_flight_.empty()) break;
    }
    GF_RETURN_IF_ERROR(DeliverReady(true));
  }
  if (next_submit_ != plan_.count) return InternalError("spans left unsubmitted");
  return OkStatus();
}

}  // namespace gpufleet::image
