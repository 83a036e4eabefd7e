// SqliteStore: the Store on SQLite (WAL, synchronous=FULL) with an in-memory copy of every object
// for reads, one writer thread that batches concurrent writes into one transaction (group
// commit: many writes, one fsync), and an in-memory ring of recent events for watches.
// Schema and recovery: docs/apiserver.md.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "apiserver/store.h"
#include "core/thread_annotations.h"

struct sqlite3;

namespace gpufleet::apiserver {

class StoreWatch;

class SqliteStore final : public Store {
 public:
  struct Options {
    std::string path;                  // database file; created with its directory if missing
    size_t event_window = 20000;       // events kept for watch resumption
    size_t watcher_queue_limit = 10000;  // events buffered per watcher before it is cut off
    size_t max_batch = 1024;           // writes per transaction
    bool durable = true;               // synchronous=FULL (false: NORMAL, for benchmarks only)
  };

  // Opens (or creates) the database and loads every object. InvalidArgument/DataLoss with the
  // path and SQLite's message when the file cannot be opened or is not a gpufleet store.
  static Result<std::unique_ptr<SqliteStore>> Open(const Options& options);
  ~SqliteStore() override;

  Result<StoredObject> Get(std::string_view key) const override;
  ListResult List(std::string_view prefix, std::string_view continue_after,
                  size_t limit) const override;
  Result<StoredObject> Apply(std::string_view key, Mutation mutation) override;
  int64_t CurrentRv() const override;
  Result<std::unique_ptr<Watch>> WatchPrefix(std::string_view prefix, int64_t from_rv) override;

  // Number of committed transactions (for tests of group commit and for metrics).
  int64_t CommitCountForTest() const;
  // Writes waiting for the writer thread.
  size_t QueuedForTest();

 private:
  friend class StoreWatch;
  struct Pending {
    std::string key;
    Mutation mutation;
    std::promise<Result<StoredObject>> done;
  };

  SqliteStore(const Options& options, sqlite3* db);
  Status Load();
  void WriterLoop();
  void CommitBatch(std::vector<Pending>& batch);
  void Publish(const std::vector<Event>& events);
  void Unregister(StoreWatch* w);

  const Options options_;
  sqlite3* const db_;  // used only by the constructor, Load() and the writer thread

  mutable std::shared_mutex data_mu_;
  std::map<std::string, StoredObject, std::less<>> objects_ GF_GUARDED_BY(data_mu_);
  int64_t rv_ GF_GUARDED_BY(data_mu_) = 0;

  // Events and watchers; lock order: data_mu_ before watch_mu_.
  mutable std::mutex watch_mu_;
  std::deque<Event> window_ GF_GUARDED_BY(watch_mu_);
  int64_t window_start_rv_ GF_GUARDED_BY(watch_mu_) = 0;  // events with rv > this are retained
  std::vector<StoreWatch*> watchers_ GF_GUARDED_BY(watch_mu_);

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Pending> queue_ GF_GUARDED_BY(queue_mu_);
  bool closing_ GF_GUARDED_BY(queue_mu_) = false;
  std::atomic<int64_t> commits_{0};
  std::thread writer_;
};

}  // namespace gpufleet::apiserver
