#include "kube/event_recorder.h"

#include <algorithm>
#include <cstdio>

#include "core/log.h"
#include "core/time_format.h"

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;
const core::log::Logger kLog("kube.events");
const Gvr kEvents{"", "v1", "events", true};

constexpr size_t kCacheSize = 4096;
constexpr size_t kQueueSize = 1000;
constexpr double kSpamBurst = 25;
constexpr double kSpamQps = 1.0 / 300;
constexpr size_t kAggregateAfter = 10;
constexpr auto kAggregateWindow = std::chrono::seconds(600);

std::string Field(const json& obj, const char* section, const char* name) {
  if (!obj.contains(section) || !obj[section].is_object()) return "";
  const json& s = obj[section];
  return s.contains(name) && s[name].is_string() ? s[name].get<std::string>() : "";
}

}  // namespace

template <typename V>
V* EventRecorder::Lru<V>::Find(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second);  // most recently used first
  return &it->second->second;
}

template <typename V>
V& EventRecorder::Lru<V>::Put(const std::string& key, V value) {
  if (V* existing = Find(key)) return *existing = std::move(value);
  order_.emplace_front(key, std::move(value));
  index_[key] = order_.begin();
  if (order_.size() > kCacheSize) {
    index_.erase(order_.back().first);
    order_.pop_back();
  }
  return order_.front().second;
}

EventRecorder::EventRecorder(Client& client, core::Clock& clock, std::string component, std::string host)
    : client_(client), clock_(clock), component_(std::move(component)), host_(std::move(host)) {
  worker_ = std::jthread([this](std::stop_token stop) { Worker(stop); });
}

EventRecorder::~EventRecorder() {
  Flush();
  worker_.request_stop();
  cv_.notify_all();
}

int64_t EventRecorder::Dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

bool EventRecorder::AllowedBySpamFilter(const std::string& key, core::TimePoint now) {
  Bucket* b = spam_.Find(key);
  if (b == nullptr) b = &spam_.Put(key, Bucket{kSpamBurst, now});
  b->tokens = std::min(kSpamBurst, b->tokens + std::chrono::duration<double>(now - b->last).count() * kSpamQps);
  b->last = now;
  if (b->tokens < 1) return false;
  b->tokens -= 1;
  return true;
}

void EventRecorder::Event(const json& object, std::string_view type, std::string_view reason,
                          std::string_view message) {
  const core::TimePoint now = clock_.Now();
  json ref = {{"kind", object.value("kind", "")},
              {"apiVersion", object.value("apiVersion", "")},
              {"name", Field(object, "metadata", "name")},
              {"uid", Field(object, "metadata", "uid")},
              {"resourceVersion", Field(object, "metadata", "resourceVersion")}};
  std::string ns = Field(object, "metadata", "namespace");
  if (!ns.empty()) ref["namespace"] = ns;
  const std::string source_key = component_ + "\x1f" + host_ + "\x1f" + ref.value("kind", "") + "\x1f" + ns +
                                 "\x1f" + ref.value("name", "") + "\x1f" + ref.value("uid", "") + "\x1f" +
                                 ref.value("apiVersion", "");
  const std::string aggregate_key = source_key + "\x1f" + std::string(type) + "\x1f" + std::string(reason);
  std::string text(message);
  std::string dedup_key = aggregate_key + "\x1f" + text;
  {
    std::lock_guard lock(mu_);
    if (!AllowedBySpamFilter(source_key, now)) {
      ++dropped_;
      return;
    }
    Aggregate* agg = aggregates_.Find(aggregate_key);
    if (agg == nullptr || now - agg->first > kAggregateWindow) agg = &aggregates_.Put(aggregate_key, Aggregate{{}, now});
    agg->messages[text] = true;
    if (agg->messages.size() >= kAggregateAfter) {
      text = "(combined from similar events): " + text;
      dedup_key = aggregate_key;  // every further similar event counts on the one combined event
    }
    if (queue_.size() >= kQueueSize) {
      ++dropped_;
      return;
    }
    const std::string stamp = core::FormatRfc3339(now);
    // client-go names events <object>.<unix nanos in hex>; strictly increasing here so two
    // events in the same nanosecond (or on a fake clock) do not collide.
    const int64_t nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
    last_name_nanos_ = std::max(nanos, last_name_nanos_ + 1);
    char suffix[32];
    std::snprintf(suffix, sizeof(suffix), ".%llx", static_cast<unsigned long long>(last_name_nanos_));
    json event = {{"apiVersion", "v1"}, {"kind", "Event"},
                  {"metadata", {{"name", ref.value("name", "") + suffix}, {"namespace", ns.empty() ? "default" : ns}}},
                  {"involvedObject", ref}, {"type", type}, {"reason", reason}, {"message", text},
                  {"source", {{"component", component_}}}, {"count", 1},
                  {"firstTimestamp", stamp}, {"lastTimestamp", stamp}, {"reportingComponent", component_}};
    if (!host_.empty()) event["source"]["host"] = host_;
    queue_.push_back({std::move(event), std::move(dedup_key)});
  }
  cv_.notify_all();
}

void EventRecorder::Write(Pending p) {
  // Seen before: count it on the existing Event.
  if (Seen* seen = seen_.Find(p.dedup_key)) {
    json patch = {{"count", seen->count + 1},
                  {"lastTimestamp", p.event["lastTimestamp"]},
                  {"message", p.event["message"]}};
    auto patched = client_.Patch(kEvents, seen->namespace_, seen->name, PatchType::kMerge, patch);
    if (patched.ok()) {
      ++seen->count;
      return;
    }
    if (patched.status().code() != StatusCode::kNotFound) {
      kLog.Warn("updating an event failed", {{"error", patched.status().ToString()}});
      return;
    }
    // The Event expired or was deleted: create it again below.
  }
  const std::string ns = p.event["metadata"]["namespace"];
  auto created = client_.Create(kEvents, ns, p.event);
  if (!created.ok()) {
    kLog.Warn("writing an event failed", {{"reason", p.event.value("reason", "")}, {"error", created.status().ToString()}});
    return;
  }
  seen_.Put(p.dedup_key, Seen{ns, (*created)["metadata"].value("name", ""), 1});
}

void EventRecorder::Worker(std::stop_token stop) {
  while (true) {
    Pending next;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, stop, [&] { return !queue_.empty(); });
      if (queue_.empty()) return;  // stopped
      next = std::move(queue_.front());
      queue_.pop_front();
      ++in_flight_;
    }
    Write(std::move(next));
    {
      std::lock_guard lock(mu_);
      --in_flight_;
    }
    cv_.notify_all();
  }
}

void EventRecorder::Flush() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return queue_.empty() && in_flight_ == 0; });
}

}  // namespace gpufleet::kube
