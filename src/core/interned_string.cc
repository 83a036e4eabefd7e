#include "core/interned_string.h"

#include <array>
#include <atomic>
#include <cstring>
#include <limits>
#include <mutex>
#include <new>
#include <unordered_set>

#include <nlohmann/json.hpp>

namespace gpufleet::core {

// One interned string: a header and the NUL-terminated text in the same block.
struct InternedString::Entry {
  std::atomic<uint32_t> refs;
  uint32_t size;
  size_t hash;
  char text[1];  // size + 1 bytes are allocated

  static Entry* Create(std::string_view s, size_t hash) {
    void* block = ::operator new(offsetof(Entry, text) + s.size() + 1);
    auto* e = static_cast<Entry*>(block);
    new (&e->refs) std::atomic<uint32_t>(1);
    e->size = static_cast<uint32_t>(s.size());
    e->hash = hash;
    std::memcpy(e->text, s.data(), s.size());
    e->text[s.size()] = '\0';
    return e;
  }
  static void Destroy(Entry* e) { ::operator delete(e); }
  std::string_view view() const { return {text, size}; }
};

namespace {

using Entry = InternedString::Entry;

// A lookup key with its hash computed once.
struct Probe {
  std::string_view text;
  size_t hash;
};

struct EntryHash {
  using is_transparent = void;
  size_t operator()(const Entry* e) const noexcept { return e->hash; }
  size_t operator()(const Probe& p) const noexcept { return p.hash; }
};

struct EntryEq {
  using is_transparent = void;
  bool operator()(const Entry* a, const Entry* b) const noexcept { return a == b; }
  bool operator()(const Probe& p, const Entry* e) const noexcept { return p.text == e->view(); }
  bool operator()(const Entry* e, const Probe& p) const noexcept { return p.text == e->view(); }
};

struct alignas(64) Shard {
  std::mutex mu;
  std::unordered_set<Entry*, EntryHash, EntryEq> entries;
};

constexpr size_t kShards = 32;

// Never destroyed: InternedStrings in other static objects may outlive any destructor order.
std::array<Shard, kShards>& Shards() {
  static auto* shards = new std::array<Shard, kShards>();
  return *shards;
}

Shard& ShardFor(size_t hash) { return Shards()[(hash >> 7) % kShards]; }

}  // namespace

InternedString::InternedString(std::string_view text) {
  if (text.empty()) return;
  if (text.size() > std::numeric_limits<uint32_t>::max()) throw std::bad_alloc();
  const size_t hash = std::hash<std::string_view>()(text);
  Shard& shard = ShardFor(hash);
  std::lock_guard lock(shard.mu);
  auto it = shard.entries.find(Probe{text, hash});
  if (it != shard.entries.end()) {
    // Under the shard lock no count can reach zero, so an entry found here is alive.
    (*it)->refs.fetch_add(1, std::memory_order_relaxed);
    entry_ = *it;
    return;
  }
  entry_ = Entry::Create(text, hash);
  shard.entries.insert(entry_);
}

InternedString::InternedString(const InternedString& other) noexcept : entry_(other.entry_) {
  if (entry_ != nullptr) entry_->refs.fetch_add(1, std::memory_order_relaxed);
}

InternedString& InternedString::operator=(const InternedString& other) noexcept {
  if (entry_ == other.entry_) return *this;
  if (other.entry_ != nullptr) other.entry_->refs.fetch_add(1, std::memory_order_relaxed);
  Release(entry_);
  entry_ = other.entry_;
  return *this;
}

InternedString& InternedString::operator=(InternedString&& other) noexcept {
  if (this == &other) return *this;
  Release(entry_);
  entry_ = other.entry_;
  other.entry_ = nullptr;
  return *this;
}

InternedString::~InternedString() { Release(entry_); }

void InternedString::Release(Entry* entry) noexcept {
  if (entry == nullptr) return;
  // Fast path: not the last reference, so no lock.
  uint32_t refs = entry->refs.load(std::memory_order_relaxed);
  while (refs > 1) {
    if (entry->refs.compare_exchange_weak(refs, refs - 1, std::memory_order_acq_rel)) return;
  }
  // Possibly the last: decide under the lock, where a lookup cannot hand it out meanwhile.
  Shard& shard = ShardFor(entry->hash);
  std::lock_guard lock(shard.mu);
  if (entry->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    shard.entries.erase(entry);
    Entry::Destroy(entry);
  }
}

std::string_view InternedString::view() const noexcept {
  return entry_ == nullptr ? std::string_view() : entry_->view();
}

const char* InternedString::c_str() const noexcept { return entry_ == nullptr ? "" : entry_->text; }

size_t InternedString::size() const noexcept { return entry_ == nullptr ? 0 : entry_->size; }

size_t InternedString::hash() const noexcept {
  return entry_ == nullptr ? std::hash<std::string_view>()(std::string_view()) : entry_->hash;
}

size_t InternedString::LiveEntries() {
  size_t n = 0;
  for (Shard& shard : Shards()) {
    std::lock_guard lock(shard.mu);
    n += shard.entries.size();
  }
  return n;
}

std::ostream& operator<<(std::ostream& os, const InternedString& s) { return os << s.view(); }

void to_json(nlohmann::json& j, const InternedString& s) { j = std::string(s.view()); }

void from_json(const nlohmann::json& j, InternedString& s) {
  s = InternedString(j.get_ref<const std::string&>());
}

}  // namespace gpufleet::core
