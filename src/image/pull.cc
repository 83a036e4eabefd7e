#include "image/pull.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "image/decompress.h"
#include "image/digest.h"
#include "image/soci_remote.h"
#include "image/span_inflater.h"
#include "image/tar_reader.h"
#include "image/ztoc.h"

namespace gpufleet::image {
namespace {

namespace fs = std::filesystem;

// The first error of any thread, and the flag every wait checks.
class Failure {
 public:
  void Set(const Status& s) {
    std::lock_guard lock(mu_);
    if (first_.ok()) first_ = s;
    failed_ = true;
  }
  bool failed() const { return failed_; }
  Status first() {
    std::lock_guard lock(mu_);
    return first_;
  }

 private:
  std::mutex mu_;
  Status first_;
  std::atomic<bool> failed_{false};
};

Status Stopped() { return CancelledError("the pull stopped"); }

constexpr int64_t kBombFloor = int64_t{256} << 20;

// Compressed bytes fetched ahead of the unpacking, across layers: taken before a chunk request,
// given back when the chunk has been inflated. Chunks are requested in pull order, so the chunk
// the unpacking needs next never waits behind a later one.
class Budget {
 public:
  explicit Budget(int64_t bytes) : left_(bytes), total_(bytes) {}
  bool Take(int64_t n, const Failure& failure) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return left_ >= std::min(n, total_) || failure.failed() || stop_; });
    if (failure.failed() || stop_) return false;
    left_ -= n;
    return true;
  }
  void Give(int64_t n) {
    std::lock_guard lock(mu_);
    left_ += n;
    cv_.notify_all();
  }
  void Stop() {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t left_, total_;
  bool stop_ = false;
};

// Buffers handed back after use, so their pages stay mapped: allocating fresh 16 MiB chunks and
// 1 MiB pieces made page faults a fifth of a pull's CPU time.
class BufferPool {
 public:
  explicit BufferPool(size_t max_bytes) : max_bytes_(max_bytes) {}
  std::string Get() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return std::string();
    std::string b = std::move(free_.back());
    free_.pop_back();
    bytes_ -= b.capacity();
    return b;
  }
  // Kept as they are (size included): a caller sets the contents, and a buffer resized to a
  // length it already had is not zero-filled again.
  void Put(std::string b) {
    std::lock_guard lock(mu_);
    if (bytes_ + b.capacity() > max_bytes_) return;
    bytes_ += b.capacity();
    free_.push_back(std::move(b));
  }

 private:
  const size_t max_bytes_;
  std::mutex mu_;
  std::vector<std::string> free_;
  size_t bytes_ = 0;
};

// Hashes the compressed chunks, in order, on its own thread: for a single-stream layer the
// inflating thread is the critical path, and sha256 was a fifth of its work.
class ChunkHasher {
 public:
  ChunkHasher() : thread_([this] { Run(); }) {}
  ~ChunkHasher() {
    Stop();
    thread_.join();
  }
  void Add(std::shared_ptr<const std::string> chunk) {
    std::lock_guard lock(mu_);
    queue_.push_back(std::move(chunk));
    cv_.notify_all();
  }
  // The digest of the chunks added since the last call, once hashed; nullopt when stopped.
  std::optional<std::string> Finish() {
    std::unique_lock lock(mu_);
    queue_.push_back(nullptr);  // the end of the layer
    cv_.notify_all();
    cv_.wait(lock, [&] { return !results_.empty() || stop_; });
    if (results_.empty()) return std::nullopt;
    std::string digest = std::move(results_.front());
    results_.pop_front();
    return digest;
  }
  void Stop() {
    std::lock_guard lock(mu_);
    stop_ = true;
    cv_.notify_all();
  }

 private:
  void Run() {
    auto sha = std::make_unique<Sha256>();
    for (;;) {
      std::shared_ptr<const std::string> chunk;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !queue_.empty() || stop_; });
        if (stop_) return;
        chunk = std::move(queue_.front());
        queue_.pop_front();
      }
      if (chunk) {
        sha->Update(*chunk);
        continue;
      }
      std::string digest = sha->Finish();
      sha = std::make_unique<Sha256>();
      std::lock_guard lock(mu_);
      results_.push_back(std::move(digest));
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::deque<std::string> results_;
  bool stop_ = false;
  std::thread thread_;
};

