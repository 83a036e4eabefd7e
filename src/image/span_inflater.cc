#include "image/span_inflater.h"

#include <algorithm>

#include "image/inflate.h"

namespace gpufleet::image {
namespace {

// Bytes past a span's end given to its decoder: ISA-L reads ahead up to 8 bytes; a member
// trailer and the next member's header (the zlib fallback crosses them) are a few dozen.
constexpr int64_t kLookAhead = 64 * 1024;

}  // namespace

SpanInflater::SpanInflater(const GzipIndex& index, unsigned threads, Sink sink, BufferSource buffers, size_t max_in_flight)
    : index_(index), sink_(std::move(sink)), buffers_(std::move(buffers)), max_in_flight_(max_in_flight ? max_in_flight : 2 * std::max(1u, threads) + 2) {
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

int64_t SpanInflater::InputStart(size_t span) const {
  const GzipCheckpoint& cp = index_.checkpoints[span];
  return cp.in - (cp.bits > 0 ? 1 : 0);
}

int64_t SpanInflater::InputEnd(size_t span) const {
  if (span + 1 >= index_.checkpoints.size()) return index_.compressed_size;
  return std::min(index_.compressed_size, index_.checkpoints[span + 1].in + kLookAhead);
}

int64_t SpanInflater::OutputLength(size_t span) const {
  const int64_t end = span + 1 < index_.checkpoints.size() ? index_.checkpoints[span + 1].out : index_.uncompressed_size;
  return end - index_.checkpoints[span].out;
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
    const int64_t length = OutputLength(job->span);
    Status s = length < 0 || length > (int64_t{1} << 32)
                   ? DataLossError("checkpoint " + std::to_string(job->span) + " of the index has an impossible span length")
                   : OkStatus();
    if (s.ok()) {
      job->output.resize(static_cast<size_t>(length));
      s = InflateSpan(index_.checkpoints[job->span], length, job->input, job->input_offset, job->output.data());
    }
    {
      std::lock_guard lock(mu_);
      job->input.clear();
      free_inputs_.push_back(std::move(job->input));
      job->status = std::move(s);
      job->done = true;
    }
    done_cv_.notify_all();
  }
}

void SpanInflater::Submit(size_t span) {
  const int64_t start = InputStart(span), end = InputEnd(span);
  std::string output = buffers_ ? buffers_() : std::string();
  std::lock_guard lock(mu_);
  std::string input;
  if (!free_inputs_.empty()) {
    input = std::move(free_inputs_.back());
    free_inputs_.pop_back();
  }
  input.assign(window_, static_cast<size_t>(start - window_offset_), static_cast<size_t>(end - start));
  in_flight_.push_back(Job{span, std::move(input), start, std::move(output)});
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

Status SpanInflater::Feed(std::string_view compressed) {
  if (fed_ + static_cast<int64_t>(compressed.size()) > index_.compressed_size) {
    return DataLossError("the layer is longer than its index says (" + std::to_string(index_.compressed_size) + " bytes)");
  }
  window_.append(compressed);
  fed_ += static_cast<int64_t>(compressed.size());
  while (next_submit_ < index_.checkpoints.size() && InputEnd(next_submit_) <= fed_) {
    bool full;
    {
      std::lock_guard lock(mu_);
      full = in_flight_.size() >= max_in_flight_;
    }
    if (full) {
      GF_RETURN_IF_ERROR(DeliverReady(true));
      continue;
    }
    if (InputStart(next_submit_) < window_offset_ || InputStart(next_submit_) > InputEnd(next_submit_)) {
      return DataLossError("checkpoint " + std::to_string(next_submit_) + " of the index goes backwards");
    }
    Submit(next_submit_++);
  }
  // Keep only what later spans still need.
  const int64_t keep_from = next_submit_ < index_.checkpoints.size() ? InputStart(next_submit_) : fed_;
  if (keep_from > window_offset_) {
    window_.erase(0, static_cast<size_t>(std::min<int64_t>(keep_from - window_offset_, static_cast<int64_t>(window_.size()))));
    window_offset_ = std::min(keep_from, fed_);
  }
  return DeliverReady(false);
}

Status SpanInflater::Finish() {
  if (fed_ != index_.compressed_size) {
    return DataLossError("the layer ended after " + std::to_string(fed_) + " bytes; its index says " + std::to_string(index_.compressed_size));
  }
  GF_RETURN_IF_ERROR(Feed(std::string_view()));
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (in_flight_.empty()) break;
    }
    GF_RETURN_IF_ERROR(DeliverReady(true));
  }
  if (next_submit_ != index_.checkpoints.size()) return InternalError("spans left unsubmitted");
  return OkStatus();
}

}  // namespace gpufleet::image
