// InternedString: an immutable string stored once per process and shared by reference.
//
// Why: informer caches and the scheduler hold the same few thousand strings millions of times
// (label keys and values, namespaces, images, node names, owner references). A std::string is
// 32 bytes plus a heap block for anything over 15 characters; an InternedString is one pointer
// to a shared, reference-counted entry, and equality is a pointer comparison.
//
// Semantics are a std::string's that cannot be modified in place: assign a new value instead.
// The empty string needs no entry (a null pointer). Ordering and hashing are by content, so
// sorted containers order as they would with std::string; `hash()` is precomputed.
//
// Entries live in a process-wide table, sharded by hash, and are freed when the last reference
// goes. Lookup (construction from text) takes a shard lock; copies and destruction are atomic
// reference counts, taking the lock only when a count may reach zero. Thread-safe; no
// exceptions beyond std::bad_alloc.
//
// Not for strings unique to one object (names, UIDs, resourceVersions, timestamps): those gain
// nothing from sharing and would pay for a table slot.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>
#include <type_traits>

#include <fmt/format.h>
#include <nlohmann/json_fwd.hpp>

namespace gpufleet::core {

class InternedString;

// Text a comparison with an InternedString accepts (std::string, string_view, const char*).
template <typename T>
concept StringLike = std::is_convertible_v<const T&, std::string_view> &&
                     !std::is_same_v<std::remove_cvref_t<T>, InternedString>;

class InternedString {
 public:
  InternedString() noexcept = default;
  // Implicit, so that `labels["app"] = "web"` and brace-initialised views read naturally.
  InternedString(std::string_view text);  // NOLINT(google-explicit-constructor)
  InternedString(const char* text) : InternedString(std::string_view(text)) {}  // NOLINT
  InternedString(const std::string& text) : InternedString(std::string_view(text)) {}  // NOLINT

  InternedString(const InternedString& other) noexcept;
  InternedString(InternedString&& other) noexcept : entry_(other.entry_) { other.entry_ = nullptr; }
  InternedString& operator=(const InternedString& other) noexcept;
  InternedString& operator=(InternedString&& other) noexcept;
  ~InternedString();

  std::string_view view() const noexcept;
  operator std::string_view() const noexcept { return view(); }  // NOLINT
  std::string str() const { return std::string(view()); }
  // NUL-terminated; "" when empty.
  const char* c_str() const noexcept;
  const char* data() const noexcept { return c_str(); }
  size_t size() const noexcept;
  bool empty() const noexcept { return entry_ == nullptr; }
  // The content's hash (std::hash<std::string_view>), computed once at interning.
  size_t hash() const noexcept;

  // Same content means same entry, so equality is a pointer comparison.
  friend bool operator==(const InternedString& a, const InternedString& b) noexcept {
    return a.entry_ == b.entry_;
  }
  friend std::strong_ordering operator<=>(const InternedString& a, const InternedString& b) noexcept {
    if (a.entry_ == b.entry_) return std::strong_ordering::equal;
    return a.view().compare(b.view()) <=> 0;
  }
  template <StringLike T>
  friend bool operator==(const InternedString& a, const T& b) noexcept {
    return a.view() == std::string_view(b);
  }
  template <StringLike T>
  friend std::strong_ordering operator<=>(const InternedString& a, const T& b) noexcept {
    return a.view().compare(std::string_view(b)) <=> 0;
  }

  // How many distinct non-empty strings are interned now (for tests and metrics).
  static size_t LiveEntries();

  struct Entry;  // the shared block (interned_string.cc)

 private:
  static void Release(Entry* entry) noexcept;

  Entry* entry_ = nullptr;
};

std::ostream& operator<<(std::ostream& os, const InternedString& s);
inline std::string operator+(const std::string& a, const InternedString& b) { return a + std::string(b.view()); }
inline std::string operator+(const InternedString& a, const std::string& b) { return a.str() + b; }
inline std::string operator+(const char* a, const InternedString& b) { return a + b.str(); }
inline std::string operator+(const InternedString& a, const char* b) { return a.str() + b; }

// JSON strings (found by argument-dependent lookup).
void to_json(nlohmann::json& j, const InternedString& s);
void from_json(const nlohmann::json& j, InternedString& s);

}  // namespace gpufleet::core

template <>
struct std::hash<gpufleet::core::InternedString> {
  size_t operator()(const gpufleet::core::InternedString& s) const noexcept { return s.hash(); }
};

template <>
struct fmt::formatter<gpufleet::core::InternedString> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const gpufleet::core::InternedString& s, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(s.view(), ctx);
  }
};
