// ApiClient: one AWS service endpoint (EC2's Query API with XML answers, or a JSON-protocol
// service such as SSM), with SigV4 on every attempt, throttling and 5xx retries with full-jitter
// exponential backoff (the SDKs' "standard" mode), and every AWS error turned into a typed Status
// (see cloud_provider.h for what each code means to the provisioner).
//
// Throttling and server errors are retried; InsufficientInstanceCapacity (which EC2 sends as a
// 500) never is: it is an answer about capacity, and the caller must try another pool.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <pugixml.hpp>

#include "cloud/aws/credentials.h"
#include "cloud/aws/http_client.h"
#include "core/clock.h"
#include "core/status.h"

namespace gpufleet::cloud::aws {

// An error as AWS sent it.
struct AwsError {
  long http_status = 0;
  std::string code;
  std::string message;
  std::string request_id;
};

// The StatusCode for an AWS error code: throttling and server errors kUnavailable; capacity
// (InsufficientInstanceCapacity, ReservationCapacityExceeded, ...) kResourceExhausted; AuthFailure
// and friends kUnauthenticated; UnauthorizedOperation kPermissionDenied; *.NotFound kNotFound;
// malformed or invalid parameters kInvalidArgument.
StatusCode StatusCodeFor(const AwsError& error);
// "EC2 CreateFleet: InsufficientInstanceCapacity: <message> (request <id>)" with StatusCodeFor.
Status ToStatus(std::string_view service, std::string_view action, const AwsError& error);
bool IsThrottling(std::string_view code);
bool IsCapacityError(std::string_view code);

struct ApiClientOptions {
  std::string service;   // signing name: "ec2", "ssm"
  std::string region;
  std::string endpoint;  // "https://ec2.us-west-2.amazonaws.com" or an override
  CredentialsProvider* credentials = nullptr;  // must outlive the client
  HttpClient* http = nullptr;                  // must outlive the client
  core::Clock* clock = nullptr;                // default: real clock
  int max_attempts = 5;
  std::chrono::milliseconds backoff_base{100};
  std::chrono::milliseconds backoff_cap{std::chrono::seconds(20)};
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  std::string user_agent = "gpufleet";
  std::function<double()> jitter;  // uniform [0,1); default: a seeded PRNG
};

// EC2 Query parameters in the order they are added ("Filter.1.Name", ...).
class QueryParams {
 public:
  QueryParams& Add(std::string name, std::string value);
  // name.1, name.2, ...
  QueryParams& AddList(const std::string& name, const std::vector<std::string>& values);
  // Filter.N.Name / Filter.N.Value.M, numbering after any filters already added.
  QueryParams& AddFilter(const std::string& name, const std::vector<std::string>& values);
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  std::string Encode() const;  // application/x-www-form-urlencoded

 private:
  std::vector<std::pair<std::string, std::string>> items_;
  int filters_ = 0;
};

class ApiClient {
 public:
  explicit ApiClient(ApiClientOptions options);

  // One EC2 Query API call (POST, Version 2016-11-15). The parsed XML of a 2xx answer; an
  // AWS error as a Status (see ToStatus). `attempts` (optional) reports sends made.
  Result<std::shared_ptr<pugi::xml_document>> Query(std::string_view action, const QueryParams& params,
                                                    int* attempts = nullptr);
  // Calls `action` until no nextToken remains, handing each page's response element to on_page.
  Status QueryPages(std::string_view action, const QueryParams& params,
                    const std::function<Status(const pugi::xml_node& response)>& on_page, int max_pages = 10000);
  // One JSON-protocol call (X-Amz-Target: <target_prefix>.<action>, application/x-amz-json-1.1).
  Result<nlohmann::json> Json(std::string_view target_prefix, std::string_view action, const nlohmann::json& body);

  const ApiClientOptions& options() const { return options_; }

 private:
  struct Answer {
    long status = 0;
    std::string body;
    std::optional<AwsError> error;
  };
  // Sends with signing and retries; `parse_error` reads an AWS error from a non-2xx body.
  Result<Answer> Send(std::string_view action, HttpRequest request,
                      const std::function<AwsError(long status, const std::string& body)>& parse_error, int* attempts);
  std::chrono::milliseconds Backoff(int attempt);

  ApiClientOptions options_;
  core::Clock* clock_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
};

// Text of a child element ("" when absent): Text(item, "instanceId").
std::string Text(const pugi::xml_node& node, const char* child);
// The <item> children of `node`'s child `set`.
std::vector<pugi::xml_node> Items(const pugi::xml_node& node, const char* set);

}  // namespace gpufleet::cloud::aws
