#include "cloud/ec2emu/service.h"

#include <cstdio>

#include "apiserver/protobuf_json.h"
#include "core/log.h"
#include "core/time_format.h"

namespace gpufleet::cloud::ec2emu {

namespace {

using nlohmann::json;

const core::log::Logger kLog("ec2emu");

// Parameters every action accepts.
const std::set<std::string, std::less<>> kCommon = {"DryRun"};

std::set<std::string, std::less<>> With(std::initializer_list<const char*> names) {
  std::set<std::string, std::less<>> out(kCommon);
  for (const char* n : names) out.insert(n);
  return out;
}

}  // namespace

const std::map<std::string, Ec2Service::Action, std::less<>>& Ec2Service::Actions() {
  static const std::map<std::string, Action, std::less<>> kActions = {
      {"DescribeInstanceTypes", {&Ec2Service::DescribeInstanceTypes, With({"InstanceType", "Filter", "MaxResults", "NextToken"})}},
      {"DescribeInstanceTypeOfferings",
       {&Ec2Service::DescribeInstanceTypeOfferings, With({"LocationType", "Filter", "MaxResults", "NextToken"})}},
      {"DescribeSpotPriceHistory",
       {&Ec2Service::DescribeSpotPriceHistory,
        With({"InstanceType", "ProductDescription", "AvailabilityZone", "StartTime", "EndTime", "Filter", "MaxResults",
              "NextToken"})}},
      {"DescribeAvailabilityZones",
       {&Ec2Service::DescribeAvailabilityZones, With({"ZoneName", "ZoneId", "AllAvailabilityZones", "Filter"})}},
      {"DescribeSubnets", {&Ec2Service::DescribeSubnets, With({"SubnetId", "Filter", "MaxResults", "NextToken"})}},
      {"DescribeSecurityGroups",
       {&Ec2Service::DescribeSecurityGroups, With({"GroupId", "GroupName", "Filter", "MaxResults", "NextToken"})}},
      {"DescribeVpcs", {&Ec2Service::DescribeVpcs, With({"VpcId", "Filter", "MaxResults", "NextToken"})}},
      {"DescribeImages",
       {&Ec2Service::DescribeImages,
        With({"ImageId", "Owner", "ExecutableBy", "Filter", "IncludeDeprecated", "IncludeDisabled", "MaxResults",
              "NextToken"})}},
      {"DescribeCapacityReservations",
       {&Ec2Service::DescribeCapacityReservations, With({"CapacityReservationId", "Filter", "MaxResults", "NextToken"})}},
      {"CreateCapacityReservation",
       {&Ec2Service::CreateCapacityReservation,
        With({"ClientToken", "InstanceType", "InstancePlatform", "AvailabilityZone", "AvailabilityZoneId", "Tenancy",
              "InstanceCount", "EbsOptimized", "EphemeralStorage", "EndDate", "EndDateType", "InstanceMatchCriteria",
              "TagSpecifications", "TagSpecification"})}},
      {"CancelCapacityReservation", {&Ec2Service::CancelCapacityReservation, With({"CapacityReservationId"})}},
      {"DescribeCapacityBlockOfferings",
       {&Ec2Service::DescribeCapacityBlockOfferings,
        With({"InstanceType", "InstanceCount", "StartDateRange", "EndDateRange", "CapacityDurationHours", "NextToken",
              "MaxResults", "UltraserverType", "UltraserverCount", "AllAvailabilityZones"})}},
      {"PurchaseCapacityBlock",
       {&Ec2Service::PurchaseCapacityBlock, With({"TagSpecification", "CapacityBlockOfferingId", "InstancePlatform"})}},
      {"CreateLaunchTemplate",
       {&Ec2Service::CreateLaunchTemplate,
        With({"ClientToken", "LaunchTemplateName", "VersionDescription", "LaunchTemplateData", "TagSpecification"})}},
      {"DeleteLaunchTemplate", {&Ec2Service::DeleteLaunchTemplate, With({"LaunchTemplateId", "LaunchTemplateName"})}},
      {"DescribeLaunchTemplates",
       {&Ec2Service::DescribeLaunchTemplates,
        With({"LaunchTemplateId", "LaunchTemplateName", "Filter", "MaxResults", "NextToken"})}},
      {"RunInstances",
       {&Ec2Service::RunInstances,
        With({"BlockDeviceMapping", "ImageId", "InstanceType", "Ipv6AddressCount", "Ipv6Address", "KernelId", "KeyName",
              "MaxCount", "MinCount", "Monitoring", "Placement", "RamdiskId", "SecurityGroupId", "SecurityGroup",
              "SubnetId", "UserData", "AdditionalInfo", "ClientToken", "DisableApiTermination", "EbsOptimized",
              "IamInstanceProfile", "InstanceInitiatedShutdownBehavior", "NetworkInterface", "PrivateIpAddress",
              "ElasticGpuSpecification", "ElasticInferenceAccelerator", "TagSpecification", "LaunchTemplate",
              "InstanceMarketOptions", "CreditSpecification", "CpuOptions", "CapacityReservationSpecification",
              "HibernationOptions", "LicenseSpecification", "MetadataOptions", "EnclaveOptions", "PrivateDnsNameOptions",
              "MaintenanceOptions", "DisableApiStop", "EnablePrimaryIpv6"})}},
      {"CreateFleet",
       {&Ec2Service::CreateFleet,
        With({"ClientToken", "SpotOptions", "OnDemandOptions", "ExcessCapacityTerminationPolicy",
              "LaunchTemplateConfigs", "TargetCapacitySpecification", "TerminateInstancesWithExpiration", "Type",
              "ValidFrom", "ValidUntil", "ReplaceUnhealthyInstances", "TagSpecification", "Context"})}},
      {"DescribeInstances", {&Ec2Service::DescribeInstances, With({"InstanceId", "Filter", "MaxResults", "NextToken"})}},
      {"TerminateInstances", {&Ec2Service::TerminateInstances, With({"InstanceId"})}},
      {"CreateTags", {&Ec2Service::CreateTags, With({"ResourceId", "Tag"})}},
      {"DeleteTags", {&Ec2Service::DeleteTags, With({"ResourceId", "Tag"})}},
  };
  return kActions;
}

Ec2Service::Ec2Service(Catalog catalog, std::unique_ptr<StateStore> store, core::Clock& clock, ServiceOptions options)
    : catalog_(std::move(catalog)), store_(std::move(store)), clock_(clock), options_(std::move(options)),
      random_(std::random_device{}()) {}

std::string Ec2Service::NewId(std::string_view prefix) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(random_()));
  // EC2's long ids: prefix, "0", 16 hex digits (i-0123456789abcdef0 is 17 after the dash).
  return std::string(prefix) + "-0" + std::string(buf, 16);
}

