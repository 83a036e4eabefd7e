// BasicInformer's member definitions. Included only where an informer type is instantiated:
// informer.cc (JSON) and types/informers.cc (the typed views). A new T needs a line there.
#pragma once

#include <algorithm>
#include <random>

#include "core/log.h"
#include "kube/informer.h"

namespace gpufleet::kube {

const core::log::Logger& InformerLog();

template <typename T>
BasicInformer<T>::BasicInformer(Client& client, InformerOptions options, core::Clock& clock)
    : client_(client), options_(std::move(options)), clock_(clock) {
  if constexpr (!std::is_same_v<T, nlohmann::json>) {
    if (options_.gvr.resource.empty()) options_.gvr = T::Resource();
  }
  // An informer scoped to one namespace answers that index from the cache itself: an index
  // entry per object (~130 bytes) would buy nothing.
  if (!options_.ns.empty()) return;
  index_funcs_[kByNamespace] = [](const T& obj) -> std::vector<std::string> {
    std::string ns = InformerTraits<T>::Namespace(obj);
    if (ns.empty()) return {};
    return {ns};
  };
}

template <typename T>
void BasicInformer<T>::AddEventHandler(Handler handler) {
  handlers_.push_back(std::move(handler));
}

template <typename T>
void BasicInformer<T>::AddIndex(const std::string& name, IndexFunc func) {
  index_funcs_[name] = std::move(func);
}

template <typename T>
bool BasicInformer<T>::HasSynced() const {
  std::shared_lock lock(mu_);
  return synced_;
}

template <typename T>
bool BasicInformer<T>::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(sync_mu_);
  return sync_cv_.wait_for(lock, timeout, [&] { return HasSynced(); });
}

