// AWS Signature Version 4: signing requests (the EC2/SSM/STS clients) and verifying them (the EC2
// emulator, which must accept exactly what the aws CLI and the AWS SDKs send).
//
// Written from the AWS documentation ("Create a signed AWS API request", "Authenticating requests:
// using query parameters") and checked against botocore, the signer of the aws CLI and boto3:
// tests/cloud/aws/sigv4_botocore_vectors.py prints the vectors sigv4_test.cc holds. Rules worth
// knowing, all botocore's:
//   - The canonical URI of every service but S3 is the path as sent, with dot segments and empty
//     segments removed, URI-encoded once more ("/a%20b" signs as "/a%2520b": the documented
//     "encode twice"). S3 signs the path exactly as sent.
//   - The canonical query is every name=value pair, decoded and re-encoded strictly (RFC 3986
//     unreserved characters kept, '+' is a literal plus), sorted by name, then value.
//   - Every header the request carries is signed except user-agent, expect, x-amzn-trace-id and
//     authorization; host is always signed (taken from the URL when absent). Values are trimmed
//     and inner runs of whitespace collapse to one space; repeated names join with ','.
//   - The payload hash is the x-amz-content-sha256 header when present (S3's UNSIGNED-PAYLOAD),
//     else the SHA-256 of the body.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "cloud/aws/http_client.h"
#include "core/clock.h"

