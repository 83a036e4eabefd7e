// Informer: a reflector (list, then watch from the list's resourceVersion) feeding a local cache
// with indexes and event handlers, with client-go's semantics:
//   - the first list asks for resourceVersion=0 (any cached state), in pages of 500;
//   - watches ask for bookmarks and a random timeout of 5–10 minutes, and resume from the last
//     resourceVersion seen (events and bookmarks) when they end;
//   - 410 Expired (an HTTP answer or an ERROR event) means relist from the current state
//     (resourceVersion "");
//   - failures back off 800 ms doubling to 30 s with jitter, reset after 2 minutes of health;
//   - a relist replaces the cache: objects gone from the list are reported deleted, changed ones
//     updated, so handlers see every transition even across a missed window.
// Handlers run on the informer's thread, in order; they must not block for long. The cache may
// be read from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <shared_mutex>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "kube/client.h"

namespace gpufleet::kube {

using ObjectPtr = std::shared_ptr<const nlohmann::json>;

struct EventHandler {
  std::function<void(const ObjectPtr& obj)> on_add;
  std::function<void(const ObjectPtr& old_obj, const ObjectPtr& new_obj)> on_update;
  std::function<void(const ObjectPtr& last_known)> on_delete;
};

// Values an object is indexed under (e.g. its spec.nodeName).
using IndexFunc = std::function<std::vector<std::string>(const nlohmann::json& obj)>;

struct InformerOptions {
  Gvr gvr;
  std::string ns;              // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;
  // Applied to every object before it is cached (client-go's SetTransform): drop what the
  // controller never reads, such as metadata.managedFields, to keep the cache small.
  std::function<void(nlohmann::json& obj)> transform;
  std::chrono::seconds min_watch_timeout{300};  // a watch lasts a random time in [min, 2×min)
  std::chrono::milliseconds backoff_initial{800};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
  std::chrono::seconds backoff_reset{120};      // healthy this long: the backoff starts over
};

// A transform for InformerOptions: removes metadata.managedFields (often a third of an object).
void StripManagedFields(nlohmann::json& obj);

class Informer {
 public:
  Informer(Client& client, InformerOptions options, core::Clock& clock);

  // Register before Run.
  void AddEventHandler(EventHandler handler);
  void AddIndex(const std::string& name, IndexFunc func);

  // Lists and watches until `stop` is requested. Never returns early: errors are retried with
  // backoff (and logged).
  void Run(std::stop_token stop);
  // True once the first list has been applied to the cache.
  bool HasSynced() const;
  // Blocks (real time) until synced or `timeout`; true if synced.
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  // Cache reads. Keys are "namespace/name" (or "name" for cluster-scoped objects).
  ObjectPtr Get(const std::string& key) const;
  std::vector<ObjectPtr> List() const;
  std::vector<ObjectPtr> ByIndex(const std::string& index, const std::string& value) const;
  // Built-in index names registered by the constructor.
  static constexpr const char* kByNamespace = "namespace";
  std::string LastSyncResourceVersion() const;
  // How many lists the reflector made (first list plus relists); for tests and metrics.
  int ListCount() const;

  static std::string KeyOf(const nlohmann::json& obj);

 private:
  Status ListAndReplace(bool first);
  Status WatchOnce(std::stop_token stop);
  void Upsert(ObjectPtr obj);
  void Remove(const std::string& key, ObjectPtr last_known);
  void IndexLocked(const std::string& key, const nlohmann::json& obj, bool add);

  Client& client_;
  const InformerOptions options_;
  core::Clock& clock_;
  std::vector<EventHandler> handlers_;
  std::map<std::string, IndexFunc> index_funcs_;

  mutable std::shared_mutex mu_;
  std::map<std::string, ObjectPtr> items_;
  // index name -> value -> keys (a set: an update must not scan every key under a value, such
  // as all 100k pods of one namespace)
  std::map<std::string, std::map<std::string, std::set<std::string>>> indexes_;
  std::string resource_version_;
  bool synced_ = false;
  int lists_ = 0;
  bool need_relist_ = true;
  mutable std::mutex sync_mu_;
  mutable std::condition_variable sync_cv_;
};

}  // namespace gpufleet::kube
