#include "apiserver/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <string>

namespace gpufleet::apiserver {
namespace {

constexpr int kSchemaVersion = 1;

Status SqlError(sqlite3* db, std::string_view what) {
  return DataLossError(std::string(what) + ": " + sqlite3_errmsg(db));
}

Status Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return DataLossError(std::string("sqlite: ") + sql + ": " + msg);
  }
  return OkStatus();
}

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  sqlite3_stmt* get() { return stmt_; }
  bool ok() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

bool HasPrefix(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

}  // namespace

// A watcher's bounded queue. Lives until the Watch handle is destroyed; the store holds a raw
// pointer while registered (unregistered in the destructor under watch_mu_).
class StoreWatch final : public Watch {
 public:
  StoreWatch(SqliteStore* store, std::string prefix, size_t limit)
      : store_(store), prefix_(std::move(prefix)), limit_(limit) {}
  ~StoreWatch() override {
    if (store_) store_->Unregister(this);
  }

  Result<Event> Next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || !end_.ok(); });
    if (!queue_.empty()) {
      Event e = std::move(queue_.front());
      queue_.pop_front();
      return e;
    }
    if (!end_.ok()) return end_;
    return DeadlineExceededError("no event within the timeout");
  }

  std::vector<Event> Drain(size_t max) override {
    std::lock_guard lock(mu_);
    std::vector<Event> out;
    while (!queue_.empty() && out.size() < max) {
      out.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    return out;
  }

  void Stop() override { End(CancelledError("watch stopped")); }

  void SetNotify(std::function<void()> notify) override {
    std::lock_guard lock(mu_);
    notify_ = std::move(notify);
  }

  // Status of a watch that has ended (OK while live).
  Status ended() {
    std::lock_guard lock(mu_);
    return end_;
  }

  // Called by the store with watch_mu_ held.
  void Push(const Event& e) {
    std::function<void()> notify;
    {
      std::lock_guard lock(mu_);
      if (!end_.ok() || !HasPrefix(e.object.key, prefix_)) return;
      if (queue_.size() >= limit_) {
        // A slow reader must not make the server buffer without bound: cut it off.
        queue_.clear();
        end_ = ResourceExhaustedError("watcher fell more than " + std::to_string(limit_) +
                                      " events behind and was closed; relist and watch again");
      } else {
        queue_.push_back(e);
      }
      notify = notify_;
    }
    cv_.notify_all();
    if (notify) notify();
  }

  void End(Status why) {
    std::function<void()> notify;
    {
      std::lock_guard lock(mu_);
      if (!end_.ok()) return;
      end_ = std::move(why);
      notify = notify_;
    }
    cv_.notify_all();
    if (notify) notify();
  }

  void Detach() { store_ = nullptr; }
  const std::string& prefix() const { return prefix_; }

 private:
  SqliteStore* store_;
  const std::string prefix_;
  const size_t limit_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> queue_;
  Status end_;
  std::function<void()> notify_;
};

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const Options& options) {
  std::error_code ec;
  std::filesystem::path path(options.path);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(options.path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    Status s = InvalidArgumentError("cannot open store " + options.path + ": " +
                                    (db ? sqlite3_errmsg(db) : "out of memory"));
    sqlite3_close(db);
    return s;
  }
  auto store = std::unique_ptr<SqliteStore>(new SqliteStore(options, db));
  Status loaded = store->Load();
  if (!loaded.ok()) return loaded.WithContext("store " + options.path);
  store->writer_ = std::thread([s = store.get()] { s->WriterLoop(); });
  return store;
}

SqliteStore::SqliteStore(const Options& options, sqlite3* db) : options_(options), db_(db) {}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard lock(queue_mu_);
    closing_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(watch_mu_);
    for (StoreWatch* w : watchers_) {
      w->End(CancelledError("store closed"));
      w->Detach();
    }
    watchers_.clear();
  }
  sqlite3_close(db_);
}