std::string Ec2Service::NewRequestId() {
  char buf[40];
  const auto a = random_(), b = random_();
  std::snprintf(buf, sizeof(buf), "%08llx-%04llx-4%03llx-a%03llx-%012llx", (unsigned long long)(a >> 32),
                (unsigned long long)(a >> 16 & 0xffff), (unsigned long long)(a & 0xfff),
                (unsigned long long)(b >> 48 & 0xfff), (unsigned long long)(b & 0xffffffffffffULL));
  return buf;
}

void Ec2Service::CommitOrThrow(const std::vector<Change>& changes) {
  Status s = store_->Commit(changes);
  if (!s.ok()) {
    kLog.Error("state write failed", {{"error", s}});
    throw ApiError{500, "InternalError", "An internal error has occurred (state could not be written)"};
  }
}

json Ec2Service::Page(json items, const json& p, const char* list_name, long long default_max, long long min_max,
                      long long max_max) {
  const bool has_max = p.contains("MaxResults");
  const long long max = IntParam(p, "MaxResults", default_max);
  if (has_max && (max < min_max || max > max_max)) {
    throw InvalidParameterValue("Value (" + std::to_string(max) + ") for parameter MaxResults is invalid. Expected a value between " +
                                std::to_string(min_max) + " and " + std::to_string(max_max) + ".");
  }
  size_t offset = 0;
  if (const std::string token = StringParam(p, "NextToken"); !token.empty()) {
    // Our tokens are "o" + decimal offset; anything else was not issued by us.
    if (token.size() < 2 || token[0] != 'o' || token.find_first_not_of("0123456789", 1) != std::string::npos ||
        token.size() > 12 || std::stoull(token.substr(1)) > items.size()) {
      throw ApiError{400, "InvalidNextToken", "The token '" + token + "' is invalid or has expired"};
    }
    offset = std::stoull(token.substr(1));
  }
  json result = json::object();
  json page = json::array();
  const size_t limit = max <= 0 ? items.size() : size_t(max);
  for (size_t i = offset; i < items.size() && page.size() < limit; ++i) page.push_back(std::move(items[i]));
  if (offset + page.size() < items.size()) result["nextToken"] = "o" + std::to_string(offset + page.size());
  result[list_name] = std::move(page);
  return result;
}