struct Layer {
  int index = 0;
  Descriptor desc;
  LayerCompression compression = LayerCompression::kGzip;
  std::string diff_id;
  std::optional<Ztoc> ztoc;  // from the image's SOCI index: decompress its spans in parallel
  // Received compressed bytes by offset. A piece counts against the budget unless it came from
  // a whole-blob stream (a registry that ignores Range), which is bounded per layer instead.
  struct Piece {
    std::string bytes;
    bool budgeted = true;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::map<int64_t, Piece> ready;
  int unbudgeted_pieces = 0;
  std::atomic<bool> whole_stream{false};  // ranges ignored: the rest comes as one stream
  bool stream_started = false;            // guarded by mu
};

struct FetchTask {
  Layer* layer;
  int64_t offset, length;
};

// Uncompressed tar pieces from the inflating thread to the extracting thread. An empty piece
// marks the end of a layer.
class PieceQueue {
 public:
  bool Push(std::string piece, const Failure& failure) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return bytes_ < kMaxBytes || failure.failed(); });
    if (failure.failed()) return false;
    bytes_ += piece.size();
    queue_.push_back(std::move(piece));
    not_empty_.notify_one();
    return true;
  }
  std::optional<std::string> Pop(const Failure& failure) {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return !queue_.empty() || failure.failed(); });
    if (failure.failed()) return std::nullopt;
    std::string piece = std::move(queue_.front());
    queue_.pop_front();
    bytes_ -= piece.size();
    not_full_.notify_one();
    return piece;
  }
  void Wake() {
    std::lock_guard lock(mu_);
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  static constexpr size_t kMaxBytes = 64 << 20;  // inflated data waiting for the extractor
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<std::string> queue_;
  size_t bytes_ = 0;
};

class Puller {
 public:
  Puller(RegistryClient& client, std::string repository, const PullOptions& options, std::vector<Layer>& layers)
      : client_(client), repository_(std::move(repository)), options_(options), layers_(layers), budget_(options.prefetch_bytes) {}

  Status Run(const std::string& staging, PullResult& result);

 private:
  void FetchLoop();
  Status Fetch(const FetchTask& task);
  Status StreamRest(Layer& layer, int64_t offset);
  void Deposit(Layer& layer, int64_t offset, std::string bytes, bool budgeted);
  Status InflateLoop();
  Status ExtractLoop(const std::string& staging);
  void Report(bool force);
  void Fail(const Status& s) {
    failure_.Set(s);
    budget_.Stop();
    pieces_.Wake();
    hasher_.Stop();
    for (Layer& l : layers_) {
      std::lock_guard lock(l.mu);
      l.cv.notify_all();
    }
  }

  RegistryClient& client_;
  std::string repository_;
  const PullOptions& options_;
  std::vector<Layer>& layers_;
  Budget budget_;
  Failure failure_;
  PieceQueue pieces_;
  BufferPool chunk_buffers_{size_t{256} << 20}, piece_buffers_{size_t{96} << 20};
  ChunkHasher hasher_;
  std::vector<FetchTask> tasks_;
  std::atomic<size_t> next_task_{0};
  std::atomic<int64_t> fetched_{0}, unpacked_{0};
  std::atomic<int> layers_done_{0};
  std::atomic<bool> range_ignored_{false};
  std::mutex report_mu_;
  std::chrono::steady_clock::time_point last_report_{};
};

void Puller::Deposit(Layer& layer, int64_t offset, std::string bytes, bool budgeted) {
  fetched_ += static_cast<int64_t>(bytes.size());
  std::lock_guard lock(layer.mu);
  if (!budgeted) ++layer.unbudgeted_pieces;
  layer.ready.emplace(offset, Layer::Piece{std::move(bytes), budgeted});
  layer.cv.notify_all();
}

