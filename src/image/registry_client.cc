#include "image/registry_client.h"

#include <curl/curl.h>

#include <thread>

#include "core/json.h"
#include "image/digest.h"
#include "kube/encoding.h"

namespace gpufleet::image {
namespace {

bool Retryable(long status) { return status == 429 || status == 500 || status == 502 || status == 503 || status == 504; }

std::string Escape(std::string_view s) {
  char* e = curl_easy_escape(nullptr, s.data(), static_cast<int>(s.size()));
  std::string out = e ? e : "";
  curl_free(e);
  return out;
}

// A registry error body: {"errors":[{"code":"MANIFEST_UNKNOWN","message":"..."}]}.
std::string ErrorDetail(const RegistryResponse& r) {
  auto doc = core::ParseJson(r.body, 8);
  if (doc.ok() && doc->is_object()) {
    auto errors = doc->find("errors");
    if (errors != doc->end() && errors->is_array() && !errors->empty() && (*errors)[0].is_object()) {
      const auto& e = (*errors)[0];
      std::string code = e.value("code", std::string()), message = e.value("message", std::string());
      return code + (message.empty() ? "" : ": " + message.substr(0, 300));
    }
  }
  return "HTTP " + std::to_string(r.status);
}

Status StatusError(const RegistryResponse& r, const std::string& what) {
  const std::string msg = what + ": " + ErrorDetail(r) + (r.status ? " (HTTP " + std::to_string(r.status) + ")" : "");
  switch (r.status) {
    case 401: return UnauthenticatedError(msg);
    case 403: return PermissionDeniedError(msg);
    case 404: return NotFoundError(msg);
    case 416: return OutOfRangeError(msg);
    case 429: return ResourceExhaustedError(msg);
    default: return r.status >= 500 ? UnavailableError(msg) : FailedPreconditionError(msg);
  }
}

// Stops a whole-blob answer once the asked-for bytes passed (a registry that ignores Range).
Status Enough() { return CancelledError("gpufleet: range complete"); }
bool IsEnough(const Status& s) { return s.code() == StatusCode::kCancelled && s.message() == "gpufleet: range complete"; }

}  // namespace

RegistryClient::RegistryClient(std::string registry, RegistryOptions options)
    : registry_(std::move(registry)), options_(std::move(options)), transport_(options_.transport) {
  if (options_.auth_files.empty()) options_.auth_files = DefaultAuthFiles();
}
RegistryClient::~RegistryClient() = default;

std::string RegistryClient::Url(const std::string& path) const {
  const std::string host = registry_ == "docker.io" ? "registry-1.docker.io" : registry_;
  return (options_.plain_http ? "http://" : "https://") + host + path;
}

Result<std::string> RegistryClient::Authorize(const RegistryResponse& response, const std::string& scope) {
  std::optional<Credentials> creds;
  {
    std::lock_guard lock(mu_);
    if (!credentials_) {
      auto found = LookupCredentials(registry_, options_.auth_files);
      if (!found.ok()) return found.status();
      credentials_ = *found;
    }
    creds = *credentials_;
  }
  auto it = response.headers.find("www-authenticate");
  const std::vector<Challenge> challenges = ParseChallenges(it == response.headers.end() ? "" : it->second);
  for (const Challenge& c : challenges) {
    if (c.scheme == "basic") {
      if (!creds) {
        return UnauthenticatedError("registry " + registry_ + " asks for a user name and password; none found in " +
                                    std::to_string(options_.auth_files.size()) + " auth file(s) (docker login / --authfile)");
      }
      return "Basic " + kube::Base64Encode(creds->username + ":" + creds->password);
    }
    if (c.scheme != "bearer") continue;
    auto realm = c.params.find("realm");
    if (realm == c.params.end() || realm->second.empty()) return UnauthenticatedError("registry " + registry_ + ": a Bearer challenge without realm");
    std::string url = realm->second + (realm->second.find('?') == std::string::npos ? "?" : "&");
    if (auto svc = c.params.find("service"); svc != c.params.end()) url += "service=" + Escape(svc->second) + "&";
    url += "scope=" + Escape(scope);
    RegistryRequest token_request;
    token_request.url = url;
    if (creds && !creds->username.empty()) {
      token_request.headers.emplace_back("Authorization", "Basic " + kube::Base64Encode(creds->username + ":" + creds->password));
    }
    Result<RegistryResponse> token = UnavailableError("not sent");
    for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(options_.backoff * (1 << std::min(attempt - 1, 5)));
      token = transport_.Send(token_request);
      if (token.ok() && !Retryable(token->status)) break;
    }
    if (!token.ok()) return token.status().WithContext("token service of " + registry_);
    if (token->status == 401 || token->status == 403) {
      return UnauthenticatedError("token service of " + registry_ + " refused " + (creds ? "the credentials" : "anonymous access") +
                                  " for " + scope + " (HTTP " + std::to_string(token->status) + ")");
    }
    if (token->status != 200) return StatusError(*token, "token service of " + registry_);
    GF_ASSIGN_OR_RETURN(std::string value, ParseTokenResponse(token->body));
    return "Bearer " + value;
  }
  return UnauthenticatedError("registry " + registry_ + " answered 401 without a Basic or Bearer challenge");
}

