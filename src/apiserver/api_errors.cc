#include "apiserver/api_errors.h"

namespace gpufleet::apiserver {
namespace {

std::string_view ReasonFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return "BadRequest";
    case StatusCode::kFailedPrecondition: return "Invalid";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kAborted: return "Conflict";
    case StatusCode::kPermissionDenied: return "Forbidden";
    case StatusCode::kUnauthenticated: return "Unauthorized";
    case StatusCode::kResourceExhausted: return "TooManyRequests";
    case StatusCode::kUnimplemented: return "MethodNotAllowed";
    case StatusCode::kOutOfRange: return "Expired";
    case StatusCode::kUnavailable: return "ServiceUnavailable";
    case StatusCode::kDeadlineExceeded: return "Timeout";
    default: return "InternalError";
  }
}

std::string Quoted(const ErrorSubject& s) {
  std::string what = s.kind;
  if (!s.group.empty()) what += "." + s.group;
  return what + " \"" + s.name + "\"";
}

}  // namespace

int HttpCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kFailedPrecondition: return 422;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kAborted: return 409;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnimplemented: return 405;
    case StatusCode::kOutOfRange: return 410;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

nlohmann::json StatusObject(const Status& status, const ErrorSubject& subject) {
  nlohmann::json j = {{"kind", "Status"},
                      {"apiVersion", "v1"},
                      {"metadata", nlohmann::json::object()},
                      {"status", "Failure"},
                      {"message", status.message()},
                      {"reason", ReasonFor(status.code())},
                      {"code", HttpCodeFor(status.code())}};
  if (!subject.kind.empty() || !subject.name.empty()) {
    nlohmann::json details = nlohmann::json::object();
    if (!subject.name.empty()) details["name"] = subject.name;
    if (!subject.group.empty()) details["group"] = subject.group;
    if (!subject.kind.empty()) details["kind"] = subject.kind;
    j["details"] = details;
  }
  return j;
}

HttpResponse ErrorResponse(const Status& status, const ErrorSubject& subject) {
  HttpResponse r;
  r.status = HttpCodeFor(status.code());
  r.body = StatusObject(status, subject).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Status NotFoundFor(const ErrorSubject& s) { return NotFoundError(Quoted(s) + " not found"); }
Status AlreadyExistsFor(const ErrorSubject& s) {
  return AlreadyExistsError(Quoted(s) + " already exists");
}
Status ConflictFor(const ErrorSubject& s) {
  return AbortedError("Operation cannot be fulfilled on " + Quoted(s) +
                      ": the object has been modified; please apply your changes to the latest "
                      "version and try again");
}

}  // namespace gpufleet::apiserver