// The rest of a layer from `offset` as one whole-blob stream, cut into chunk-size pieces; at most
// four pieces wait per layer (the global budget would deadlock here: it may be held by later
// layers' chunks that are only consumed after this layer).
Status Puller::StreamRest(Layer& layer, int64_t offset) {
  std::string piece;
  int64_t at = offset;
  auto flush = [&]() -> Status {
    {
      std::unique_lock lock(layer.mu);
      layer.cv.wait(lock, [&] { return layer.unbudgeted_pieces < 4 || failure_.failed(); });
    }
    if (failure_.failed()) return Stopped();
    const int64_t n = static_cast<int64_t>(piece.size());
    Deposit(layer, at, std::move(piece), false);
    piece.clear();
    at += n;
    return OkStatus();
  };
  GF_RETURN_IF_ERROR(client_.ReadBlob(repository_, layer.desc.digest, offset, layer.desc.size - offset, [&](std::string_view data) {
    if (failure_.failed()) return Stopped();
    piece.append(data);
    if (static_cast<int64_t>(piece.size()) >= options_.chunk_size) return flush();
    return OkStatus();
  }));
  if (!piece.empty()) GF_RETURN_IF_ERROR(flush());
  return OkStatus();
}

Status Puller::Fetch(const FetchTask& task) {
  Layer& layer = *task.layer;
  if (layer.whole_stream) {
    {
      std::lock_guard lock(layer.mu);
      if (layer.stream_started) return OkStatus();  // an earlier task streams the rest
      layer.stream_started = true;
    }
    return StreamRest(layer, task.offset);
  }
  if (!budget_.Take(task.length, failure_)) return Stopped();
  std::string bytes = chunk_buffers_.Get();
  bytes.clear();
  bytes.reserve(static_cast<size_t>(task.length));
  BlobReadInfo info;
  Status s = client_.ReadBlob(repository_, layer.desc.digest, task.offset, task.length, [&](std::string_view data) {
    if (failure_.failed()) return Stopped();
    bytes.append(data);
    return OkStatus();
  }, &info);
  if (!s.ok()) {
    budget_.Give(task.length);
    return s;
  }
  if (info.range_ignored && !layer.whole_stream.exchange(true)) range_ignored_ = true;
  Deposit(layer, task.offset, std::move(bytes), true);
  return OkStatus();
}

void Puller::FetchLoop() {
  for (size_t i; !failure_.failed() && (i = next_task_.fetch_add(1)) < tasks_.size();) {
    Status s = Fetch(tasks_[i]);
    if (!s.ok() && !failure_.failed()) Fail(s.WithContext("layer " + std::to_string(tasks_[i].layer->index) + " (" + tasks_[i].layer->desc.digest + ")"));
  }
}

void Puller::Report(bool force) {
  if (!options_.on_progress) return;
  std::lock_guard lock(report_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_report_ < std::chrono::milliseconds(200)) return;
  last_report_ = now;
  PullProgress p;
  p.layers_total = static_cast<int>(layers_.size());
  p.layers_done = layers_done_;
  for (const Layer& l : layers_) p.bytes_total += l.desc.size;
  p.bytes_fetched = fetched_;
  p.bytes_unpacked = unpacked_;
  p.done = force && p.layers_done == p.layers_total;
  options_.on_progress(p);
}

