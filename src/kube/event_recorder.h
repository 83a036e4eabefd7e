// EventRecorder: client-go's event recorder (tools/record) for core/v1 Events about objects.
//
// Each event passes client-go's correlator before it is written:
//   1. spam filter: per source + involved object, a token bucket of burst 25 refilled at one
//      event per 5 minutes; events beyond it are dropped;
//   2. aggregation: once 10 different messages with the same source, object, type and reason
//      arrive within 10 minutes, they become one event "(combined from similar events): <msg>";
//   3. deduplication: an event identical to one already written bumps that Event's count and
//      lastTimestamp (a PATCH) instead of creating another.
// Caches are LRUs of 4096 entries. Writes happen on a background thread through a queue of
// 1000 events (dropped, and counted, when full), so recording never blocks a controller.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "kube/client.h"

namespace gpufleet::kube {

class EventRecorder {
 public:
  // `component` is the event source (e.g. "gpufleet-provisioner"); `host` optional.
  EventRecorder(Client& client, core::Clock& clock, std::string component, std::string host = "");
  ~EventRecorder();  // writes what is queued, then stops
  EventRecorder(const EventRecorder&) = delete;
  EventRecorder& operator=(const EventRecorder&) = delete;

  // Records an event about `object` (any Kubernetes object with apiVersion, kind, metadata).
  // `type` is "Normal" or "Warning".
  void Event(const nlohmann::json& object, std::string_view type, std::string_view reason,
             std::string_view message);
  // Blocks until every event recorded so far has been written (or failed). For tests and
  // shutdown.
  void Flush();
  // Events dropped by the spam filter or a full queue.
  int64_t Dropped() const;

 private:
  struct Pending {
    nlohmann::json event;  // complete core/v1 Event to create
    std::string dedup_key;
  };
  struct Seen {
    std::string namespace_, name;
    int64_t count = 0;
  };
  template <typename V>
  class Lru {
   public:
    V* Find(const std::string& key);
    V& Put(const std::string& key, V value);
   private:
    std::list<std::pair<std::string, V>> order_;
    std::unordered_map<std::string, typename std::list<std::pair<std::string, V>>::iterator> index_;
  };
  struct Bucket {
    double tokens;
    core::TimePoint last;
  };
  struct Aggregate {
    std::map<std::string, bool> messages;
    core::TimePoint first;
  };

  bool AllowedBySpamFilter(const std::string& key, core::TimePoint now);
  void Write(Pending pending);
  void Worker(std::stop_token stop);

  Client& client_;
  core::Clock& clock_;
  const std::string component_, host_;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Pending> queue_;
  int in_flight_ = 0;
  int64_t dropped_ = 0;
  int64_t last_name_nanos_ = 0;
  Lru<Bucket> spam_;
  Lru<Aggregate> aggregates_;
  Lru<Seen> seen_;  // written by the worker only
  std::jthread worker_;
};

}  // namespace gpufleet::kube
