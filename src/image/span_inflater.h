// SpanInflater: decompresses one indexed layer while its compressed bytes arrive in order: as
// soon as a span's bytes are all in, a worker decompresses it on its own, and outputs are handed
// on in order. Decompression then scales with cores inside a single layer, where one stream
// cannot. Spans are a gzip layer's zTOC checkpoints (GzipSpanPlan) or a seekable zstd layer's
// frames (ZstdSpanPlan).
//
// The index is untrusted: a wrong checkpoint gives wrong bytes or an error, never an access
// outside the buffers; the caller's diffID check is what proves the output.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"
#include "image/gzip_index.h"
#include "image/zstd_seekable.h"

namespace gpufleet::image {

// Where each span's input lies, how long its output is, and how to decode it. The functions may
// be called from any thread.
struct SpanPlan {
  size_t count = 0;
  int64_t compressed_size = 0;
  std::function<int64_t(size_t)> input_start, input_end, output_length;
  std::function<Status(size_t span, std::string_view input, int64_t input_offset, char* out, int64_t out_len)> decode;
};
// Refer to `index` / `table`, which must outlive the plan.
SpanPlan GzipSpanPlan(const GzipIndex& index);
SpanPlan ZstdSpanPlan(const ZstdSeekTable& table);

class SpanInflater {
 public:
  using Sink = std::function<Status(std::string)>;
  // Where span outputs are allocated (the caller's recycled buffers); unset: new strings.
  using BufferSource = std::function<std::string()>;
  // `plan` must describe the stream about to be fed. At most `max_in_flight` spans are decoded or
  // waiting to be handed on at once.
  SpanInflater(SpanPlan plan, unsigned threads, Sink sink, BufferSource buffers = {}, size_t max_in_flight = 0);
  ~SpanInflater();
  SpanInflater(const SpanInflater&) = delete;
  SpanInflater& operator=(const SpanInflater&) = delete;

  // The next compressed bytes, in order. The sink is called from this thread. Spans that lie
  // inside one chunk are decoded from it in place (the chunk is kept alive until they are done);
  // only spans across chunks are copied.
  Status Feed(std::shared_ptr<const std::string> chunk);
  Status Feed(std::string_view compressed) { return Feed(std::make_shared<const std::string>(compressed)); }
  // Every span inflated and handed on. Errors: the stream's length differs from the index's, a
  // span's error.
  Status Finish();

 private:
  struct Job {
    size_t span;
    std::shared_ptr<const std::string> holder;  // the chunk `input` points into, or null
    std::string own_input;  // the copied input of a span across chunks
    std::string_view input;  // compressed bytes from the span's first needed byte
    int64_t input_offset;   // where `input` starts in the stream
    std::string output;
    Status status;
    bool done = false;
  };
  void Submit(size_t span);
  Status DeliverReady(bool wait_for_one);
  void Work();

  const SpanPlan plan_;
  Sink sink_;
  BufferSource buffers_;
  size_t max_in_flight_;
  // Chunks still needed by spans not yet submitted, with their stream offsets.
  std::deque<std::pair<int64_t, std::shared_ptr<const std::string>>> chunks_;
  int64_t fed_ = 0;
  size_t next_submit_ = 0;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  std::deque<Job> in_flight_;    // in span order; front is the next to hand on
  std::deque<Job*> queue_;       // submitted, not yet taken by a worker
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace gpufleet::image
