// The chain's network sources: web identity (STS), container (EKS Pod Identity, ECS), IMDSv2.
#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <pugixml.hpp>

#include "cloud/aws/credentials_sources.h"
#include "core/json.h"
#include "core/log.h"
#include "core/time_format.h"
#include "core/ascii.h"

namespace gpufleet::cloud::aws::internal {
namespace {

const core::log::Logger kLog("aws.credentials");


bool IsTrue(const std::optional<std::string>& v) { return v && core::AsciiLower(*v) == "true"; }

std::optional<std::string> ProfileValue(const std::map<std::string, std::string>& values, const char* key) {
  auto it = values.find(key);
  if (it == values.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

struct ParsedUrl {
  std::string scheme, host, rest;  // host without brackets or port; rest: "/path?query" or ""
};

std::optional<ParsedUrl> ParseUrl(std::string_view url) {
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  ParsedUrl u;
  u.scheme = core::AsciiLower(url.substr(0, sep));
  std::string_view rest = url.substr(sep + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  u.rest = end == std::string_view::npos ? "" : std::string(rest.substr(end));
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    u.host = std::string(authority.substr(1, close - 1));
  } else {
    u.host = std::string(authority.substr(0, authority.find(':')));
  }
  if (u.host.empty()) return std::nullopt;
  return u;
}

// "http://host:1234" -> "http://host:1234/"; a URL with a path is kept.
std::string WithRootPath(const std::string& url) {
  auto u = ParseUrl(url);
  if (u && u->rest.empty()) return url + "/";
  return url;
}

// Sends with one immediate retry when there is no answer or a 5xx. No sleeping: the chain runs
// under its lock and on an injected clock.
Result<HttpResponse> SendWithRetry(HttpClient& http, const HttpRequest& request) {
  Result<HttpResponse> r = http.Send(request);
  const bool retry = r.ok() ? r->status >= 500 : (r.status().code() == StatusCode::kUnavailable ||
                                                   r.status().code() == StatusCode::kDeadlineExceeded);
  if (retry) r = http.Send(request);
  return r;
}

// ---- web identity ----

struct WebIdentityConfig {
  std::string token_file, token_file_from, role_arn, session_name, endpoint;
};

Status StsError(const HttpResponse& r, const WebIdentityConfig& cfg, const std::string& token) {
  pugi::xml_document doc;
  std::string code, message;
  if (doc.load_buffer(r.body.data(), r.body.size())) {
    pugi::xml_node error = doc.child("ErrorResponse").child("Error");
    if (!error) error = doc.child("Error");
    code = error.child("Code").text().as_string();
    message = error.child("Message").text().as_string();
  }
  std::string what = "STS AssumeRoleWithWebIdentity for " + cfg.role_arn + " at " + UrlForMessages(cfg.endpoint) +
                     ": HTTP " + std::to_string(r.status);
  if (!code.empty()) what += " " + code;
  if (!message.empty()) what += ": " + Redact(message, {token});
  if (r.status >= 500 || code == "IDPCommunicationError") return UnavailableError(what);
  if (code == "AccessDenied") return PermissionDeniedError(what);
  return UnauthenticatedError(what);
}

Result<Credentials> AssumeRoleWithWebIdentity(HttpClient& http, core::Clock& clock, const WebIdentityConfig& cfg) {
  GF_ASSIGN_OR_RETURN(std::string token, ReadTokenFile(cfg.token_file, "web identity token file (" + cfg.token_file_from + ")"));
  std::string session = cfg.session_name;
  if (session.empty()) {
    session = "gpufleet-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                                clock.Now().time_since_epoch()).count());
  }
  HttpRequest request;
  request.method = "POST";
  request.url = WithRootPath(cfg.endpoint);
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                     {"Accept", "text/xml"}};
  request.body = "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=" + UriEncode(cfg.role_arn) +
                 "&RoleSessionName=" + UriEncode(session) + "&WebIdentityToken=" + UriEncode(token);
  request.timeout = std::chrono::seconds(10);
  Result<HttpResponse> r = SendWithRetry(http, request);
  if (r.ok() && r->status == 400 && r->body.find("IDPCommunicationError") != std::string::npos) {
    r = http.Send(request);  // the identity provider was briefly unreachable for STS
  }
  if (!r.ok()) return r.status().WithContext("STS AssumeRoleWithWebIdentity for " + cfg.role_arn);
  if (r->status != 200) return StsError(*r, cfg, token);

  pugi::xml_document doc;
  if (!doc.load_buffer(r->body.data(), r->body.size())) {
    return UnknownError("STS AssumeRoleWithWebIdentity at " + UrlForMessages(cfg.endpoint) + " returned unreadable XML");
  }
  pugi::xml_node creds = doc.child("AssumeRoleWithWebIdentityResponse")
                             .child("AssumeRoleWithWebIdentityResult")
                             .child("Credentials");
  Credentials c;
  c.access_key_id = creds.child("AccessKeyId").text().as_string();
  c.secret_access_key = creds.child("SecretAccessKey").text().as_string();
  c.session_token = creds.child("SessionToken").text().as_string();
  c.source = "web-identity";
  if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty()) {
    return UnknownError("STS AssumeRoleWithWebIdentity at " + UrlForMessages(cfg.endpoint) +
                        " returned no AccessKeyId, SecretAccessKey or SessionToken");
  }
  std::string expiration = creds.child("Expiration").text().as_string();
  auto t = core::ParseRfc3339(expiration);
  if (!t.ok()) {
    return UnknownError("STS AssumeRoleWithWebIdentity returned an unreadable Expiration \"" + expiration.substr(0, 40) + "\"");
  }
  c.expiration = *t;
  return c;
}

// ---- container ----

bool AllowedPlainHttpContainerHost(const std::string& host) {
  if (core::AsciiLower(host) == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    const uint32_t ip = ntohl(v4.s_addr);
    return (ip >> 24) == 127 || ip == 0xA9FEAA02 /* 169.254.170.2 */ || ip == 0xA9FEAA17 /* 169.254.170.23 */;
  }
  in6_addr v6{}, pod_identity{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    inet_pton(AF_INET6, "fd00:ec2::23", &pod_identity);
    return IN6_IS_ADDR_LOOPBACK(&v6) || std::equal(std::begin(v6.s6_addr), std::end(v6.s6_addr), std::begin(pod_identity.s6_addr));
  }
  return false;
}

Status CheckHeaderValue(const std::string& value, std::string_view what) {
  if (value.find_first_of("\r\n") != std::string::npos) {
    return InvalidArgumentError(std::string(what) + " contains a line break");
  }
  return OkStatus();
}

struct ContainerConfig {
  std::string url, token_file, token;
};

Result<Credentials> FetchContainer(HttpClient& http, const ContainerConfig& cfg) {
  HttpRequest request;
  request.url = cfg.url;
  request.timeout = std::chrono::seconds(2);
  request.headers = {{"Accept", "application/json"}};
  std::string token = cfg.token;
  if (!cfg.token_file.empty()) {
    GF_ASSIGN_OR_RETURN(token, ReadTokenFile(cfg.token_file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
    GF_RETURN_IF_ERROR(CheckHeaderValue(token, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE " + cfg.token_file));
  }
  if (!token.empty()) request.headers.emplace_back("Authorization", token);
  Result<HttpResponse> r = SendWithRetry(http, request);
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    std::string detail;
    if (auto j = core::ParseJson(r->body); j.ok() && j->is_object() && j->contains("message") && (*j)["message"].is_string()) {
      detail = (*j)["message"].get<std::string>();
    } else {
      detail = r->body;
    }
    std::string what = "GET " + UrlForMessages(cfg.url) + ": HTTP " + std::to_string(r->status);
    if (!detail.empty()) what += ": " + Redact(detail, {token});
    return r->status >= 500 ? UnavailableError(what) : UnauthenticatedError(what);
  }
  return CredentialsFromJson(r->body, "container");
}

// ---- IMDS ----

struct ImdsConfig {
  std::string endpoint;  // no trailing '/'
  bool v1_disabled = false;
};

Result<Credentials> FetchImds(HttpClient& http, const ImdsConfig& cfg, bool* absent) {
  constexpr std::chrono::seconds kTimeout{1};
  HttpRequest put;
  put.method = "PUT";
  put.url = cfg.endpoint + "/latest/api/token";
  put.headers = {{"X-aws-ec2-metadata-token-ttl-seconds", "21600"}};
  put.timeout = kTimeout;
  Result<HttpResponse> token_response = SendWithRetry(http, put);
  std::string token;
  // Whether IMDS has answered at all: until it has, no answer means "not on EC2" (skipped).
  bool answered = token_response.ok();
  if (!token_response.ok()) {
    // A token request that times out may be a container behind a hop limit of 1, which drops the
    // token's response but not IMDSv1's: botocore then tries IMDSv1, and so do we.
    if (token_response.status().code() != StatusCode::kDeadlineExceeded || cfg.v1_disabled) {
      *absent = true;
      return UnavailableError("no instance metadata service at " + cfg.endpoint + " (" +
                              std::string(token_response.status().message()) + ")");
    }
    kLog.Debug("IMDS token request timed out; trying IMDSv1", {{"endpoint", cfg.endpoint}});
  } else if (token_response->status == 200) {
    token = token_response->body;
  } else if (token_response->status == 403 || token_response->status == 404 || token_response->status == 405) {
    if (cfg.v1_disabled) {
      return FailedPreconditionError("IMDS at " + cfg.endpoint + " refused a session token (HTTP " +
                                     std::to_string(token_response->status) + ") and IMDSv1 is disabled");
    }
    kLog.Debug("IMDS gave no session token; using IMDSv1", {{"status", token_response->status}});
  } else {
    std::string what = "IMDS token request to " + cfg.endpoint + ": HTTP " + std::to_string(token_response->status);
    return token_response->status >= 500 ? UnavailableError(what) : UnknownError(what);
  }

  auto get = [&](const std::string& path) {
    HttpRequest request;
    request.url = cfg.endpoint + path;
    request.timeout = kTimeout;
    if (!token.empty()) request.headers.emplace_back("X-aws-ec2-metadata-token", token);
    return SendWithRetry(http, request);
  };
  const std::string base = "/latest/meta-data/iam/security-credentials/";
  Result<HttpResponse> listed = answered ? get(base) : http.Send(HttpRequest{"GET", cfg.endpoint + base, {}, "", kTimeout});
  if (!listed.ok()) {
    if (!answered) {
      *absent = true;
      return UnavailableError("no instance metadata service at " + cfg.endpoint + " (" +
                              std::string(listed.status().message()) + ")");
    }
    return listed.status();
  }
  const HttpResponse& roles = *listed;
  if (roles.status == 404) {
    *absent = true;
    return NotFoundError("no IAM role is attached to the instance (" + cfg.endpoint + base + " returned 404)");
  }
  if (roles.status != 200) {
    std::string what = "GET " + cfg.endpoint + base + ": HTTP " + std::to_string(roles.status);
    return roles.status >= 500 ? UnavailableError(what) : UnauthenticatedError(what);
  }
  std::string role = roles.body.substr(0, roles.body.find('\n'));
  while (!role.empty() && (role.back() == '\r' || role.back() == ' ')) role.pop_back();
  if (role.empty()) {
    *absent = true;
    return NotFoundError("no IAM role is attached to the instance (" + cfg.endpoint + base + " is empty)");
  }
  GF_ASSIGN_OR_RETURN(HttpResponse creds, get(base + UriEncode(role)));
  if (creds.status != 200) {
    std::string what = "GET " + cfg.endpoint + base + role + ": HTTP " + std::to_string(creds.status);
    return creds.status >= 500 ? UnavailableError(what) : UnauthenticatedError(what);
  }
  if (auto j = core::ParseJson(creds.body); j.ok() && j->is_object() && j->contains("Code")) {
    const nlohmann::json& code = (*j)["Code"];
    if (code.is_string() && code.get<std::string>() != "Success") {
      std::string what = "IMDS credentials for role " + role + ": Code " + code.get<std::string>();
      if (j->contains("Message") && (*j)["Message"].is_string()) {
        what += ": " + Redact((*j)["Message"].get<std::string>(), {});
      }
      return UnknownError(what);
    }
  }
  return CredentialsFromJson(creds.body, "imds");
}

}  // namespace

Detection DetectWebIdentity(const SourceContext& ctx) {
  const Environment& env = *ctx.env;
  const auto values = ctx.shared->Profile(ctx.profile);
  const std::string profile = "profile \"" + ctx.profile + "\"";
  WebIdentityConfig cfg;
  if (auto v = env.Get("AWS_WEB_IDENTITY_TOKEN_FILE")) {
    cfg.token_file = env.ExpandHome(*v);
    cfg.token_file_from = "AWS_WEB_IDENTITY_TOKEN_FILE";
  } else if (auto p = ProfileValue(values, "web_identity_token_file")) {
    cfg.token_file = env.ExpandHome(*p);
    cfg.token_file_from = "web_identity_token_file of " + profile;
  } else {
    return Skip{"AWS_WEB_IDENTITY_TOKEN_FILE is not set and " + profile + " has no web_identity_token_file"};
  }
  if (auto v = env.Get("AWS_ROLE_ARN")) {
    cfg.role_arn = *v;
  } else if (auto p = ProfileValue(values, "role_arn")) {
    cfg.role_arn = *p;
  } else {
    return FailedPreconditionError("a web identity token file is set (" + cfg.token_file_from +
                                   ") but no role: set AWS_ROLE_ARN or role_arn in " + profile);
  }
  cfg.session_name = env.Get("AWS_ROLE_SESSION_NAME").value_or(ProfileValue(values, "role_session_name").value_or(""));
  std::string region = ctx.region_flag;
  if (region.empty()) region = env.Get("AWS_REGION").value_or(env.Get("AWS_DEFAULT_REGION").value_or(""));
  if (region.empty()) region = ProfileValue(values, "region").value_or("");
  std::string default_url = "https://sts.amazonaws.com";
  if (!region.empty()) {
    default_url = "https://sts." + region + (region.rfind("cn-", 0) == 0 ? ".amazonaws.com.cn" : ".amazonaws.com");
  }
  cfg.endpoint = ResolveEndpoint(env, ctx.profile, "STS", "", default_url);
  HttpClient* http = ctx.http;
  core::Clock* clock = ctx.clock;
  return Fetcher([http, clock, cfg](bool*) { return AssumeRoleWithWebIdentity(*http, *clock, cfg); });
}

Detection DetectContainer(const SourceContext& ctx) {
  const Environment& env = *ctx.env;
  ContainerConfig cfg;
  if (auto relative = env.Get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    cfg.url = "http://169.254.170.2" + (relative->front() == '/' ? *relative : "/" + *relative);
  } else if (auto full = env.Get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    auto u = ParseUrl(*full);
    if (!u || (u->scheme != "http" && u->scheme != "https")) {
      return InvalidArgumentError("AWS_CONTAINER_CREDENTIALS_FULL_URI \"" + UrlForMessages(*full) +
                                  "\" is not an http(s) URL");
    }
    if (u->scheme == "http" && !AllowedPlainHttpContainerHost(u->host)) {
      return InvalidArgumentError("AWS_CONTAINER_CREDENTIALS_FULL_URI host \"" + u->host +
                                  "\" is not allowed over plain http: use https, a loopback address, "
                                  "169.254.170.2, 169.254.170.23 or fd00:ec2::23");
    }
    cfg.url = *full;
  } else {
    return Skip{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and AWS_CONTAINER_CREDENTIALS_FULL_URI are not set"};
  }
  if (auto file = env.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    cfg.token_file = env.ExpandHome(*file);
  } else if (auto token = env.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    GF_RETURN_IF_ERROR(CheckHeaderValue(*token, "AWS_CONTAINER_AUTHORIZATION_TOKEN"));
    cfg.token = *token;
  }
  HttpClient* http = ctx.http;
  return Fetcher([http, cfg](bool*) { return FetchContainer(*http, cfg); });
}

Detection DetectImds(const SourceContext& ctx) {
  const Environment& env = *ctx.env;
  if (IsTrue(env.Get("AWS_EC2_METADATA_DISABLED"))) return Skip{"AWS_EC2_METADATA_DISABLED=true"};
  const auto values = ctx.shared->Profile(ctx.profile);
  ImdsConfig cfg;
  if (auto v = env.Get("AWS_EC2_METADATA_SERVICE_ENDPOINT")) {
    cfg.endpoint = *v;
  } else if (auto p = ProfileValue(values, "ec2_metadata_service_endpoint")) {
    cfg.endpoint = *p;
  } else {
    auto mode = env.Get("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    if (!mode) mode = ProfileValue(values, "ec2_metadata_service_endpoint_mode");
    cfg.endpoint = mode && core::AsciiLower(*mode) == "ipv6" ? "http://[fd00:ec2::254]" : "http://169.254.169.254";
  }
  while (!cfg.endpoint.empty() && cfg.endpoint.back() == '/') cfg.endpoint.pop_back();
  auto v1 = env.Get("AWS_EC2_METADATA_V1_DISABLED");
  cfg.v1_disabled = v1 ? IsTrue(v1) : IsTrue(ProfileValue(values, "ec2_metadata_v1_disabled"));
  HttpClient* http = ctx.http;
  return Fetcher([http, cfg](bool* absent) { return FetchImds(*http, cfg, absent); });
}

}  // namespace gpufleet::cloud::aws::internal