Result<RegistryResponse> RegistryClient::Do(RegistryRequest request, const std::string& scope) {
  const size_t fixed_headers = request.headers.size();
  bool authorized_fresh = false;
  for (int attempt = 0;; ++attempt) {
    request.headers.resize(fixed_headers);
    {
      std::lock_guard lock(mu_);
      if (auto it = auth_by_scope_.find(scope); it != auth_by_scope_.end()) request.headers.emplace_back("Authorization", it->second);
    }
    Result<RegistryResponse> response = transport_.Send(request);
    // A dropped stream is resumed by ReadBlob, which knows how much was delivered; here only
    // requests whose body was not streamed anywhere yet are sent again.
    const bool transient = (!response.ok() && response.status().code() == StatusCode::kUnavailable && !request.on_body) ||
                           (response.ok() && Retryable(response->status));
    if (transient && attempt + 1 < options_.max_attempts) {
      std::this_thread::sleep_for(options_.backoff * (1 << std::min(attempt, 5)));
      continue;
    }
    if (!response.ok() || response->status != 401 || authorized_fresh) return response;
    GF_ASSIGN_OR_RETURN(std::string header, Authorize(*response, scope));
    {
      std::lock_guard lock(mu_);
      auth_by_scope_[scope] = header;
    }
    authorized_fresh = true;
  }
}

Result<FetchedManifest> RegistryClient::GetManifest(const std::string& repository, const std::string& reference) {
  RegistryRequest req;
  req.url = Url("/v2/" + repository + "/manifests/" + reference);
  req.headers.emplace_back("Accept", std::string(media_type::kManifestAccept));
  req.max_body = 4 << 20;
  const std::string what = "manifest " + registry_ + "/" + repository + ":" + reference;
  GF_ASSIGN_OR_RETURN(RegistryResponse r, Do(std::move(req), "repository:" + repository + ":pull"));
  if (r.status != 200) return StatusError(r, what);
  FetchedManifest m;
  m.digest = Sha256Digest(r.body);
  if (reference.starts_with("sha256:") && reference != m.digest) {
    return DataLossError(what + ": the registry sent bytes of digest " + m.digest);
  }
  if (auto h = r.headers.find("docker-content-digest"); h != r.headers.end() && h->second.starts_with("sha256:") && h->second != m.digest) {
    return DataLossError(what + ": Docker-Content-Digest " + h->second + " but the bytes are " + m.digest);
  }
  auto doc = core::ParseJson(r.body, 64);
  if (doc.ok() && doc->is_object()) m.media_type = doc->value("mediaType", std::string());
  if (m.media_type.empty()) {
    auto ct = r.headers.find("content-type");
    m.media_type = ct == r.headers.end() ? "" : ct->second.substr(0, ct->second.find(';'));
  }
  m.bytes = std::move(r.body);
  return m;
}

