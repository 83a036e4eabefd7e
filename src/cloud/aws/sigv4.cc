#include "cloud/aws/sigv4.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/ascii.h"

namespace gpufleet::cloud::aws {
namespace {

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}


bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

// Trimmed, with inner runs of whitespace collapsed to one space (SigV4's "Trimall").
std::string TrimAll(std::string_view v) {
  std::string out;
  bool pending_space = false;
  for (char c : v) {
    if (IsSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

bool IsS3(std::string_view service) { return service == "s3" || service == "s3-object-lambda"; }

struct UrlParts {
  std::string scheme, authority, path, query;
};

UrlParts SplitUrl(std::string_view url) {
  UrlParts p;
  size_t hash = url.find('#');
  if (hash != std::string_view::npos) url = url.substr(0, hash);
  size_t sep = url.find("://");
  std::string_view rest = url;
  if (sep != std::string_view::npos) {
    p.scheme = core::AsciiLower(url.substr(0, sep));
    rest = url.substr(sep + 3);
  }
  size_t authority_end = rest.find_first_of("/?");
  p.authority = std::string(rest.substr(0, authority_end));
  if (authority_end == std::string_view::npos) return p;
  rest = rest.substr(authority_end);
  size_t q = rest.find('?');
  p.path = std::string(rest.substr(0, q));
  if (q != std::string_view::npos) p.query = std::string(rest.substr(q + 1));
  return p;
}

// The Host header for a URL's authority: no userinfo, lower-case, default port left out.
std::string HostHeader(const UrlParts& u) {
  std::string authority = u.authority;
  size_t at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  authority = core::AsciiLower(authority);
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    std::string_view port = std::string_view(authority).substr(colon + 1);
    if ((u.scheme == "http" && port == "80") || (u.scheme == "https" && port == "443") || port.empty()) {
      authority.resize(colon);
    }
  }
  return authority;
}

bool IsExcludedFromSigning(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" || lower_name == "expect" ||
         lower_name == "x-amzn-trace-id";
}

void RemoveHeader(HttpRequest& request, std::string_view lower_name) {
  auto& h = request.headers;
  h.erase(std::remove_if(h.begin(), h.end(), [&](const auto& kv) { return core::AsciiLower(kv.first) == lower_name; }),
          h.end());
}

const std::string* FindHeader(const HttpRequest& request, std::string_view lower_name) {
  for (const auto& [name, value] : request.headers) {
    if (core::AsciiLower(name) == lower_name) return &value;
  }
  return nullptr;
}

}  // namespace

namespace {
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// %XX decoded; a '%' not followed by two hex digits stays as it is. '+' is not a space.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}


std::string HexEncode(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

std::string HexSha256(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string UriEncode(std::string_view s, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

std::string FormatAmzDate(core::TimePoint t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::optional<core::TimePoint> ParseAmzDate(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto number = [&](size_t pos, size_t len) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  int year = number(0, 4), month = number(4, 2), day = number(6, 2);
  int hour = number(9, 2), minute = number(11, 2), second = number(13, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                                  std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok()) return std::nullopt;
  return core::TimePoint(std::chrono::sys_days(ymd).time_since_epoch() + std::chrono::hours(hour) +
                         std::chrono::minutes(minute) + std::chrono::seconds(second));
}

std::string CanonicalUri(std::string_view path, std::string_view service) {
  if (path.empty()) return "/";
  if (IsS3(service)) return std::string(path);
  // RFC 3986 remove_dot_segments, and empty segments dropped (AWS wants "//" collapsed).
  std::vector<std::string_view> segments;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string_view segment = path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string normalized = path.front() == '/' ? "/" : "";
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) normalized.push_back('/');
    normalized.append(segments[i]);
  }
  if (path.back() == '/' && !segments.empty()) normalized.push_back('/');
  return UriEncode(normalized, /*encode_slash=*/false);
}

std::string CanonicalQueryString(std::string_view raw_query, std::string_view exclude) {
  std::vector<std::pair<std::string, std::string>> pairs;
  size_t start = 0;
  while (start <= raw_query.size() && !raw_query.empty()) {
    size_t amp = raw_query.find('&', start);
    std::string_view pair = raw_query.substr(start, amp == std::string_view::npos ? std::string_view::npos : amp - start);
    if (!pair.empty()) {
      size_t eq = pair.find('=');
      std::string name = PercentDecode(pair.substr(0, eq));
      std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1));
      if (exclude.empty() || name != exclude) pairs.emplace_back(UriEncode(name), UriEncode(value));
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  std::sort(pairs.begin(), pairs.end());
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

CanonicalRequestText CanonicalRequest(std::string_view method, std::string_view path,
                                      std::string_view raw_query,
                                      const std::vector<std::pair<std::string, std::string>>& headers,
                                      std::string_view payload_hash, std::string_view service,
                                      std::string_view exclude_query) {
  std::map<std::string, std::string> canonical;  // sorted by lower-case name
  for (const auto& [name, value] : headers) {
    auto [it, inserted] = canonical.emplace(core::AsciiLower(name), TrimAll(value));
    if (!inserted) it->second.append(",").append(TrimAll(value));
  }
  CanonicalRequestText out;
  std::string& t = out.text;
  t.append(method).append("\n");
  t.append(CanonicalUri(path, service)).append("\n");
  t.append(CanonicalQueryString(raw_query, exclude_query)).append("\n");
  for (const auto& [name, value] : canonical) {
    t.append(name).append(":").append(value).append("\n");
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers.append(name);
  }
  t.append("\n").append(out.signed_headers).append("\n").append(payload_hash);
  return out;
}

std::string CredentialScope(std::string_view date, std::string_view region, std::string_view service) {
  std::string s(date);
  s.append("/").append(region).append("/").append(service).append("/aws4_request");
  return s;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string s(kSigV4Algorithm);
  s.append("\n").append(amz_date).append("\n").append(scope).append("\n").append(HexSha256(canonical_request));
  return s;
}

std::string DeriveSigningKey(std::string_view secret_access_key, std::string_view date,
                             std::string_view region, std::string_view service) {
  std::string k = "AWS4";
  k.append(secret_access_key);
  std::string k_date = HmacSha256(k, date);
  std::string k_region = HmacSha256(k_date, region);
  std::string k_service = HmacSha256(k_region, service);
  OPENSSL_cleanse(k.data(), k.size());
  return HmacSha256(k_service, "aws4_request");
}

std::string SignatureHex(std::string_view signing_key, std::string_view string_to_sign) {
  return HexEncode(HmacSha256(signing_key, string_to_sign));
}

void SignRequest(HttpRequest& request, const Credentials& credentials, std::string_view region,
                 std::string_view service, core::TimePoint now, bool add_content_sha256) {
  RemoveHeader(request, "authorization");
  RemoveHeader(request, "x-amz-date");
  RemoveHeader(request, "x-amz-security-token");
  const UrlParts url = SplitUrl(request.url);
  if (FindHeader(request, "host") == nullptr) request.headers.emplace_back("host", HostHeader(url));
  const std::string amz_date = FormatAmzDate(now);
  request.headers.emplace_back("x-amz-date", amz_date);
  if (!credentials.session_token.empty()) {
    request.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  std::string payload_hash;
  if (const std::string* given = FindHeader(request, "x-amz-content-sha256")) {
    payload_hash = *given;
  } else {
    payload_hash = HexSha256(request.body);
    if (add_content_sha256) request.headers.emplace_back("x-amz-content-sha256", payload_hash);
  }

  std::vector<std::pair<std::string, std::string>> to_sign;
  for (const auto& [name, value] : request.headers) {
    if (!IsExcludedFromSigning(core::AsciiLower(name))) to_sign.emplace_back(name, value);
  }
  const CanonicalRequestText canonical =
      CanonicalRequest(request.method, url.path, url.query, to_sign, payload_hash, service);
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = CredentialScope(date, region, service);
  const std::string signature =
      SignatureHex(DeriveSigningKey(credentials.secret_access_key, date, region, service),
                   StringToSign(amz_date, scope, canonical.text));
  request.headers.emplace_back("Authorization", std::string(kSigV4Algorithm) + " Credential=" +
                                                    credentials.access_key_id + "/" + scope +
                                                    ", SignedHeaders=" + canonical.signed_headers +
                                                    ", Signature=" + signature);
}

void PresignRequest(HttpRequest& request, const Credentials& credentials, std::string_view region,
                    std::string_view service, core::TimePoint now, std::chrono::seconds expires) {
  RemoveHeader(request, "authorization");
  UrlParts url = SplitUrl(request.url);
  std::vector<std::pair<std::string, std::string>> to_sign;
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    std::string lower = core::AsciiLower(name);
    if (IsExcludedFromSigning(lower)) continue;
    has_host = has_host || lower == "host";
    to_sign.emplace_back(name, value);
  }
  if (!has_host) to_sign.emplace_back("host", HostHeader(url));
  std::map<std::string, std::string> names;  // just for the sorted, de-duplicated list
  for (const auto& kv : to_sign) names.emplace(core::AsciiLower(kv.first), "");
  std::string signed_headers;
  for (const auto& kv : names) {
    if (!signed_headers.empty()) signed_headers.push_back(';');
    signed_headers.append(kv.first);
  }

  const std::string amz_date = FormatAmzDate(now);
  const std::string date = amz_date.substr(0, 8);
  const std::string scope = CredentialScope(date, region, service);
  std::string query = url.query;
  auto add = [&query](std::string_view name, std::string_view value) {
    if (!query.empty()) query.push_back('&');
    query.append(name).append("=").append(UriEncode(value));
  };
  add("X-Amz-Algorithm", kSigV4Algorithm);
  add("X-Amz-Credential", credentials.access_key_id + "/" + scope);
  add("X-Amz-Date", amz_date);
  add("X-Amz-Expires", std::to_string(expires.count()));
  add("X-Amz-SignedHeaders", signed_headers);
  if (!credentials.session_token.empty()) add("X-Amz-Security-Token", credentials.session_token);

  const std::string payload_hash = IsS3(service) ? std::string(kUnsignedPayload) : HexSha256(request.body);
  const CanonicalRequestText canonical =
      CanonicalRequest(request.method, url.path, query, to_sign, payload_hash, service);
  const std::string signature =
      SignatureHex(DeriveSigningKey(credentials.secret_access_key, date, region, service),
                   StringToSign(amz_date, scope, canonical.text));
  add("X-Amz-Signature", signature);
  std::string rebuilt = url.scheme.empty() ? "" : url.scheme + "://";
  rebuilt.append(url.authority).append(url.path.empty() ? "/" : url.path).append("?").append(query);
  request.url = std::move(rebuilt);
}

}  // namespace gpufleet::cloud::aws