Status Puller::InflateLoop() {
  for (Layer& layer : layers_) {
    const std::string what = "layer " + std::to_string(layer.index) + " (" + layer.desc.digest + ")";
    int64_t pos = 0, inflated = 0, fed_end = 0;
    auto hand_on = [&](std::string piece) -> Status {
      if (piece.empty()) return OkStatus();  // an empty piece marks a layer's end
      inflated += static_cast<int64_t>(piece.size());
      if (options_.max_ratio > 0 && inflated > kBombFloor && inflated / std::max<int64_t>(fed_end, 1) > options_.max_ratio) {
        return ResourceExhaustedError(what + " looks like a decompression bomb: " + std::to_string(inflated >> 20) + " MiB from " +
                                      std::to_string(fed_end >> 10) + " KiB compressed, a ratio over " +
                                      std::to_string(options_.max_ratio) + ":1 (--max-ratio 0 allows it)");
      }
      if (!pieces_.Push(std::move(piece), failure_)) return Stopped();
      return OkStatus();
    };
    // With a checkpoint index (the layer's zTOC), spans inflate on every core; else one stream.
    std::unique_ptr<LayerDecompressor> stream;
    std::unique_ptr<SpanInflater> spans;
    if (layer.ztoc) {
      const unsigned threads = options_.inflate_threads ? options_.inflate_threads : std::max(1u, std::thread::hardware_concurrency());
      SpanPlan plan = layer.ztoc->compression == ZtocCompression::kZstd ? ZstdSpanPlan(layer.ztoc->zstd) : GzipSpanPlan(layer.ztoc->index);
      spans = std::make_unique<SpanInflater>(std::move(plan), threads, hand_on, [this] { return piece_buffers_.Get(); });
    } else {
      stream = NewLayerDecompressor(layer.compression, [this] { return piece_buffers_.Get(); }, hand_on);
    }
    LayerDecompressor* decompressor = stream.get();
    while (pos < layer.desc.size) {
      Layer::Piece piece;
      {
        std::unique_lock lock(layer.mu);
        layer.cv.wait(lock, [&] { return layer.ready.count(pos) > 0 || failure_.failed(); });
        if (failure_.failed()) return Stopped();
        auto it = layer.ready.find(pos);
        piece = std::move(it->second);
        layer.ready.erase(it);
        if (!piece.budgeted) {
          --layer.unbudgeted_pieces;
          layer.cv.notify_all();
        }
      }
      if (piece.bytes.empty()) return DataLossError(what + ": the registry sent no bytes at offset " + std::to_string(pos));
      const int64_t n = static_cast<int64_t>(piece.bytes.size());
      fed_end = pos + n;
      // Shared by the hasher and the decompressor; back to the pool (and the budget) when both are done.
      const bool budgeted = piece.budgeted;
      std::shared_ptr<const std::string> chunk(new std::string(std::move(piece.bytes)), [this, budgeted](const std::string* b) {
        if (budgeted) budget_.Give(static_cast<int64_t>(b->size()));
        chunk_buffers_.Put(std::move(*const_cast<std::string*>(b)));
        delete b;
      });
      hasher_.Add(chunk);
      Status s = spans ? spans->Feed(std::move(chunk)) : decompressor->Feed(*chunk);
      if (!s.ok()) return s.WithContext(what);
      pos += n;
      Report(false);
    }
    // The digest first: a blob that is not the manifest's is the finding, whatever its inflating said.
    Status finished = spans ? spans->Finish() : decompressor->Finish();
    std::optional<std::string> got = hasher_.Finish();
    if (!got) return Stopped();
    if (*got != layer.desc.digest) {
      return DataLossError(what + ": the blob's digest is " + *got + "; the manifest says " + layer.desc.digest);
    }
    GF_RETURN_IF_ERROR(finished.WithContext(what));
    if (!pieces_.Push(std::string(), failure_)) return Stopped();
  }
  return OkStatus();
}

Status Puller::ExtractLoop(const std::string& staging) {
  for (Layer& layer : layers_) {
    const std::string what = "layer " + std::to_string(layer.index) + " (" + layer.desc.digest + ")";
    std::string dest = staging;
    ExtractOptions extract = options_.extract;
    if (options_.layout == PullLayout::kOverlay) {
      dest = staging + "/layers/" + std::to_string(layer.index);
      std::error_code ec;
      fs::create_directories(dest, ec);
      if (ec) return InternalError("create " + dest + ": " + ec.message());
      extract.whiteouts = WhiteoutMode::kOverlay;
    } else {
      extract.whiteouts = WhiteoutMode::kApply;
    }
    GF_ASSIGN_OR_RETURN(auto extractor, LayerExtractor::Open(dest, extract));
    TarReader tar(TarReader::Callbacks{
        [&](const TarEntry& e) { return extractor->OnEntry(e); },
        [&](const TarEntry& e, std::string_view data) { return extractor->OnData(e, data); }});
    Sha256 diff;
    for (;;) {
      std::optional<std::string> piece = pieces_.Pop(failure_);
      if (!piece) return Stopped();
      if (piece->empty()) break;
      diff.Update(*piece);
      unpacked_ += static_cast<int64_t>(piece->size());
      if (!tar.ended()) GF_RETURN_IF_ERROR(tar.Feed(*piece).WithContext(what));
      piece_buffers_.Put(std::move(*piece));
    }
    GF_RETURN_IF_ERROR(tar.Finish().WithContext(what));
    GF_RETURN_IF_ERROR(extractor->Finish().WithContext(what));
    if (std::string got = diff.Finish(); got != layer.diff_id) {
      return DataLossError(what + ": the uncompressed layer's digest is " + got + "; the image config's diffID is " + layer.diff_id);
    }
    ++layers_done_;
    Report(false);
  }
  return OkStatus();
}

