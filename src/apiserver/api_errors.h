// Kubernetes Status error responses: one table from gpufleet Status codes to HTTP codes and
// metav1.Status reasons, plus the message shapes kubectl users know.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "apiserver/http.h"
#include "core/status.h"

namespace gpufleet::apiserver {

// What an error is about, for the Status "details" and message ("pods \"x\" not found").
struct ErrorSubject {
  std::string group;
  std::string kind;      // lowercase plural resource for messages, e.g. "pods"
  std::string name;
};

// Status code -> HTTP: InvalidArgument 400 BadRequest, FailedPrecondition 422 Invalid,
// NotFound 404, AlreadyExists 409 AlreadyExists, Aborted 409 Conflict, PermissionDenied 403,
// Unauthenticated 401, ResourceExhausted 429, Unimplemented 405 MethodNotAllowed,
// OutOfRange 410 Expired, Unavailable 503, DeadlineExceeded 504 Timeout, others 500.
HttpResponse ErrorResponse(const Status& status, const ErrorSubject& subject = {});
// The metav1.Status object itself (used in watch ERROR events too).
nlohmann::json StatusObject(const Status& status, const ErrorSubject& subject = {});
int HttpCodeFor(StatusCode code);

// Errors with Kubernetes' message text.
Status NotFoundFor(const ErrorSubject& s);       // pods "x" not found
Status AlreadyExistsFor(const ErrorSubject& s);  // pods "x" already exists
Status ConflictFor(const ErrorSubject& s);       // Operation cannot be fulfilled on pods "x": ...

}  // namespace gpufleet::apiserver