Result<std::string> RegistryClient::GetBlob(const std::string& repository, const std::string& digest, size_t max_size) {
  GF_RETURN_IF_ERROR(ValidateDigest(digest, "blob digest"));
  std::string out;
  Sha256 sha;
  GF_RETURN_IF_ERROR(ReadBlob(repository, digest, 0, -1, [&](std::string_view piece) {
    if (out.size() + piece.size() > max_size) {
      return ResourceExhaustedError("blob " + digest + " is larger than " + std::to_string(max_size) + " bytes");
    }
    out.append(piece);
    return OkStatus();
  }));
  sha.Update(out);
  if (std::string got = sha.Finish(); got != digest) {
    return DataLossError("blob " + digest + " of " + registry_ + "/" + repository + ": the bytes are " + got);
  }
  return out;
}

Status RegistryClient::ReadBlob(const std::string& repository, const std::string& digest, int64_t offset, int64_t length,
                                const std::function<Status(std::string_view)>& sink, BlobReadInfo* info) {
  GF_RETURN_IF_ERROR(ValidateDigest(digest, "blob digest"));
  const std::string what = "blob " + digest + " of " + registry_ + "/" + repository;
  int64_t delivered = 0;  // bytes handed to sink so far
  for (int attempt = 0;; ++attempt) {
    const int64_t from = offset + delivered;
    RegistryRequest req;
    req.url = Url("/v2/" + repository + "/blobs/" + digest);
    const bool ranged = from > 0 || length >= 0;
    if (ranged) req.headers.emplace_back("Range", "bytes=" + std::to_string(from) + "-" + (length >= 0 ? std::to_string(offset + length - 1) : ""));
    int64_t skip = 0;  // bytes of a whole-blob answer before `from`
    req.on_response = [&](long status, const std::map<std::string, std::string>&) -> Status {
      if (ranged && status == 200) {
        skip = from;  // the registry ignores Range: skip to where we are
        if (info) info->range_ignored = true;
      }
      return OkStatus();
    };
    req.on_body = [&](std::string_view piece) -> Status {
      if (skip > 0) {
        const int64_t drop = std::min<int64_t>(skip, static_cast<int64_t>(piece.size()));
        piece.remove_prefix(static_cast<size_t>(drop));
        skip -= drop;
      }
      if (length >= 0 && static_cast<int64_t>(piece.size()) > length - delivered) {
        piece = piece.substr(0, static_cast<size_t>(length - delivered));
      }
      if (!piece.empty()) {
        GF_RETURN_IF_ERROR(sink(piece));
        delivered += static_cast<int64_t>(piece.size());
      }
      if (length >= 0 && delivered >= length) return Enough();
      return OkStatus();
    };
    Result<RegistryResponse> r = Do(std::move(req), "repository:" + repository + ":pull");
    if (!r.ok() && IsEnough(r.status())) return OkStatus();
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kUnavailable && attempt + 1 < options_.max_attempts) {
        std::this_thread::sleep_for(options_.backoff * (1 << std::min(attempt, 5)));
        continue;  // resume from what was delivered
      }
      return r.status().WithContext(what);
    }
    if (r->status == 200 || r->status == 206) {
      if (length >= 0 && delivered < length) {
        if (attempt + 1 < options_.max_attempts) continue;
        return DataLossError(what + ": the registry sent " + std::to_string(delivered) + " of " + std::to_string(length) + " bytes");
      }
      return OkStatus();
    }
    if (r->status == 416) return OutOfRangeError(what + ": bytes from " + std::to_string(from) + " are past its end");
    return StatusError(*r, what);
  }
}

Result<int64_t> RegistryClient::BlobSize(const std::string& repository, const std::string& digest) {
  GF_RETURN_IF_ERROR(ValidateDigest(digest, "blob digest"));
  RegistryRequest req;
  req.url = Url("/v2/" + repository + "/blobs/" + digest);
  req.head = true;
  GF_ASSIGN_OR_RETURN(RegistryResponse r, Do(std::move(req), "repository:" + repository + ":pull"));
  if (r.status != 200) return StatusError(r, "blob " + digest + " of " + registry_ + "/" + repository);
  auto len = r.headers.find("content-length");
  if (len == r.headers.end()) return FailedPreconditionError("blob " + digest + ": the registry sent no Content-Length");
  return std::strtoll(len->second.c_str(), nullptr, 10);
}