Status Puller::Run(const std::string& staging, PullResult& result) {
  for (Layer& layer : layers_) {
    for (int64_t at = 0; at < layer.desc.size; at += options_.chunk_size) {
      tasks_.push_back(FetchTask{&layer, at, std::min(options_.chunk_size, layer.desc.size - at)});
    }
  }
  const int threads = static_cast<int>(std::min<size_t>(std::max(1, options_.connections), std::max<size_t>(1, tasks_.size())));
  std::vector<std::thread> fetchers;
  for (int i = 0; i < threads; ++i) fetchers.emplace_back([this] { FetchLoop(); });
  std::thread extract_thread([&] {
    Status s = ExtractLoop(staging);
    if (!s.ok() && !failure_.failed()) Fail(s);
  });
  Status s = InflateLoop();
  if (!s.ok() && !failure_.failed()) Fail(s);
  extract_thread.join();
  if (failure_.failed()) {
    Fail(Stopped());  // wakes fetchers waiting on budget or a per-layer bound
  }
  for (auto& t : fetchers) t.join();
  if (failure_.failed()) return failure_.first();
  Report(true);
  result.range_ignored = range_ignored_;
  result.bytes_uncompressed = unpacked_;
  for (const Layer& l : layers_) result.bytes_compressed += l.desc.size;
  return OkStatus();
}

// DEST must be absent or an empty directory; the staging directory is its hidden sibling.
Result<std::string> PrepareStaging(const std::string& dest) {
  if (dest.empty()) return InvalidArgumentError("--dest: empty");
  std::error_code ec;
  const fs::path target = fs::absolute(dest, ec);
  if (fs::exists(fs::symlink_status(target, ec))) {
    if (!fs::is_directory(fs::symlink_status(target, ec)) || !fs::is_empty(target, ec)) {
      return AlreadyExistsError("destination " + dest + " exists and is not an empty directory");
    }
  }
  const fs::path parent = target.parent_path();
  fs::create_directories(parent, ec);  // "--dest a/new/dir" works as mkdir -p would
  if (!fs::is_directory(parent, ec)) return FailedPreconditionError("cannot create the parent directory of " + dest);
  const fs::path staging = parent / ("." + target.filename().string() + ".pulling-" + std::to_string(getpid()));
  fs::remove_all(staging, ec);
  if (!fs::create_directory(staging, ec) || ec) return InternalError("create " + staging.string() + ": " + (ec ? ec.message() : "exists"));
  chmod(staging.c_str(), 0755);
  return staging.string();
}