Status SqliteStore::Load() {
  GF_RETURN_IF_ERROR(Exec(db_, "PRAGMA journal_mode=WAL"));
  GF_RETURN_IF_ERROR(Exec(db_, options_.durable ? "PRAGMA synchronous=FULL"
                                                : "PRAGMA synchronous=NORMAL"));
  GF_RETURN_IF_ERROR(Exec(db_,
                          "CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER);"
                          "CREATE TABLE IF NOT EXISTS objects(key TEXT PRIMARY KEY, "
                          "rv INTEGER NOT NULL, value BLOB NOT NULL) WITHOUT ROWID;"));
  int64_t schema = -1;
  {
    Stmt q(db_, "SELECT name, value FROM meta");
    if (!q.ok()) return SqlError(db_, "reading meta");
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      std::string name = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0));
      int64_t value = sqlite3_column_int64(q.get(), 1);
      if (name == "rv") rv_ = value;
      if (name == "schema") schema = value;
    }
  }
  if (schema == -1) {
    GF_RETURN_IF_ERROR(Exec(db_, ("INSERT OR REPLACE INTO meta VALUES('schema'," +
                                  std::to_string(kSchemaVersion) + ")").c_str()));
  } else if (schema != kSchemaVersion) {
    return FailedPreconditionError("schema version " + std::to_string(schema) +
                                   " is not the supported " + std::to_string(kSchemaVersion));
  }
  Stmt q(db_, "SELECT key, rv, value FROM objects");
  if (!q.ok()) return SqlError(db_, "reading objects");
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    StoredObject o;
    o.key = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 0));
    o.rv = sqlite3_column_int64(q.get(), 1);
    const void* blob = sqlite3_column_blob(q.get(), 2);
    int n = sqlite3_column_bytes(q.get(), 2);
    o.json = std::make_shared<const std::string>(static_cast<const char*>(blob), size_t(n));
    rv_ = std::max(rv_, o.rv);
    std::string key = o.key;
    objects_.emplace(std::move(key), std::move(o));
  }
  if (rc != SQLITE_DONE) return SqlError(db_, "reading objects");
  window_start_rv_ = rv_;
  return OkStatus();
}

Result<StoredObject> SqliteStore::Get(std::string_view key) const {
  std::shared_lock lock(data_mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return NotFoundError(std::string(key));
  return it->second;
}

ListResult SqliteStore::List(std::string_view prefix, std::string_view continue_after,
                             size_t limit) const {
  ListResult out;
  std::shared_lock lock(data_mu_);
  out.rv = rv_;
  auto it = continue_after.empty() ? objects_.lower_bound(prefix)
                                   : objects_.upper_bound(continue_after);
  for (; it != objects_.end() && HasPrefix(it->first, prefix); ++it) {
    if (limit > 0 && out.items.size() == limit) {
      out.continue_after = out.items.back().key;
      break;
    }
    out.items.push_back(it->second);
  }
  return out;
}

int64_t SqliteStore::CurrentRv() const {
  std::shared_lock lock(data_mu_);
  return rv_;
}

int64_t SqliteStore::CommitCountForTest() const { return commits_.load(); }

size_t SqliteStore::QueuedForTest() {
  std::lock_guard lock(queue_mu_);
  return queue_.size();
}

Result<StoredObject> SqliteStore::Apply(std::string_view key, Mutation mutation) {
  std::future<Result<StoredObject>> result;
  {
    std::lock_guard lock(queue_mu_);
    if (closing_) return UnavailableError("store is closing");
    Pending p{std::string(key), std::move(mutation), {}};
    result = p.done.get_future();
    queue_.push_back(std::move(p));
  }
  queue_cv_.notify_one();
  return result.get();
}

void SqliteStore::WriterLoop() {
  while (true) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(queue_mu_);
      queue_cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty() && closing_) return;
      // Take everything queued (up to max_batch): the writes that arrived while the previous
      // commit was syncing share this one.
      while (!queue_.empty() && batch.size() < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    CommitBatch(batch);
  }
}

