#include "cloud/cloud_provider.h"

namespace gpufleet::cloud {

ErrorKind Classify(const Status& status) {
  switch (status.code()) {
    case StatusCode::kResourceExhausted:
      return ErrorKind::kInsufficientCapacity;
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kAborted:
      return ErrorKind::kRetryable;
    case StatusCode::kUnauthenticated:
    case StatusCode::kPermissionDenied:
      return ErrorKind::kUnauthorized;
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition:
    case StatusCode::kOutOfRange:
      return ErrorKind::kInvalidConfiguration;
    case StatusCode::kNotFound:
      return ErrorKind::kNotFound;
    default:
      return ErrorKind::kOther;
  }
}

std::string_view ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kRetryable: return "retryable";
    case ErrorKind::kInsufficientCapacity: return "insufficient-capacity";
    case ErrorKind::kUnauthorized: return "unauthorized";
    case ErrorKind::kInvalidConfiguration: return "invalid-configuration";
    case ErrorKind::kNotFound: return "not-found";
    case ErrorKind::kOther: return "other";
  }
  return "other";
}

}  // namespace gpufleet::cloud
