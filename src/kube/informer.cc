#include "kube/informer.h"

#include <algorithm>
#include <random>

#include "core/log.h"

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;
const core::log::Logger kLog("kube.informer");

std::string Rv(const json& obj) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) return "";
  return obj["metadata"].value("resourceVersion", "");
}

}  // namespace

Informer::Informer(Client& client, InformerOptions options, core::Clock& clock)
    : client_(client), options_(std::move(options)), clock_(clock) {
  index_funcs_[kByNamespace] = [](const json& obj) -> std::vector<std::string> {
    std::string ns = obj.contains("metadata") ? obj["metadata"].value("namespace", "") : "";
    if (ns.empty()) return {};
    return {ns};
  };
}

void StripManagedFields(json& obj) {
  if (obj.contains("metadata") && obj["metadata"].is_object()) obj["metadata"].erase("managedFields");
}

std::string Informer::KeyOf(const json& obj) {
  if (!obj.contains("metadata") || !obj["metadata"].is_object()) return "";
  std::string ns = obj["metadata"].value("namespace", "");
  std::string name = obj["metadata"].value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

void Informer::AddEventHandler(EventHandler handler) { handlers_.push_back(std::move(handler)); }

void Informer::AddIndex(const std::string& name, IndexFunc func) { index_funcs_[name] = std::move(func); }

bool Informer::HasSynced() const {
  std::shared_lock lock(mu_);
  return synced_;
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(sync_mu_);
  return sync_cv_.wait_for(lock, timeout, [&] { return HasSynced(); });
}

ObjectPtr Informer::Get(const std::string& key) const {
  std::shared_lock lock(mu_);
  auto it = items_.find(key);
  return it == items_.end() ? nullptr : it->second;
}

std::vector<ObjectPtr> Informer::List() const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(items_.size());
  for (const auto& [key, obj] : items_) out.push_back(obj);
  return out;
}

std::vector<ObjectPtr> Informer::ByIndex(const std::string& index, const std::string& value) const {
  std::shared_lock lock(mu_);
  std::vector<ObjectPtr> out;
  auto idx = indexes_.find(index);
  if (idx == indexes_.end()) return out;
  auto keys = idx->second.find(value);
  if (keys == idx->second.end()) return out;
  for (const auto& key : keys->second) {
    if (auto it = items_.find(key); it != items_.end()) out.push_back(it->second);
  }
  return out;
}

std::string Informer::LastSyncResourceVersion() const {
  std::shared_lock lock(mu_);
  return resource_version_;
}

int Informer::ListCount() const {
  std::shared_lock lock(mu_);
  return lists_;
}

void Informer::IndexLocked(const std::string& key, const json& obj, bool add) {
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

void Informer::Upsert(ObjectPtr obj) {
  std::string key = KeyOf(*obj);
  ObjectPtr old;
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

void Informer::Remove(const std::string& key, ObjectPtr last_known) {
  ObjectPtr old;
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

Status Informer::ListAndReplace(bool first) {
  ListOptions o{.label_selector = options_.label_selector,
                .field_selector = options_.field_selector,
                .limit = options_.page_size,
                .resource_version = first ? "0" : ""};
  GF_ASSIGN_OR_RETURN(json list, client_.ListAll(options_.gvr, options_.ns, o));
  std::map<std::string, ObjectPtr> fresh;
  for (auto& item : list["items"]) {
    if (options_.transform) options_.transform(item);
    auto obj = std::make_shared<const json>(std::move(item));
    fresh[KeyOf(*obj)] = std::move(obj);
  }
  // Deletions first (objects missing from the list), then adds and changes.
  std::vector<std::pair<std::string, ObjectPtr>> gone;
  {
    std::shared_lock lock(mu_);
    for (const auto& [key, obj] : items_) {
      if (!fresh.contains(key)) gone.emplace_back(key, obj);
    }
  }
  for (auto& [key, obj] : gone) Remove(key, obj);
  for (auto& [key, obj] : fresh) {
    ObjectPtr current = Get(key);
    if (current && Rv(*current) == Rv(*obj)) continue;  // unchanged
    Upsert(obj);
  }
  {
    std::unique_lock lock(mu_);
    resource_version_ = list["metadata"].is_object() ? list["metadata"].value("resourceVersion", "") : "";
    ++lists_;
    synced_ = true;
    need_relist_ = false;
  }
  std::lock_guard lock(sync_mu_);
  sync_cv_.notify_all();
  return OkStatus();
}

Status Informer::WatchOnce(std::stop_token stop) {
  thread_local std::mt19937 rng{std::random_device{}()};
  const int64_t min_s = options_.min_watch_timeout.count();
  std::uniform_int_distribution<int64_t> timeout(min_s, 2 * min_s - 1);
  WatchOptions o{.label_selector = options_.label_selector,
                 .field_selector = options_.field_selector,
                 .resource_version = LastSyncResourceVersion(),
                 .allow_bookmarks = true,
                 .timeout_seconds = std::max<int64_t>(1, timeout(rng))};
  return client_.Watch(options_.gvr, options_.ns, o, [&](WatchEvent& e) {
    std::string rv = Rv(e.object);
    if (options_.transform && e.type != "BOOKMARK") options_.transform(e.object);
    if (e.type == "ADDED" || e.type == "MODIFIED") {
      Upsert(std::make_shared<const json>(std::move(e.object)));
    } else if (e.type == "DELETED") {
      auto last = std::make_shared<const json>(std::move(e.object));
      Remove(KeyOf(*last), last);
    }
    if (!rv.empty()) {
      std::unique_lock lock(mu_);
      resource_version_ = rv;
    }
    return true;
  }, stop);
}

void Informer::Run(std::stop_token stop) {
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
      kLog.Info("resource version expired; relisting", {{"resource", options_.gvr.resource}});
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
    kLog.Warn("list/watch failed; retrying",
              {{"resource", options_.gvr.resource}, {"error", s.ToString()}, {"wait_ms", wait.count()}});
    if (!clock_.SleepFor(wait, stop)) return;
    backoff = std::min(backoff * 2, options_.backoff_max);
    last_failure = clock_.Now();
  }
}

}  // namespace gpufleet::kube
