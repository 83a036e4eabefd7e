// Store: durable, versioned object storage for the embedded API server.
//
// Keys are registry paths ("/pods/default/nginx", "/nodes//node-1", "/karpenter.sh/nodepools//gpu").
// Every write gets the next value of one global, monotonic resourceVersion (RV), like etcd's
// revision. A write is acknowledged (its callback or future completes) only after it is durable:
// the SQLite implementation commits in WAL mode with synchronous=FULL, and concurrent writes share
// one commit (group commit).
//
// Watching: every committed write becomes an Event; Watch(prefix, from_rv) replays retained events
// newer than from_rv and then streams new ones. If from_rv is older than the retained window the
// watch fails with OutOfRange (the API server maps it to 410 Gone / "Expired").
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gpufleet::apiserver {

// One stored object: its key, the RV of its last write and its JSON (metadata.resourceVersion
// inside the JSON equals `rv`).
struct StoredObject {
  std::string key;
  int64_t rv = 0;
  std::shared_ptr<const std::string> json;  // immutable, shared with watchers and caches
};

enum class EventType { kAdded, kModified, kDeleted };

struct Event {
  EventType type;
  StoredObject object;  // for kDeleted: the last state, with the deletion's rv
  // kModified: the state before this write (filtered watches turn a change of selection into
  // ADDED or DELETED). Null otherwise.
  std::shared_ptr<const std::string> prev;
};

// What a Mutation decided for its key.
struct Write {
  enum class Kind { kPut, kDelete, kNoop };
  Kind kind = Kind::kNoop;
  // kPut: the new object JSON, with metadata.resourceVersion set to the new_rv it was given.
  // kDelete: the object's final state stamped with new_rv (sent to watchers as DELETED).
  // kNoop: empty; nothing is written and no RV is used (Kubernetes' no-op update).
  std::string json;
};

// A mutation computed from the current state of one key, run on the store's single writer
// thread so that check-and-set is atomic. `current` is null when the key does not exist. An error
// becomes the write's result and nothing is written. Must be fast and must not block.
using Mutation = std::function<Result<Write>(const StoredObject* current, int64_t new_rv)>;

struct ListResult {
  std::vector<StoredObject> items;
  int64_t rv = 0;               // the store's RV at the time of the list
  std::optional<std::string> continue_after;  // last key returned when the list was cut at limit
};

// A live watch. Next() blocks until an event, the timeout, Stop(), or the watch being cut off
// (kResourceExhausted: the watcher fell too far behind; kCancelled: Stop() or store shutdown).
class Watch {
 public:
  virtual ~Watch() = default;
  virtual Result<Event> Next(std::chrono::milliseconds timeout) = 0;
  // Non-blocking: events queued now (up to `max`).
  virtual std::vector<Event> Drain(size_t max) = 0;
  // Wakes Next() with kCancelled; idempotent.
  virtual void Stop() = 0;
  // A file descriptor-free wake-up hook: called (from the writer thread) whenever events were
  // queued. Used by the HTTP layer to resume an asynchronous writer. May be empty.
  virtual void SetNotify(std::function<void()> notify) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // The object at `key`, or NotFound.
  virtual Result<StoredObject> Get(std::string_view key) const = 0;
  // Objects whose key starts with `prefix`, in key order, after `continue_after` (exclusive),
  // at most `limit` (0 = all).
  virtual ListResult List(std::string_view prefix, std::string_view continue_after,
                          size_t limit) const = 0;
  // Applies `mutation` to `key` atomically and durably. Returns the stored object (for a delete,
  // the final state with the deletion's rv; for a no-op, the current object). Errors: those returned by the mutation; kUnavailable
  // if the store is closing; kDataLoss if the commit failed.
  virtual Result<StoredObject> Apply(std::string_view key, Mutation mutation) = 0;
  // The latest committed RV.
  virtual int64_t CurrentRv() const = 0;
  // Streams events for keys under `prefix` with rv > from_rv. OutOfRange if from_rv predates the
  // retained window (the caller must relist).
  virtual Result<std::unique_ptr<Watch>> WatchPrefix(std::string_view prefix, int64_t from_rv) = 0;
};

}  // namespace gpufleet::apiserver
