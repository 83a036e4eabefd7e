// Status and Result<T>: gpufleet's one error type, returned across every module boundary.
//
// Codes follow gRPC/Abseil and are chosen by what the caller should do next:
//   kInvalidArgument   the input is wrong; fix it (bad quantity, bad YAML, bad selector).
//   kNotFound          the named thing does not exist.
//   kAlreadyExists     create of something that exists.
//   kAborted           a read-modify-write lost a race (e.g. resourceVersion conflict); redo it.
//   kFailedPrecondition the system is not in the state the call needs; wait or fix the state.
//   kOutOfRange        the value is well formed but outside what is supported.
//   kResourceExhausted a quota or capacity is used up (e.g. insufficient EC2 capacity).
//   kUnavailable       transient; retry with backoff.
//   kDeadlineExceeded, kCancelled, kUnauthenticated, kPermissionDenied, kUnimplemented,
//   kInternal (a bug), kDataLoss, kUnknown.
// Messages name the field and value at fault. Numeric values are persistent (they map to gRPC).
#pragma once

#include <cassert>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gpufleet {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// The canonical upper-snake name of a code, e.g. "INVALID_ARGUMENT".
std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  // OK. Costs one null pointer.
  Status() = default;
  Status(StatusCode code, std::string_view message);

  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  // Empty for OK.
  std::string_view message() const { return rep_ ? std::string_view(rep_->message) : ""; }
  // "INVALID_ARGUMENT: message", or "OK".
  std::string ToString() const;

  // Returns a status with the same code and "context: message". OK stays OK.
  Status WithContext(std::string_view context) const;

  // Explicitly discards the status (Abseil's IgnoreError): for calls whose failure is harmless.
  void IgnoreError() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<Rep> rep_;
};

std::ostream& operator<<(std::ostream& os, const Status& s);

inline Status OkStatus() { return Status(); }

// Constructors named by code, e.g. InvalidArgumentError("quantity \"1.2.3\": ...").
Status CancelledError(std::string_view message);
Status UnknownError(std::string_view message);
Status InvalidArgumentError(std::string_view message);
Status DeadlineExceededError(std::string_view message);
Status NotFoundError(std::string_view message);
Status AlreadyExistsError(std::string_view message);
Status PermissionDeniedError(std::string_view message);
Status ResourceExhaustedError(std::string_view message);
Status FailedPreconditionError(std::string_view message);
Status AbortedError(std::string_view message);
Status OutOfRangeError(std::string_view message);
Status UnimplementedError(std::string_view message);
Status InternalError(std::string_view message);
Status UnavailableError(std::string_view message);
Status DataLossError(std::string_view message);
Status UnauthenticatedError(std::string_view message);

inline bool IsInvalidArgument(const Status& s) { return s.code() == StatusCode::kInvalidArgument; }
inline bool IsNotFound(const Status& s) { return s.code() == StatusCode::kNotFound; }
inline bool IsAlreadyExists(const Status& s) { return s.code() == StatusCode::kAlreadyExists; }
inline bool IsAborted(const Status& s) { return s.code() == StatusCode::kAborted; }
inline bool IsFailedPrecondition(const Status& s) {
  return s.code() == StatusCode::kFailedPrecondition;
}
inline bool IsOutOfRange(const Status& s) { return s.code() == StatusCode::kOutOfRange; }
inline bool IsResourceExhausted(const Status& s) {
  return s.code() == StatusCode::kResourceExhausted;
}
inline bool IsUnavailable(const Status& s) { return s.code() == StatusCode::kUnavailable; }

// Result<T> holds either a T or a non-OK Status (like absl::StatusOr).
// REQUIRES: a Result is never built from an OK Status (that is an Internal error instead).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(const T& value) : v_(value) {}  // NOLINT: implicit by design, like StatusOr.
  Result(T&& value) : v_(std::move(value)) {}  // NOLINT
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) {
      v_ = InternalError("Result constructed from an OK status without a value");
    }
  }
  template <typename U>
    requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
             !std::is_same_v<std::decay_t<U>, Status> && !std::is_same_v<std::decay_t<U>, Result>)
  Result(U&& value) : v_(T(std::forward<U>(value))) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  // OK when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // REQUIRES: ok().
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Status> v_;
};

}  // namespace gpufleet

// Returns the status of `expr` from the enclosing function when it is not OK.
#define GF_RETURN_IF_ERROR(expr)                                 \
  do {                                                           \
    ::gpufleet::Status gf_status_ = (expr);                      \
    if (!gf_status_.ok()) return gf_status_;                     \
  } while (0)

#define GF_CONCAT_INNER_(a, b) a##b
#define GF_CONCAT_(a, b) GF_CONCAT_INNER_(a, b)
// `GF_ASSIGN_OR_RETURN(auto x, MakeX());` declares x from a Result or returns its error.
#define GF_ASSIGN_OR_RETURN(lhs, expr) \
  GF_ASSIGN_OR_RETURN_IMPL_(GF_CONCAT_(gf_result_, __LINE__), lhs, expr)
#define GF_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                              \
  if (!result.ok()) return result.status();          \
  lhs = std::move(result).value()
