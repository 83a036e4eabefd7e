// VerifyRequest (sigv4.h): the server side of SigV4, for the EC2 emulator.
#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "cloud/aws/sigv4.h"
#include "core/ascii.h"

namespace gpufleet::cloud::aws {
namespace {

using Outcome = std::variant<VerifiedCaller, VerifyFailure>;

VerifyFailure Fail(VerifyError e, std::string message) { return VerifyFailure{e, std::move(message)}; }


std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}


// Decoded query parameters; the first occurrence of a name wins.
std::map<std::string, std::string, std::less<>> QueryParams(std::string_view query) {
  std::map<std::string, std::string, std::less<>> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t amp = query.find('&', start);
    std::string_view pair = query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    size_t eq = pair.find('=');
    out.emplace(PercentDecode(pair.substr(0, eq)),
                eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return out;
}

const std::string* Header(const ReceivedRequest& r, std::string_view lower_name) {
  if (r.headers == nullptr) return nullptr;
  auto it = r.headers->find(lower_name);
  return it == r.headers->end() ? nullptr : &it->second;
}

// An RFC 1123 Date header ("Sun, 06 Dec 2026 20:30:38 GMT") as an x-amz-date value.
std::optional<std::string> AmzDateFromHttpDate(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  std::time_t t = timegm(&tm);
  return FormatAmzDate(std::chrono::system_clock::from_time_t(t));
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// What the request claims, from its Authorization header or its presigned query.
struct Claim {
  bool presigned = false;
  std::string credential, signed_headers, signature, amz_date, session_token;
  std::optional<long long> expires_seconds;  // presigned only
};

std::variant<Claim, VerifyFailure> ClaimFromHeader(const ReceivedRequest& r, std::string_view authorization) {
  Claim c;
  std::string_view rest = Trim(authorization.substr(kSigV4Algorithm.size()));
  bool have_credential = false, have_signed = false, have_signature = false;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view part = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return Fail(VerifyError::kIncompleteSignature,
                  "Authorization header component \"" + std::string(part.substr(0, 40)) + "\" is not name=value");
    }
    std::string_view name = part.substr(0, eq), value = part.substr(eq + 1);
    if (name == "Credential") {
      c.credential = std::string(value);
      have_credential = true;
    } else if (name == "SignedHeaders") {
      c.signed_headers = std::string(value);
      have_signed = true;
    } else if (name == "Signature") {
      c.signature = core::AsciiLower(value);
      have_signature = true;
    }
  }
  for (auto [have, what] : {std::pair{have_credential, "Credential"}, std::pair{have_signed, "SignedHeaders"},
                            std::pair{have_signature, "Signature"}}) {
    if (!have) {
      return Fail(VerifyError::kIncompleteSignature,
                  std::string("Authorization header requires the '") + what + "' parameter");
    }
  }
  if (const std::string* d = Header(r, "x-amz-date")) {
    c.amz_date = *d;
  } else if (const std::string* http_date = Header(r, "date")) {
    auto converted = AmzDateFromHttpDate(*http_date);
    if (!converted) {
      return Fail(VerifyError::kIncompleteSignature, "the Date header \"" + *http_date + "\" is not an RFC 1123 date");
    }
    c.amz_date = *converted;
  } else {
    return Fail(VerifyError::kIncompleteSignature, "the request has neither an X-Amz-Date nor a Date header");
  }
  if (const std::string* token = Header(r, "x-amz-security-token")) c.session_token = *token;
  return c;
}

std::variant<Claim, VerifyFailure> ClaimFromQuery(const std::map<std::string, std::string, std::less<>>& q) {
  Claim c;
  c.presigned = true;
  auto algorithm = q.find("X-Amz-Algorithm");
  if (algorithm->second != kSigV4Algorithm) {
    return Fail(VerifyError::kIncompleteSignature,
                "X-Amz-Algorithm \"" + algorithm->second.substr(0, 40) + "\" is not AWS4-HMAC-SHA256");
  }
  for (auto [name, field] : {std::pair{"X-Amz-Credential", &c.credential}, std::pair{"X-Amz-Date", &c.amz_date},
                             std::pair{"X-Amz-SignedHeaders", &c.signed_headers},
                             std::pair{"X-Amz-Signature", &c.signature}}) {
    auto it = q.find(std::string_view(name));
    if (it == q.end()) {
      return Fail(VerifyError::kIncompleteSignature, std::string("the presigned query lacks ") + name);
    }
    *field = it->second;
  }
  c.signature = core::AsciiLower(c.signature);
  if (auto it = q.find("X-Amz-Security-Token"); it != q.end()) c.session_token = it->second;
  if (auto it = q.find("X-Amz-Expires"); it != q.end()) {
    const std::string& e = it->second;
    bool digits = !e.empty() && e.size() <= 7 && std::all_of(e.begin(), e.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
    long long seconds = digits ? std::stoll(e) : -1;
    if (seconds < 1 || seconds > 604800) {
      return Fail(VerifyError::kIncompleteSignature, "X-Amz-Expires \"" + e.substr(0, 20) +
                                                         "\" must be a number of seconds from 1 to 604800");
    }
    c.expires_seconds = seconds;
  }
  return c;
}

}  // namespace

std::string_view VerifyErrorCode(VerifyError e) {
  switch (e) {
    case VerifyError::kMissingAuthentication: return "MissingAuthenticationToken";
    case VerifyError::kIncompleteSignature: return "IncompleteSignature";
    case VerifyError::kUnknownAccessKey: return "InvalidClientTokenId";
    case VerifyError::kSignatureMismatch: return "SignatureDoesNotMatch";
    case VerifyError::kRequestExpired: return "RequestExpired";
    case VerifyError::kWrongRegionOrService: return "SignatureDoesNotMatch";
  }
  return "SignatureDoesNotMatch";
}

Outcome VerifyRequest(const ReceivedRequest& request,
                      const std::function<std::optional<std::string>(std::string_view)>& secret_for,
                      std::string_view expected_service, core::TimePoint now) {
  const size_t question = request.target.find('?');
  const std::string_view path = request.target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : request.target.substr(question + 1);

  std::variant<Claim, VerifyFailure> parsed = Fail(VerifyError::kMissingAuthentication, "");
  const std::string* authorization = Header(request, "authorization");
  const auto params = QueryParams(query);
  if (authorization != nullptr) {
    if (authorization->rfind(std::string(kSigV4Algorithm) + " ", 0) != 0) {
      std::string_view shown = *authorization;
      shown = shown.substr(0, std::min(shown.find(' '), size_t{40}));
      return Fail(VerifyError::kIncompleteSignature,
                  "Authorization header algorithm \"" + std::string(shown) + "\" is not AWS4-HMAC-SHA256");
    }
    parsed = ClaimFromHeader(request, *authorization);
  } else if (params.count("X-Amz-Algorithm") > 0) {
    parsed = ClaimFromQuery(params);
  } else {
    return Fail(VerifyError::kMissingAuthentication,
                "the request has no Authorization header and no X-Amz-Algorithm query parameter");
  }
  if (auto* failure = std::get_if<VerifyFailure>(&parsed)) return std::move(*failure);
  const Claim& claim = std::get<Claim>(parsed);

  // Credential=AKID/YYYYMMDD/REGION/SERVICE/aws4_request
  std::vector<std::string_view> scope;
  for (size_t start = 0;;) {
    size_t slash = claim.credential.find('/', start);
    scope.push_back(std::string_view(claim.credential).substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  if (scope.size() != 5 || scope[4] != "aws4_request" || scope[0].empty() || scope[1].size() != 8 ||
      scope[2].empty() || scope[3].empty()) {
    return Fail(VerifyError::kIncompleteSignature,
                "Credential \"" + claim.credential.substr(0, 120) +
                    "\" is not ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request");
  }
  VerifiedCaller caller{std::string(scope[0]), std::string(scope[2]), std::string(scope[3]), claim.session_token};
  if (caller.service != expected_service) {
    return Fail(VerifyError::kWrongRegionOrService, "Credential should be scoped to correct service: '" +
                                                        std::string(expected_service) + "' (it names '" +
                                                        caller.service + "')");
  }

  const std::optional<core::TimePoint> signed_at = ParseAmzDate(claim.amz_date);
  if (!signed_at) {
    return Fail(VerifyError::kIncompleteSignature,
                "X-Amz-Date \"" + claim.amz_date.substr(0, 40) + "\" is not YYYYMMDDTHHMMSSZ");
  }
  if (scope[1] != std::string_view(claim.amz_date).substr(0, 8)) {
    return Fail(VerifyError::kSignatureMismatch, "Date in Credential scope (" + std::string(scope[1]) +
                                                     ") does not match the request date " + claim.amz_date);
  }

  // SignedHeaders: lower-case, sorted, unique, host among them, each present.
  std::vector<std::pair<std::string, std::string>> signed_values;
  bool host_signed = false;
  for (size_t start = 0; start <= claim.signed_headers.size();) {
    size_t semi = claim.signed_headers.find(';', start);
    std::string name = claim.signed_headers.substr(start, semi == std::string::npos ? std::string::npos : semi - start);
    host_signed = host_signed || name == "host";
    const std::string* value = Header(request, name);
    if (value == nullptr) {
      return Fail(VerifyError::kSignatureMismatch,
                  "signed header \"" + name.substr(0, 64) + "\" is not in the request");
    }
    signed_values.emplace_back(name, *value);
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  if (!host_signed) {
    return Fail(VerifyError::kIncompleteSignature, "'Host' must be a 'SignedHeader' in the AWS Authorization");
  }

  std::optional<std::string> secret = secret_for(caller.access_key_id);
  if (!secret) {
    return Fail(VerifyError::kUnknownAccessKey,
                "The security token included in the request is invalid (access key id " +
                    caller.access_key_id.substr(0, 128) + " is not known)");
  }

  if (claim.presigned && claim.expires_seconds) {
    if (*signed_at - now > kMaxClockSkew) {
      return Fail(VerifyError::kRequestExpired, "Request is not yet valid: X-Amz-Date " + claim.amz_date +
                                                    " is more than 15 minutes after the server time " +
                                                    FormatAmzDate(now));
    }
    if (now > *signed_at + std::chrono::seconds(*claim.expires_seconds)) {
      return Fail(VerifyError::kRequestExpired, "Request has expired: signed at " + claim.amz_date + " for " +
                                                    std::to_string(*claim.expires_seconds) +
                                                    " seconds; the server time is " + FormatAmzDate(now));
    }
  } else if (*signed_at - now > kMaxClockSkew || now - *signed_at > kMaxClockSkew) {
    return Fail(VerifyError::kRequestExpired, "Signature expired: the request date " + claim.amz_date +
                                                  " is more than 15 minutes from the server time " +
                                                  FormatAmzDate(now));
  }

  std::string payload_hash;
  if (const std::string* given = Header(request, "x-amz-content-sha256")) {
    payload_hash = *given;
    if (IsLowerHex64(*given) && *given != HexSha256(request.body)) {
      return Fail(VerifyError::kSignatureMismatch,
                  "The provided 'x-amz-content-sha256' header does not match what was computed");
    }
  } else if (claim.presigned && (expected_service == "s3" || expected_service == "s3-object-lambda")) {
    payload_hash = std::string(kUnsignedPayload);
  } else {
    payload_hash = HexSha256(request.body);
  }

  // The canonical query of a presigned request leaves X-Amz-Signature out.
  const CanonicalRequestText canonical =
      CanonicalRequest(request.method, path, query, signed_values, payload_hash, caller.service,
                       claim.presigned ? "X-Amz-Signature" : "");
  if (canonical.signed_headers != claim.signed_headers) {
    return Fail(VerifyError::kIncompleteSignature,
                "SignedHeaders \"" + claim.signed_headers.substr(0, 200) + "\" must be lower-case, sorted and unique");
  }
  const std::string date(scope[1]);
  const std::string expected = SignatureHex(
      DeriveSigningKey(*secret, date, caller.region, caller.service),
      StringToSign(claim.amz_date, CredentialScope(date, caller.region, caller.service), canonical.text));
  if (!ConstantTimeEquals(expected, claim.signature)) {
    return Fail(VerifyError::kSignatureMismatch,
                "The request signature we calculated does not match the signature you provided. Check "
                "your AWS Secret Access Key and signing method.");
  }
  return caller;
}

}  // namespace gpufleet::cloud::aws
