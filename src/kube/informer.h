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
//
// BasicInformer<T> caches objects as T: nlohmann::json (Informer, any resource) or a typed
// view (PodInformer, NodeInformer, ...: kube/types/informers.h), which costs a fraction of the
// memory. Each list page is decoded as it arrives, so a sync never holds the whole list as
// JSON. An object that does not decode (a field of the wrong type) is logged and skipped;
// DecodeErrors() counts them.
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
#include "kube/types/meta.h"

namespace gpufleet::kube {

// How the informer reads the objects it caches. The primary template serves typed views.
template <typename T>
struct InformerTraits {
  static Result<T> Decode(nlohmann::json& obj) { return FromJson<T>(obj); }
  static std::string Key(const T& obj) { return obj.metadata.Key(); }
  static std::string Namespace(const T& obj) { return obj.metadata.ns.str(); }
  static std::string ResourceVersion(const T& obj) { return obj.metadata.resource_version; }
};

template <>
struct InformerTraits<nlohmann::json> {
  static Result<nlohmann::json> Decode(nlohmann::json& obj);  // moves obj
  static std::string Key(const nlohmann::json& obj);
  static std::string Namespace(const nlohmann::json& obj);
  static std::string ResourceVersion(const nlohmann::json& obj);
};

template <typename T>
struct BasicEventHandler {
  using Ptr = std::shared_ptr<const T>;
  std::function<void(const Ptr& obj)> on_add;
  std::function<void(const Ptr& old_obj, const Ptr& new_obj)> on_update;
  std::function<void(const Ptr& last_known)> on_delete;
};

struct InformerOptions {
  Gvr gvr;
  std::string ns;              // "" = all namespaces
  std::string label_selector;
  std::string field_selector;
  int64_t page_size = 500;
  // Applied to every object (as JSON) before it is decoded and cached (client-go's
  // SetTransform): drop what the controller never reads, such as metadata.managedFields.
  std::function<void(nlohmann::json& obj)> transform;
  std::chrono::seconds min_watch_timeout{300};  // a watch lasts a random time in [min, 2×min)
  std::chrono::milliseconds backoff_initial{800};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
  std::chrono::seconds backoff_reset{120};      // healthy this long: the backoff starts over
};

// A transform for InformerOptions: removes metadata.managedFields (often a third of an object).
void StripManagedFields(nlohmann::json& obj);
// Options for an informer over `gvr` that drops managedFields: what controllers use.
InformerOptions StrippedInformerOptions(Gvr gvr);

template <typename T>
class BasicInformer {
 public:
  using Ptr = std::shared_ptr<const T>;
  using Handler = BasicEventHandler<T>;
  // Values an object is indexed under (e.g. its spec.nodeName).
  using IndexFunc = std::function<std::vector<std::string>(const T& obj)>;

  // For a typed view, options.gvr defaults to T::Resource() when left empty.
  BasicInformer(Client& client, InformerOptions options, core::Clock& clock);

  // Register before Run.
  void AddEventHandler(Handler handler);
  void AddIndex(const std::string& name, IndexFunc func);

  // Lists and watches until `stop` is requested. Never returns early: errors are retried with
  // backoff (and logged).
  void Run(std::stop_token stop);
  // True once the first list has been applied to the cache.
  bool HasSynced() const;
  // Blocks (real time) until synced or `timeout`; true if synced.
  bool WaitForSync(std::chrono::milliseconds timeout) const;

  // Cache reads. Keys are "namespace/name" (or "name" for cluster-scoped objects).
  Ptr Get(const std::string& key) const;
  std::vector<Ptr> List() const;
  std::vector<Ptr> ByIndex(const std::string& index, const std::string& value) const;
  size_t Size() const;
  // Built-in index names registered by the constructor.
  static constexpr const char* kByNamespace = "namespace";
  std::string LastSyncResourceVersion() const;
  // How many lists the reflector made (first list plus relists); for tests and metrics.
  int ListCount() const;
  // Objects skipped because they did not decode.
  int64_t DecodeErrors() const;

  static std::string KeyOf(const T& obj) { return InformerTraits<T>::Key(obj); }

 private:
  Status ListAndReplace(bool first);
  Status WatchOnce(std::stop_token stop);
  // Decodes (after the transform); nullptr after logging when the object is malformed.
  Ptr DecodeObject(nlohmann::json& obj);
  void Upsert(Ptr obj);
  void Remove(const std::string& key, Ptr last_known);
  void IndexLocked(const std::string& key, const T& obj, bool add);

  Client& client_;
  InformerOptions options_;
  core::Clock& clock_;
  std::vector<Handler> handlers_;
  std::map<std::string, IndexFunc> index_funcs_;

  mutable std::shared_mutex mu_;
  std::map<std::string, Ptr> items_;
  // index name -> value -> keys (a set: an update must not scan every key under a value, such
  // as all 100k pods of one namespace)
  std::map<std::string, std::map<std::string, std::set<std::string>>> indexes_;
  std::string resource_version_;
  bool synced_ = false;
  int lists_ = 0;
  int64_t decode_errors_ = 0;
  bool need_relist_ = true;
  mutable std::mutex sync_mu_;
  mutable std::condition_variable sync_cv_;
};

// The JSON informer (any resource). Typed ones are in kube/types/informers.h.
extern template class BasicInformer<nlohmann::json>;
using Informer = BasicInformer<nlohmann::json>;
using ObjectPtr = Informer::Ptr;
using EventHandler = Informer::Handler;
using IndexFunc = Informer::IndexFunc;

}  // namespace gpufleet::kube
