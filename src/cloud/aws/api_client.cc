#include "cloud/aws/api_client.h"

#include <algorithm>
#include <set>

#include "cloud/aws/sigv4.h"
#include "core/log.h"

namespace gpufleet::cloud::aws {

namespace {

const core::log::Logger kLog("aws");

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

AwsError ParseXmlError(long status, const std::string& body) {
  AwsError error{.http_status = status};
  pugi::xml_document doc;
  if (doc.load_buffer(body.data(), body.size())) {
    // EC2: <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>
    // STS/IAM style: <ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>
    pugi::xml_node root = doc.first_child();
    pugi::xml_node e = root.child("Errors").child("Error");
    if (!e) e = root.child("Error");
    error.code = e.child_value("Code");
    error.message = e.child_value("Message");
    error.request_id = root.child_value("RequestID");
    if (error.request_id.empty()) error.request_id = root.child_value("RequestId");
  }
  if (error.code.empty()) {
    error.code = status >= 500 ? "InternalError" : "HttpError" + std::to_string(status);
    error.message = "HTTP " + std::to_string(status) + " without an AWS error document";
  }
  return error;
}

AwsError ParseJsonError(long status, const std::string& body) {
  AwsError error{.http_status = status};
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object()) {
    std::string type = j.value("__type", "");
    if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
    error.code = type;
    error.message = j.contains("message") ? j.value("message", "") : j.value("Message", "");
  }
  if (error.code.empty()) {
    error.code = status >= 500 ? "InternalError" : "HttpError" + std::to_string(status);
    error.message = "HTTP " + std::to_string(status) + " without an AWS error document";
  }
  return error;
}

std::string FormEncode(std::string_view s) { return UriEncode(s, true); }

}  // namespace

bool IsThrottling(std::string_view code) {
  static const std::set<std::string, std::less<>> kCodes = {
      "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
      "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
      "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
      "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException"};
  return kCodes.contains(code);
}

bool IsCapacityError(std::string_view code) {
  static const std::set<std::string, std::less<>> kCodes = {
      "InsufficientInstanceCapacity", "InsufficientCapacityOnHost", "InsufficientHostCapacity",
      "InsufficientReservedInstanceCapacity", "ReservationCapacityExceeded", "UnfulfillableCapacity",
      "MaxSpotInstanceCountExceeded", "InsufficientFreeAddressesInSubnet", "VcpuLimitExceeded",
      "InstanceLimitExceeded", "SpotMaxPriceTooLow", "Unsupported"};
  return kCodes.contains(code);
}

StatusCode StatusCodeFor(const AwsError& error) {
  const std::string& code = error.code;
  if (IsThrottling(code)) return StatusCode::kUnavailable;
  if (IsCapacityError(code)) return StatusCode::kResourceExhausted;
  static const std::set<std::string, std::less<>> kAuth = {
      "AuthFailure", "InvalidClientTokenId", "SignatureDoesNotMatch", "MissingAuthenticationToken",
      "IncompleteSignature", "ExpiredToken", "ExpiredTokenException", "RequestExpired", "UnrecognizedClientException",
      "InvalidSignatureException", "OptInRequired", "Blocked"};
  if (kAuth.contains(code)) return StatusCode::kUnauthenticated;
  if (code == "UnauthorizedOperation" || code == "AccessDenied" || code == "AccessDeniedException") {
    return StatusCode::kPermissionDenied;
  }
  if (EndsWith(code, ".NotFound") || EndsWith(code, "NotFoundException") || code == "ParameterNotFound" ||
      code == "InvalidInstanceID.NotFound") {
    return StatusCode::kNotFound;
  }
  if (code == "IdempotentParameterMismatch") return StatusCode::kFailedPrecondition;
  if (code == "InternalError" || code == "InternalFailure" || code == "ServiceUnavailable" ||
      code == "Unavailable" || code == "InternalServerError" || error.http_status >= 500) {
    return StatusCode::kUnavailable;
  }
  return StatusCode::kInvalidArgument;  // InvalidParameterValue, MissingParameter, UnknownParameter, ...
}

Status ToStatus(std::string_view service, std::string_view action, const AwsError& error) {
  std::string message = std::string(service) + " " + std::string(action) + ": " + error.code + ": " + error.message;
  if (!error.request_id.empty()) message += " (request " + error.request_id + ")";
  return Status(StatusCodeFor(error), message);
}

QueryParams& QueryParams::Add(std::string name, std::string value) {
  items_.emplace_back(std::move(name), std::move(value));
  return *this;
}

QueryParams& QueryParams::AddList(const std::string& name, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) Add(name + "." + std::to_string(i + 1), values[i]);
  return *this;
}

QueryParams& QueryParams::AddFilter(const std::string& name, const std::vector<std::string>& values) {
  const std::string prefix = "Filter." + std::to_string(++filters_);
  Add(prefix + ".Name", name);
  return AddList(prefix + ".Value", values);
}

std::string QueryParams::Encode() const {
  std::string out;
  for (const auto& [k, v] : items_) {
    if (!out.empty()) out += '&';
    out += FormEncode(k) + "=" + FormEncode(v);
  }
  return out;
}

ApiClient::ApiClient(ApiClientOptions options)
    : options_(std::move(options)), clock_(options_.clock ? options_.clock : &core::RealClock()),
      rng_(std::random_device{}()) {
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/') options_.endpoint.pop_back();
}