Reply Ec2Service::HandleEc2(const FormParams& params, const FaultConfig& faults) {
  const std::string request_id = NewRequestId();
  auto fail = [&](const ApiError& e) { return Reply{e.http_status, "text/xml;charset=UTF-8", ErrorXml(e, request_id)}; };
  auto action_it = params.find("Action");
  if (action_it == params.end() || action_it->second.empty()) {
    return fail({400, "MissingAction", "The request must contain the parameter Action"});
  }
  const std::string& action = action_it->second;
  const auto& actions = Actions();
  auto it = actions.find(action);
  if (it == actions.end()) {
    return fail({400, "InvalidAction", "The action " + action + " is not valid for this web service."});
  }
  if (auto v = params.find("Version"); v == params.end() || v->second.empty()) {
    return fail(MissingParameter("Version"));
  }
  for (const auto& [name, value] : params) {
    // Refused before anything stores or echoes them (JSON and XML need valid UTF-8).
    if (!apiserver::IsValidUtf8(name) || !apiserver::IsValidUtf8(value)) {
      return fail(InvalidParameterValue("A parameter name or value is not valid UTF-8"));
    }
  }
  auto tree = ParamsToTree(params);
  if (!tree.ok()) return fail(InvalidParameterValue(std::string(tree.status().message())));
  for (auto p = tree->begin(); p != tree->end(); ++p) {
    if (!it->second.parameters.contains(p.key())) return fail(UnknownParameter(p.key()));
  }
  try {
    if (BoolParam(*tree, "DryRun", false)) {
      return fail({412, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."});
    }
    faults_ = &faults;
    json result = (this->*(it->second.handler))(*tree);
    faults_ = nullptr;
    return Reply{200, "text/xml;charset=UTF-8", ResponseXml(action, request_id, result)};
  } catch (const ApiError& e) {
    faults_ = nullptr;
    return fail(e);
  }
}

std::vector<json> Ec2Service::InstancesIn(std::string_view state) const {
  std::vector<json> out;
  for (const auto& [id, instance] : store_->All("instance")) {
    if (instance["instanceState"].value("name", "") == state) out.push_back(instance);
  }
  return out;
}

std::vector<json> Ec2Service::Tick() {
  const auto now = clock_.Now();
  std::vector<Change> changes;
  std::vector<json> running;
  // Capacity blocks end: the reservation expires and EC2 terminates what runs in it.
  std::set<std::string> expired;
  for (const auto& [id, cr] : store_->All("capacity-reservation")) {
    if (cr.value("reservationType", "") != "capacity-block" || cr.value("state", "") != "active") continue;
    const int64_t end_ms = cr.value("_endMs", int64_t{0});
    if (end_ms == 0 || std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() < end_ms) continue;
    json next = cr;
    next["state"] = "expired";
    next["availableInstanceCount"] = 0;
    changes.push_back({"capacity-reservation", id, next});
    expired.insert(id);
  }
  for (const auto& [id, instance] : store_->All("instance")) {
    const std::string state = instance["instanceState"].value("name", "");
    const bool expiring =
        (state == "pending" || state == "running") && expired.contains(instance.value("capacityReservationId", ""));
    // Most instances are just running: skip them before copying anything (a thousand-node fleet
    // is looked at ten times a second).
    if (!expiring && state != "pending" && state != "shutting-down" && state != "terminated") continue;
    const auto at = core::TimePoint(std::chrono::milliseconds(instance.value("_transitionAtMs", int64_t{0})));
    if (!expiring && now < at) continue;
    json next = instance;
    if (expiring) {
      next["instanceState"] = {{"code", 32}, {"name", "shutting-down"}};
      next["stateReason"] = {{"code", "Server.ScheduledStop"}, {"message", "Server.ScheduledStop: the capacity block ended"}};
      next["_transitionAtMs"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    (now + options_.shutdown_delay).time_since_epoch()).count();
      changes.push_back({"instance", id, next});
      continue;
    }
    if (now < at) continue;
    if (state == "pending") {
      next["instanceState"] = {{"code", 16}, {"name", "running"}};
      next.erase("_transitionAtMs");
      running.push_back(next);
    } else if (state == "shutting-down") {
      next["instanceState"] = {{"code", 48}, {"name", "terminated"}};
      next["_transitionAtMs"] = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    (now + options_.terminated_retention).time_since_epoch()).count();
    } else if (state == "terminated") {
      changes.push_back({"instance", id, std::nullopt});
      continue;
    } else {
      continue;
    }
    changes.push_back({"instance", id, next});
  }
  if (changes.empty()) return running;
  Status s = store_->Commit(changes);
  if (!s.ok()) {
    kLog.Error("state write failed; lifecycle step retried next tick", {{"error", s}});
    return {};
  }
  return running;
}

}  // namespace gpufleet::cloud::ec2emu
