// The EC2 Query protocol as a server sees it: flat form parameters ("Filter.1.Value.2=x") turned
// into a tree, resources held as JSON in their XML wire shape (element names as EC2 writes them:
// "instanceId", "tagSet": [{"key","value"}]) and written out as EC2's XML, and AWS-shaped errors.
//
// Holding resources in the wire shape keeps one source of truth: what is stored is exactly what
// describe calls return, so a field added to a resource appears in every response without a
// second serialiser to keep in step.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/clock.h"
#include "core/status.h"

namespace gpufleet::cloud::ec2emu {

inline constexpr std::string_view kEc2Xmlns = "http://ec2.amazonaws.com/doc/2016-11-15/";

using FormParams = std::map<std::string, std::string, std::less<>>;

// {"Filter.1.Name": "state", "Filter.1.Value.1": "active"} -> {"Filter": [{"Name": "state",
// "Value": ["active"]}]}. Numeric components are 1-based list indexes (gaps are closed up, order
// kept). Fails naming the parameter when a name is both a value and a structure, or mixes list
// indexes with member names.
Result<nlohmann::json> ParamsToTree(const FormParams& params);

// An EC2 error: HTTP status, code and message, as AWS sends them. Handlers throw it; the
// dispatcher turns it into the error document (it never leaves the emulator).
struct ApiError {
  int http_status = 400;
  std::string code;
  std::string message;
};
ApiError InvalidParameterValue(std::string message);
ApiError MissingParameter(std::string_view parameter);
ApiError UnknownParameter(std::string_view parameter);

// The XML body of an EC2 response: <ActionResponse xmlns=...><requestId>..</requestId>..., with
// `result` written member by member: objects become child elements, arrays become <item>
// children, booleans "true"/"false", numbers as written; null members and members whose name
// starts with '_' (the emulator's own bookkeeping) are left out.
std::string ResponseXml(std::string_view action, std::string_view request_id,
                        const nlohmann::json& result);
// EC2's error document: <Response><Errors><Error><Code>..</Code><Message>..</Message></Error>
// </Errors><RequestID>..</RequestID></Response>.
std::string ErrorXml(const ApiError& error, std::string_view request_id);

// A fingerprint of a request's parameters: the same ClientToken with other parameters is
// IdempotentParameterMismatch.
std::string ParamsHash(const nlohmann::json& params);

// EC2 timestamps: 2026-12-06T20:15:00.000Z.
std::string Ec2Time(core::TimePoint t);

// Reads a parameter tree value as EC2 would: integers and booleans from their text forms; a
// malformed value throws InvalidParameterValue naming `key`.
long long IntParam(const nlohmann::json& tree, std::string_view key, long long fallback);
bool BoolParam(const nlohmann::json& tree, std::string_view key, bool fallback);
std::string StringParam(const nlohmann::json& tree, std::string_view key);
// A list parameter ("InstanceId.N") as strings; empty when absent.
std::vector<std::string> StringListParam(const nlohmann::json& tree, std::string_view key);

// Tags in the wire shape ([{"key","value"}]) from TagSpecification.N for `resource_type`.
nlohmann::json TagsFor(const nlohmann::json& tree, std::string_view resource_type);

}  // namespace gpufleet::cloud::ec2emu