std::chrono::milliseconds ApiClient::Backoff(int attempt) {
  // Full jitter: uniform in [0, min(cap, base * 2^attempt)).
  const double ceiling = std::min<double>(double(options_.backoff_cap.count()),
                                          double(options_.backoff_base.count()) * double(1LL << std::min(attempt, 20)));
  double r;
  if (options_.jitter) {
    r = options_.jitter();
  } else {
    std::lock_guard lock(rng_mu_);
    r = std::uniform_real_distribution<double>(0, 1)(rng_);
  }
  return std::chrono::milliseconds(int64_t(ceiling * r));
}

Result<ApiClient::Answer> ApiClient::Send(std::string_view action, HttpRequest request,
                                          const std::function<AwsError(long, const std::string&)>& parse_error,
                                          int* attempts) {
  Status last = OkStatus();
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempts != nullptr) *attempts = attempt + 1;
    if (attempt > 0) clock_->SleepFor(Backoff(attempt));
    if (options_.credentials == nullptr) return UnauthenticatedError("no AWS credentials provider configured");
    GF_ASSIGN_OR_RETURN(Credentials credentials, options_.credentials->Get());
    HttpRequest signed_request = request;
    SignRequest(signed_request, credentials, options_.region, options_.service, clock_->Now());
    auto response = options_.http->Send(signed_request);
    if (!response.ok()) {
      // No answer: the network or the endpoint. Retried; idempotency tokens make that safe.
      last = response.status();
      kLog.Debug("request failed; retrying", {{"action", action}, {"attempt", attempt + 1}, {"error", last}});
      continue;
    }
    Answer answer{.status = response->status, .body = std::move(response->body)};
    if (answer.status >= 200 && answer.status < 300) return answer;
    AwsError error = parse_error(answer.status, answer.body);
    const bool retry = IsThrottling(error.code) ||
                       (StatusCodeFor(error) == StatusCode::kUnavailable && !IsCapacityError(error.code));
    if (!retry || attempt + 1 == options_.max_attempts) {
      answer.error = std::move(error);
      return answer;
    }
    kLog.Debug("AWS error; retrying", {{"action", action}, {"attempt", attempt + 1}, {"code", error.code}});
  }
  return last;
}

Result<std::shared_ptr<pugi::xml_document>> ApiClient::Query(std::string_view action, const QueryParams& params,
                                                             int* attempts) {
  HttpRequest request;
  request.method = "POST";
  request.url = options_.endpoint + "/";
  request.timeout = options_.timeout;
  QueryParams all;
  all.Add("Action", std::string(action)).Add("Version", "2016-11-15");
  for (const auto& [k, v] : params.items()) all.Add(k, v);
  request.body = all.Encode();
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                     {"User-Agent", options_.user_agent}};
  GF_ASSIGN_OR_RETURN(Answer answer, Send(action, std::move(request), ParseXmlError, attempts));
  if (answer.error) return ToStatus(options_.service == "ec2" ? "EC2" : options_.service, action, *answer.error);
  auto doc = std::make_shared<pugi::xml_document>();
  if (!doc->load_buffer(answer.body.data(), answer.body.size())) {
    return DataLossError("EC2 " + std::string(action) + ": the response is not XML");
  }
  return doc;
}

Status ApiClient::QueryPages(std::string_view action, const QueryParams& params,
                             const std::function<Status(const pugi::xml_node&)>& on_page, int max_pages) {
  std::string token;
  for (int page = 0; page < max_pages; ++page) {
    QueryParams p = params;
    if (!token.empty()) p.Add("NextToken", token);
    GF_ASSIGN_OR_RETURN(auto doc, Query(action, p));
    pugi::xml_node response = doc->first_child();
    GF_RETURN_IF_ERROR(on_page(response));
    std::string next = response.child_value("nextToken");
    if (next.empty()) return OkStatus();
    if (next == token) return DataLossError("EC2 " + std::string(action) + ": the same NextToken came back twice");
    token = std::move(next);
  }
  return OutOfRangeError("EC2 " + std::string(action) + ": more than " + std::to_string(max_pages) + " pages");
}

Result<nlohmann::json> ApiClient::Json(std::string_view target_prefix, std::string_view action,
                                       const nlohmann::json& body) {
  HttpRequest request;
  request.method = "POST";
  request.url = options_.endpoint + "/";
  request.timeout = options_.timeout;
  request.body = body.dump();
  request.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                     {"X-Amz-Target", std::string(target_prefix) + "." + std::string(action)},
                     {"User-Agent", options_.user_agent}};
  GF_ASSIGN_OR_RETURN(Answer answer, Send(action, std::move(request), ParseJsonError, nullptr));
  if (answer.error) return ToStatus(options_.service == "ssm" ? "SSM" : options_.service, action, *answer.error);
  auto j = nlohmann::json::parse(answer.body, nullptr, false);
  if (j.is_discarded()) return DataLossError(std::string(action) + ": the response is not JSON");
  return j;
}

std::string Text(const pugi::xml_node& node, const char* child) { return node.child_value(child); }

std::vector<pugi::xml_node> Items(const pugi::xml_node& node, const char* set) {
  std::vector<pugi::xml_node> out;
  for (pugi::xml_node item : node.child(set).children("item")) out.push_back(item);
  return out;
}

}  // namespace gpufleet::cloud::aws
