// RegistryClient: the OCI distribution API of one registry (docs/image.md): manifests and
// indexes, blobs whole or by Range (resuming after a dropped connection), pushes, and the
// referrers API with the tag-schema fallback. Auth (Basic / Bearer token) and retries with
// backoff are handled here, per request, so callers see only results.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "image/manifest.h"
#include "image/registry_auth.h"
#include "image/registry_transport.h"

namespace gpufleet::image {

struct RegistryOptions {
  bool plain_http = false;              // http:// (a registry on loopback or an insecure one)
  std::vector<std::string> auth_files;  // empty: DefaultAuthFiles()
  TransportOptions transport;
  int max_attempts = 5;                              // per request, for 429, 5xx and dropped connections
  std::chrono::milliseconds backoff{200};            // doubled per attempt
};

struct FetchedManifest {
  std::string media_type;  // the body's own mediaType, else the Content-Type
  std::string digest;      // sha256 of the bytes (verified against the reference / header)
  std::string bytes;
};

struct BlobReadInfo {
  bool range_ignored = false;  // the registry answered a Range request with the whole blob
};

class RegistryClient {
 public:
  // `registry` as in a reference ("docker.io", "127.0.0.1:5000").
  RegistryClient(std::string registry, RegistryOptions options = {});
  ~RegistryClient();

  // A manifest or index by tag or digest. Errors: kNotFound, kUnauthenticated / kPermissionDenied,
  // kDataLoss when the bytes do not match the digest asked for or the registry's
  // Docker-Content-Digest.
  Result<FetchedManifest> GetManifest(const std::string& repository, const std::string& reference);
  // A whole small blob (config, zTOC), verified. Errors: kNotFound, kDataLoss, larger than max.
  Result<std::string> GetBlob(const std::string& repository, const std::string& digest, size_t max_size = 64 << 20);
  // Bytes [offset, offset + length) of a blob (length < 0: to its end) to `sink`, in order, each
  // byte once; a dropped connection resumes where it stopped. A registry that ignores Range is
  // served by skipping (info->range_ignored tells, so a caller can switch to one whole stream).
  Status ReadBlob(const std::string& repository, const std::string& digest, int64_t offset, int64_t length,
                  const std::function<Status(std::string_view)>& sink, BlobReadInfo* info = nullptr);
  // The blob's size (HEAD). kNotFound when absent.
  Result<int64_t> BlobSize(const std::string& repository, const std::string& digest);

  // Uploads a blob (monolithic POST + PUT) unless the registry has it.
  Status PushBlob(const std::string& repository, std::string_view bytes, const std::string& digest);
  // Puts a manifest under `reference` (a tag or its digest); returns its digest.
  Result<std::string> PushManifest(const std::string& repository, const std::string& reference,
                                   std::string_view media_type, std::string_view bytes);
  // Manifests whose subject is `digest`, filtered by artifact type when given: the referrers API,
  // else the "sha256-<hex>" tag of the fallback schema. An empty index when none.
  Result<ImageIndex> Referrers(const std::string& repository, const std::string& digest, std::string_view artifact_type = {});

  const std::string& registry() const { return registry_; }

 private:
  // Sends with auth and retries. `scope` is the token scope ("repository:NAME:pull").
  Result<RegistryResponse> Do(RegistryRequest request, const std::string& scope);
  Result<std::string> Authorize(const RegistryResponse& challenge, const std::string& scope);
  std::string Url(const std::string& path) const;

  std::string registry_;
  RegistryOptions options_;
  RegistryTransport transport_;
  std::mutex mu_;
  std::map<std::string, std::string> auth_by_scope_;  // scope → Authorization header value
  std::optional<std::optional<Credentials>> credentials_;  // looked up once
};

}  // namespace gpufleet::image