template <typename T>
typename BasicInformer<T>::Ptr BasicInformer<T>::Get(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

template <typename T>
std::vector<typename BasicInformer<T>::Ptr> BasicInformer<T>::List() const {
  std::shared_lock lock(mu_);
  std::vector<Ptr> out;
  out.reserve(items_.size());
  for (const auto& [key, obj] : items_) out.push_back(obj);
  return out;
}

template <typename T>
std::vector<typename BasicInformer<T>::Ptr> BasicInformer<T>::ByIndex(const std::string& index,
                                                                      const std::string& value) const {
  if (index == kByNamespace && !options_.ns.empty()) {
    return value == options_.ns ? List() : std::vector<Ptr>();
  }
  std::shared_lock lock(mu_);
  std::vector<Ptr> out;
  auto idx = indexes_.find(index);
  if (idx == indexes_.end()) return out;
  auto keys = idx->second.find(value);
  if (keys == idx->second.end()) return out;
  for (const auto& key : keys->second) {
    if (auto it = items_.find(key); it != items_.end()) out.push_back(it->second);
  }
  return out;
}

template <typename T>
size_t BasicInformer<T>::Size() const {
  std::shared_lock lock(mu_);
  return items_.size();
}

template <typename T>
std::string BasicInformer<T>::LastSyncResourceVersion() const {
  std::shared_lock lock(mu_);
  return resource_version_;
}

template <typename T>
int BasicInformer<T>::ListCount() const {
  std::shared_lock lock(mu_);
  return lists_;
}

template <typename T>
int64_t BasicInformer<T>::DecodeErrors() const {
  std::shared_lock lock(mu_);
  return decode_errors_;
}

template <typename T>
void BasicInformer<T>::IndexLocked(const std::string& key, const T& obj, bool add) {
  for (const auto& [name, func] : index_funcs_) {
    for (const auto& value : func(obj)) {
      auto& keys = indexes_[name][value];
      if (add) {
        keys.insert(key);
      } else {
        keys.erase(key);
        if (keys.empty()) indexes_[name].erase(value);
      }
    }
  }
}

template <typename T>
typename BasicInformer<T>::Ptr BasicInformer<T>::DecodeObject(nlohmann::json& obj) {
  if (options_.transform) options_.transform(obj);
  Result<T> decoded = InformerTraits<T>::Decode(obj);
  if (!decoded.ok()) {
    InformerLog().Error("skipping an object that does not decode",
                        {{"resource", options_.gvr.resource}, {"error", decoded.status().ToString()}});
    std::unique_lock lock(mu_);
    ++decode_errors_;
    return nullptr;
  }
  return std::make_shared<const T>(std::move(decoded).value());
}

template <typename T>
void BasicInformer<T>::Upsert(Ptr obj) {
  std::string key = KeyOf(*obj);
  Ptr old;
  {
    std::unique_lock lock(mu_);
    auto it = items_.find(key);
    if (it != items_.end()) {
      old = it->second;
      IndexLocked(key, *old, false);
    }
    items_[key] = obj;
    IndexLocked(key, *obj, true);
  }
  for (const auto& h : handlers_) {
    if (old && h.on_update) h.on_update(old, obj);
    if (!old && h.on_add) h.on_add(obj);
  }
}

template <typename T>
void BasicInformer<T>::Remove(const std::string& key, Ptr last_known) {
  Ptr old;
  {
    std::unique_lock lock(mu_);
    auto it = items_.find(key);
    if (it == items_.end()) return;
    old = it->second;
    IndexLocked(key, *old, false);
    items_.erase(it);
  }
  for (const auto& h : handlers_) {
    if (h.on_delete) h.on_delete(last_known ? last_known : old);
  }
}

template <typename T>
Status BasicInformer<T>::ListAndReplace(bool first) {
  ListOptions o{.label_selector = options_.label_selector,
                .field_selector = options_.field_selector,
                .limit = options_.page_size,
                .resource_version = first ? "0" : ""};
  // Pages are decoded as they arrive: only one page is ever held as JSON.
  std::map<std::string, Ptr> fresh;
  std::string list_rv;
  while (true) {
    GF_ASSIGN_OR_RETURN(nlohmann::json page, client_.List(options_.gvr, options_.ns, o));
    auto items = page.find("items");
    if (items != page.end() && items->is_array()) {
      for (auto& item : *items) {
        if (Ptr obj = DecodeObject(item)) fresh[KeyOf(*obj)] = std::move(obj);
      }
    } else if (items != page.end() && !items->is_null()) {
      return InvalidArgumentError("list of " + options_.gvr.resource + ": items is not an array");
    }
    list_rv = MetadataString(page, "resourceVersion");
    std::string next = MetadataString(page, "continue");
    if (next.empty()) break;
    o.continue_token = std::move(next);
    o.resource_version.clear();  // a continue token carries its own version
  }
  // Deletions first (objects missing from the list), then adds and changes.
  std::vector<std::pair<std::string, Ptr>> gone;
  {
    std::shared_lock lock(mu_);
    for (const auto& [key, obj] : items_) {
      if (!fresh.contains(key)) gone.emplace_back(key, obj);
    }
  }
  for (auto& [key, obj] : gone) Remove(key, obj);
  for (auto& [key, obj] : fresh) {
    Ptr current = Get(key);
    if (current && InformerTraits<T>::ResourceVersion(*current) == InformerTraits<T>::ResourceVersion(*obj)) {
      continue;  // unchanged
    }
    Upsert(obj);
  }
  {
    std::unique_lock lock(mu_);
    resource_version_ = list_rv;
    ++lists_;
    synced_ = true;
    need_relist_ = false;
  }
  std::lock_guard lock(sync_mu_);
  sync_cv_.notify_all();
  return OkStatus();
}

template <typename T>
Status BasicInformer<T>::WatchOnce(std::stop_token stop) {
  thread_local std::mt19937 rng{std::random_device{}()};
  const int64_t min_s = options_.min_watch_timeout.count();
  std::uniform_int_distribution<int64_t> timeout(min_s, 2 * min_s - 1);
  WatchOptions o{.label_selector = options_.label_selector,
                 .field_selector = options_.field_selector,
                 .resource_version = LastSyncResourceVersion(),
                 .allow_bookmarks = true,
                 .timeout_seconds = std::max<int64_t>(1, timeout(rng))};
  return client_.Watch(options_.gvr, options_.ns, o, [&](WatchEvent& e) {
    std::string rv = InformerTraits<nlohmann::json>::ResourceVersion(e.object);
    if (e.type == "ADDED" || e.type == "MODIFIED") {
      if (Ptr obj = DecodeObject(e.object)) Upsert(std::move(obj));
    } else if (e.type == "DELETED") {
      if (Ptr last = DecodeObject(e.object)) Remove(KeyOf(*last), last);
    }
    if (!rv.empty()) {
      std::unique_lock lock(mu_);
      resource_version_ = rv;
    }
    return true;
  }, stop);
}

template <typename T>
void BasicInformer<T>::Run(std::stop_token stop) {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::chrono::milliseconds backoff = options_.backoff_initial;
  core::TimePoint last_failure{};
  int expired_in_a_row = 0;
  bool first = true;
  while (!stop.stop_requested()) {
    bool relist;
    {
      std::shared_lock lock(mu_);
      relist = need_relist_;
    }
    Status s = relist ? ListAndReplace(first) : WatchOnce(stop);
    if (s.ok() && relist) first = false;
    if (stop.stop_requested()) return;
    if (s.ok()) {  // list applied, or the watch reached its timeout: watch again
      if (!relist) expired_in_a_row = 0;
      continue;
    }
    if (s.code() == StatusCode::kOutOfRange) {
      InformerLog().Info("resource version expired; relisting", {{"resource", options_.gvr.resource}});
      {
        std::unique_lock lock(mu_);
        need_relist_ = true;
      }
      // The usual case (one watch outlived the server's window) relists at once; a server that
      // keeps answering "expired" is backed off like any failure instead of hammered.
      if (++expired_in_a_row == 1) continue;
    } else {
      expired_in_a_row = 0;
    }
    // Failures more than backoff_reset apart start the backoff over.
    if (clock_.Now() - last_failure >= options_.backoff_reset) backoff = options_.backoff_initial;
    std::uniform_real_distribution<double> jitter(1.0, 1.2);
    auto wait = std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(backoff.count()) * jitter(rng)));
    InformerLog().Warn("list/watch failed; retrying",
                       {{"resource", options_.gvr.resource}, {"error", s.ToString()}, {"wait_ms", wait.count()}});
    if (!clock_.SleepFor(wait, stop)) return;
    backoff = std::min(backoff * 2, options_.backoff_max);
    last_failure = clock_.Now();
  }
}

}  // namespace gpufleet::kube