void SqliteStore::CommitBatch(std::vector<Pending>& batch) {
  // Run mutations against the committed state plus this batch's earlier writes.
  std::map<std::string, std::optional<StoredObject>, std::less<>> overlay;
  std::vector<Result<StoredObject>> results;
  std::vector<Event> events;
  int64_t rv;
  {
    std::shared_lock lock(data_mu_);
    rv = rv_;
  }
  const int64_t base_rv = rv;
  for (auto& p : batch) {
    const StoredObject* current = nullptr;
    StoredObject current_copy;
    if (auto it = overlay.find(p.key); it != overlay.end()) {
      if (it->second) current = &*it->second;
    } else {
      std::shared_lock lock(data_mu_);
      if (auto obj = objects_.find(p.key); obj != objects_.end()) {
        current_copy = obj->second;
        current = &current_copy;
      }
    }
    Result<Write> w = p.mutation(current, rv + 1);
    if (!w.ok()) {
      results.push_back(w.status());
      continue;
    }
    if (w->kind == Write::Kind::kNoop) {
      if (current) {
        results.push_back(*current);
      } else {
        results.push_back(NotFoundError(p.key));
      }
      continue;
    }
    if (w->kind == Write::Kind::kDelete && !current) {
      results.push_back(NotFoundError(p.key));
      continue;
    }
    ++rv;
    StoredObject obj{p.key, rv, std::make_shared<const std::string>(std::move(w->json))};
    if (w->kind == Write::Kind::kPut) {
      events.push_back({current ? EventType::kModified : EventType::kAdded, obj,
                        current ? current->json : nullptr});
      overlay[p.key] = obj;
    } else {
      events.push_back({EventType::kDeleted, obj, nullptr});
      overlay[p.key] = std::nullopt;
    }
    results.push_back(obj);
  }

  Status committed = OkStatus();
  if (rv != base_rv) {
    committed = Exec(db_, "BEGIN IMMEDIATE");
    if (committed.ok()) {
      Stmt put(db_, "INSERT OR REPLACE INTO objects(key, rv, value) VALUES(?, ?, ?)");
      Stmt del(db_, "DELETE FROM objects WHERE key = ?");
      Stmt meta(db_, "INSERT OR REPLACE INTO meta(name, value) VALUES('rv', ?)");
      for (const auto& [key, obj] : overlay) {
        if (!committed.ok()) break;
        sqlite3_stmt* s = obj ? put.get() : del.get();
        sqlite3_reset(s);
        sqlite3_bind_text(s, 1, key.data(), int(key.size()), SQLITE_STATIC);
        if (obj) {
          sqlite3_bind_int64(s, 2, obj->rv);
          sqlite3_bind_blob(s, 3, obj->json->data(), int(obj->json->size()), SQLITE_STATIC);
        }
        if (sqlite3_step(s) != SQLITE_DONE) committed = SqlError(db_, "writing " + key);
      }
      if (committed.ok()) {
        sqlite3_bind_int64(meta.get(), 1, rv);
        if (sqlite3_step(meta.get()) != SQLITE_DONE) committed = SqlError(db_, "writing rv");
      }
      if (committed.ok()) committed = Exec(db_, "COMMIT");
      if (!committed.ok()) Exec(db_, "ROLLBACK").IgnoreError();
    }
  }
  if (!committed.ok()) {
    // Nothing became visible: fail every write that needed the commit.
    for (size_t i = 0; i < batch.size(); ++i) {
      if (results[i].ok() && results[i]->rv > base_rv) results[i] = committed;
      batch[i].done.set_value(std::move(results[i]));
    }
    return;
  }
  commits_.fetch_add(rv != base_rv ? 1 : 0);
  {
    std::unique_lock lock(data_mu_);
    for (auto& [key, obj] : overlay) {
      if (obj) {
        objects_.insert_or_assign(key, *obj);
      } else {
        objects_.erase(key);
      }
    }
    rv_ = rv;
    Publish(events);  // under data_mu_ so a new watcher sees either the list or the event
  }
  for (size_t i = 0; i < batch.size(); ++i) batch[i].done.set_value(std::move(results[i]));
}

void SqliteStore::Publish(const std::vector<Event>& events) {
  std::lock_guard lock(watch_mu_);
  for (const auto& e : events) {
    window_.push_back(e);
    for (StoreWatch* w : watchers_) w->Push(e);
  }
  while (window_.size() > options_.event_window) {
    window_start_rv_ = window_.front().object.rv;
    window_.pop_front();
  }
}

Result<std::unique_ptr<Watch>> SqliteStore::WatchPrefix(std::string_view prefix, int64_t from_rv) {
  std::shared_lock data_lock(data_mu_);  // no commit publishes while we register
  std::lock_guard lock(watch_mu_);
  if (from_rv < window_start_rv_) {
    return OutOfRangeError("too old resource version: " + std::to_string(from_rv) + " (" +
                           std::to_string(window_start_rv_) + ")");
  }
  auto w = std::make_unique<StoreWatch>(this, std::string(prefix), options_.watcher_queue_limit);
  for (const auto& e : window_) {
    if (e.object.rv > from_rv) w->Push(e);
  }
  watchers_.push_back(w.get());
  return std::unique_ptr<Watch>(std::move(w));
}

void SqliteStore::Unregister(StoreWatch* w) {
  std::lock_guard lock(watch_mu_);
  std::erase(watchers_, w);
}

}  // namespace gpufleet::apiserver