// The zTOC checkpoints of each layer the image's SOCI index covers. An index that cannot be read
// or does not fit its layer is skipped with a note: the pull is verified by digests either way.
std::string LoadCheckpoints(RegistryClient& client, const std::string& repository, const ResolvedImage& image, std::vector<Layer>& layers) {
  auto found = soci::FindIndex(client, repository, image);
  if (!found.ok()) return "SOCI index not used: " + std::string(found.status().message());
  if (!found->has_value()) return "";
  std::map<std::string, const Descriptor*> ztoc_of;
  for (const Descriptor& z : (*found)->manifest.layers) ztoc_of[z.annotations.at(std::string(soci::kLayerDigestAnnotation))] = &z;
  for (Layer& layer : layers) {
    auto it = ztoc_of.find(layer.desc.digest);
    if (it == ztoc_of.end() || layer.compression == LayerCompression::kNone) continue;
    auto bytes = client.GetBlob(repository, it->second->digest, 256 << 20);
    auto ztoc = bytes.ok() ? ParseZtoc(*bytes) : Result<Ztoc>(bytes.status());
    const std::string which = "zTOC of layer " + std::to_string(layer.index) + " not used: ";
    if (!ztoc.ok()) return which + std::string(ztoc.status().message());
    if (ztoc->compressed_archive_size != layer.desc.size) {
      return which + "it describes a blob of " + std::to_string(ztoc->compressed_archive_size) + " bytes";
    }
    const bool zstd = ztoc->compression == ZtocCompression::kZstd;
    if (zstd != (layer.compression == LayerCompression::kZstd)) return which + "its compression is not the layer's";
    // A span far longer than the span size would be a memory bomb, not an index.
    bool sane = true;
    if (zstd) {
      for (const ZstdFrame& f : ztoc->zstd.frames) sane = sane && f.uncompressed_size <= (int64_t{256} << 20);
    } else {
      const GzipIndex& index = ztoc->index;
      sane = !index.checkpoints.empty() && index.checkpoints[0].out == 0;
      for (size_t i = 0; sane && i < index.checkpoints.size(); ++i) {
        const int64_t end = i + 1 < index.checkpoints.size() ? index.checkpoints[i + 1].out : index.uncompressed_size;
        sane = end - index.checkpoints[i].out <= index.span_size + (int64_t{64} << 20);
      }
    }
    if (!sane) return which + "spans larger than its span size";
    layer.ztoc = std::move(*ztoc);
  }
  return "";
}

}  // namespace

Result<PullResult> PullImage(RegistryClient& client, const ImageReference& ref, const PullOptions& options) {
  if (options.chunk_size < 64 * 1024) return InvalidArgumentError("chunk size below 64 KiB");
  GF_ASSIGN_OR_RETURN(ResolvedImage image, ResolveImage(client, ref, options.platform));
  GF_ASSIGN_OR_RETURN(std::string config_bytes, client.GetBlob(ref.repository, image.manifest.config.digest, 8 << 20));
  GF_ASSIGN_OR_RETURN(ImageConfig config, ParseImageConfig(config_bytes));
  if (config.diff_ids.size() != image.manifest.layers.size()) {
    return InvalidArgumentError(ref.String() + ": the manifest has " + std::to_string(image.manifest.layers.size()) +
                                " layers but the config lists " + std::to_string(config.diff_ids.size()) + " diffIDs");
  }
  std::vector<Layer> layers(image.manifest.layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i].index = static_cast<int>(i);
    layers[i].desc = image.manifest.layers[i];
    layers[i].diff_id = config.diff_ids[i];
    auto compression = LayerCompressionOf(layers[i].desc.media_type);
    if (!compression.ok()) return compression.status().WithContext("layer " + std::to_string(i));
    layers[i].compression = *compression;
  }
  PullResult result;
  // Span-parallel inflate pays off only with cores to spare: on two, the single stream plus the
  // hashing and extracting threads already use both (docs/PERFORMANCE.md "pull").
  const bool parallel = options.inflate_threads > 0 || std::thread::hardware_concurrency() >= 4;
  if (options.use_index && parallel) result.index_note = LoadCheckpoints(client, ref.repository, image, layers);
  for (const Layer& l : layers) result.layers_indexed += l.ztoc ? 1 : 0;
  GF_ASSIGN_OR_RETURN(std::string staging, PrepareStaging(options.dest));
  result.manifest_digest = image.digest;
  result.layers = static_cast<int>(layers.size());
  Puller puller(client, ref.repository, options, layers);
  Status s = puller.Run(staging, result);
  std::error_code ec;
  if (s.ok() && options.layout == PullLayout::kOverlay) {
    // overlayfs lists lower directories top first.
    std::string lower;
    for (size_t i = layers.size(); i-- > 0;) lower += (lower.empty() ? "" : ":") + std::string("layers/") + std::to_string(i);
    std::ofstream(staging + "/lowerdir") << lower << "\n";
  }
  if (s.ok()) {
    if (fs::is_directory(options.dest, ec)) fs::remove(options.dest, ec);  // empty, checked before
    fs::rename(staging, options.dest, ec);
    if (ec) s = InternalError("rename " + staging + " to " + options.dest + ": " + ec.message());
  }
  if (!s.ok()) {
    fs::remove_all(staging, ec);
    return s;
  }
  return result;
}

}  // namespace gpufleet::image