Status RegistryClient::PushBlob(const std::string& repository, std::string_view bytes, const std::string& digest) {
  GF_RETURN_IF_ERROR(ValidateDigest(digest, "blob digest"));
  const std::string scope = "repository:" + repository + ":pull,push";
  const std::string what = "push of blob " + digest + " to " + registry_ + "/" + repository;
  RegistryRequest head;
  head.url = Url("/v2/" + repository + "/blobs/" + digest);
  head.head = true;
  GF_ASSIGN_OR_RETURN(RegistryResponse have, Do(std::move(head), scope));
  if (have.status == 200) return OkStatus();
  RegistryRequest start;
  start.method = "POST";
  start.url = Url("/v2/" + repository + "/blobs/uploads/");
  GF_ASSIGN_OR_RETURN(RegistryResponse session, Do(std::move(start), scope));
  if (session.status != 202) return StatusError(session, what);
  auto location = session.headers.find("location");
  if (location == session.headers.end()) return FailedPreconditionError(what + ": the registry sent no upload Location");
  std::string url = location->second;
  if (url.starts_with("/")) url = Url(url);  // relative to the registry
  url += (url.find('?') == std::string::npos ? "?" : "&") + std::string("digest=") + Escape(digest);
  RegistryRequest put;
  put.method = "PUT";
  put.url = url;
  put.body = bytes;
  put.headers.emplace_back("Content-Type", "application/octet-stream");
  GF_ASSIGN_OR_RETURN(RegistryResponse done, Do(std::move(put), scope));
  if (done.status != 201) return StatusError(done, what);
  return OkStatus();
}

Result<std::string> RegistryClient::PushManifest(const std::string& repository, const std::string& reference,
                                                 std::string_view media_type, std::string_view bytes) {
  RegistryRequest put;
  put.method = "PUT";
  put.url = Url("/v2/" + repository + "/manifests/" + reference);
  put.body = bytes;
  put.headers.emplace_back("Content-Type", std::string(media_type));
  GF_ASSIGN_OR_RETURN(RegistryResponse r, Do(std::move(put), "repository:" + repository + ":pull,push"));
  if (r.status != 201 && r.status != 200) return StatusError(r, "push of manifest " + registry_ + "/" + repository + ":" + reference);
  return Sha256Digest(bytes);
}

Result<ImageIndex> RegistryClient::Referrers(const std::string& repository, const std::string& digest, std::string_view artifact_type) {
  GF_RETURN_IF_ERROR(ValidateDigest(digest, "subject digest"));
  RegistryRequest req;
  req.url = Url("/v2/" + repository + "/referrers/" + digest);
  if (!artifact_type.empty()) req.url += "?artifactType=" + Escape(artifact_type);
  req.headers.emplace_back("Accept", std::string(media_type::kOciIndex));
  req.max_body = 4 << 20;
  GF_ASSIGN_OR_RETURN(RegistryResponse r, Do(std::move(req), "repository:" + repository + ":pull"));
  ImageIndex index;
  if (r.status == 200) {
    GF_ASSIGN_OR_RETURN(index, ParseImageIndex(r.body, media_type::kOciIndex));
  } else if (r.status == 404) {
    // No referrers API: the fallback tag "sha256-<hex>" holds an index of the referrers.
    auto tagged = GetManifest(repository, "sha256-" + digest.substr(7));
    if (!tagged.ok() && IsNotFound(tagged.status())) return ImageIndex{std::string(media_type::kOciIndex), "", {}, std::nullopt, {}};
    if (!tagged.ok()) return tagged.status();
    GF_ASSIGN_OR_RETURN(index, ParseImageIndex(tagged->bytes, tagged->media_type));
  } else {
    return StatusError(r, "referrers of " + digest + " in " + registry_ + "/" + repository);
  }
  if (!artifact_type.empty()) {
    std::erase_if(index.manifests, [&](const Descriptor& d) { return d.artifact_type != artifact_type; });
  }
  return index;
}

}  // namespace gpufleet::image