namespace gpufleet::cloud::aws {

struct Credentials {
  std::string access_key_id, secret_access_key, session_token;  // session_token may be empty
  std::optional<core::TimePoint> expiration;                     // nullopt: never expires
  // Where they came from, for logs (never a secret): "environment",
  // "shared-credentials-file:PROFILE", "shared-config-file:PROFILE", "web-identity", "container",
  // "imds", "static".
  std::string source;
};

inline constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
// Clock skew a verifier accepts between a request's date and its own clock (AWS: 15 minutes).
inline constexpr std::chrono::minutes kMaxClockSkew{15};

// ---- Building blocks (exposed so tests can check each step) ----

// Lower-case hex of the SHA-256 of `data`.
std::string HexSha256(std::string_view data);
// Raw 32-byte HMAC-SHA256 of `data` under `key`.
std::string HmacSha256(std::string_view key, std::string_view data);
// Lower-case hex of raw bytes.
std::string HexEncode(std::string_view bytes);
// RFC 3986 percent-encoding as SigV4 wants it: A-Z a-z 0-9 - . _ ~ kept, every other byte %XX
// (upper-case hex); '/' kept when !encode_slash.
std::string UriEncode(std::string_view s, bool encode_slash = true);
// %XX decoded (a '%' not followed by two hex digits stays); '+' is not a space, as in SigV4.
std::string PercentDecode(std::string_view s);
// "20150830T123600Z" (UTC, whole seconds) and back; nullopt unless exactly that shape.
std::string FormatAmzDate(core::TimePoint t);
std::optional<core::TimePoint> ParseAmzDate(std::string_view text);

// The canonical URI of `path` (as sent: already URI-encoded, without the query) for `service`; see
// the rules above. An empty path is "/".
std::string CanonicalUri(std::string_view path, std::string_view service);
// The canonical query string of a raw query ("b=2&a=1", without '?'). Pairs named `exclude`
// (X-Amz-Signature when verifying a presigned request) are left out.
std::string CanonicalQueryString(std::string_view raw_query, std::string_view exclude = {});

struct CanonicalRequestText {
  std::string text;            // the canonical request
  std::string signed_headers;  // "host;x-amz-date"
};
// `headers` are exactly the headers to sign (any case; repeated names allowed, in send order).
// Query pairs named `exclude_query` are left out (see CanonicalQueryString).
CanonicalRequestText CanonicalRequest(std::string_view method, std::string_view path,
                                      std::string_view raw_query,
                                      const std::vector<std::pair<std::string, std::string>>& headers,
                                      std::string_view payload_hash, std::string_view service,
                                      std::string_view exclude_query = {});
// "20150830/us-east-1/iam/aws4_request" (`date` is YYYYMMDD).
std::string CredentialScope(std::string_view date, std::string_view region, std::string_view service);
// "AWS4-HMAC-SHA256\n<amz_date>\n<scope>\n<hex sha256 of canonical request>".
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
// The raw 32-byte signing key: HMAC chain over "AWS4"+secret, date, region, service, "aws4_request".
std::string DeriveSigningKey(std::string_view secret_access_key, std::string_view date,
                             std::string_view region, std::string_view service);
// Lower-case hex HMAC of the string to sign under the signing key.
std::string SignatureHex(std::string_view signing_key, std::string_view string_to_sign);

// ---- Client side ----

// Signs `request` in place for `service` in `region` at `now`: replaces any Authorization,
// X-Amz-Date and X-Amz-Security-Token (so a retry can be re-signed); adds host (from the URL,
// default port left out) if absent, x-amz-date, x-amz-security-token when a session token is set,
// x-amz-content-sha256 only when `add_content_sha256` (S3 style; EC2 and SSM do not need it) or
// keeps one the caller set (its value is then the payload hash), and Authorization.
void SignRequest(HttpRequest& request, const Credentials& credentials, std::string_view region,
                 std::string_view service, core::TimePoint now, bool add_content_sha256 = false);

// Presigns `request` (query-string authentication, as `aws s3 presign` and EKS tokens do): appends
// X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders,
// X-Amz-Security-Token (when set) and X-Amz-Signature to the URL. Signs only the host header (plus
// any headers the request carries, which must then be sent too). The payload hash is that of the
// body, or UNSIGNED-PAYLOAD for S3.
void PresignRequest(HttpRequest& request, const Credentials& credentials, std::string_view region,
                    std::string_view service, core::TimePoint now, std::chrono::seconds expires);

// ---- Server side ----

// The request as the server received it.
struct ReceivedRequest {
  std::string_view method;
  std::string_view target;  // raw request target: encoded path + "?" + raw query, e.g. "/?Action=X"
  const std::map<std::string, std::string, std::less<>>* headers;  // lower-case header names
  std::string_view body;
};

enum class VerifyError {
  kMissingAuthentication,  // neither an Authorization header nor X-Amz-Algorithm in the query
  kIncompleteSignature,    // malformed or incomplete authentication information
  kUnknownAccessKey,       // secret_for returned nullopt
  kSignatureMismatch,      // the signature (or the payload hash) does not match
  kRequestExpired,         // the date is more than 15 minutes off, or a presigned URL expired
  kWrongRegionOrService,   // the credential scope names another service
};
// The AWS error code for `e` ("MissingAuthenticationToken", "IncompleteSignature",
// "InvalidClientTokenId", "SignatureDoesNotMatch", "RequestExpired", "SignatureDoesNotMatch").
std::string_view VerifyErrorCode(VerifyError e);

struct VerifyFailure {
  VerifyError error;
  std::string message;  // names what was wrong; never a secret or a signature
};
struct VerifiedCaller {
  std::string access_key_id, region, service;
  std::string session_token;  // x-amz-security-token as sent (signed); "" when none
};

// Verifies an Authorization header (AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=..., Signature=...) or presigned query-string authentication (X-Amz-Algorithm,
// X-Amz-Credential, X-Amz-Date, X-Amz-Expires, X-Amz-SignedHeaders, X-Amz-Signature).
// `secret_for` looks the secret up by access key id (nullopt: unknown key). The request date
// (x-amz-date, or a signed Date header) must be within 15 minutes of `now`; a presigned URL is also
// refused after X-Amz-Date + X-Amz-Expires. The scope's service must equal `expected_service`; the
// region is returned for the caller to check. The host header must be signed. Signatures are
// compared in constant time.
std::variant<VerifiedCaller, VerifyFailure> VerifyRequest(
    const ReceivedRequest& request,
    const std::function<std::optional<std::string>(std::string_view access_key_id)>& secret_for,
    std::string_view expected_service, core::TimePoint now);

}  // namespace gpufleet::cloud::aws
