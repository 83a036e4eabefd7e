// OCI and Docker v2 schema 2 manifests, image indexes (manifest lists) and image configs: parsed
// from untrusted registry bytes with every field checked, and written back for the SOCI index
// artifacts. Media types are the ones registries, containerd and soci-snapshotter use.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gpufleet::image {

namespace media_type {
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kOciLayerTar = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr std::string_view kOciEmptyJson = "application/vnd.oci.empty.v1+json";
// The Accept header of a manifest GET: every manifest and index type this client reads.
inline constexpr std::string_view kManifestAccept =
    "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";
}  // namespace media_type

enum class LayerCompression { kNone, kGzip, kZstd };
// The compression of a layer media type. Errors: a media type that is not a layer this client can
// unpack (named in the message), e.g. a Helm chart or an encrypted layer.
Result<LayerCompression> LayerCompressionOf(std::string_view media_type);

struct Platform {
  std::string os = "linux";
  std::string architecture;  // GOARCH names: amd64, arm64, ...
  std::string variant;       // "v8" for arm64 when given
  std::string String() const;
};
// The platform this binary runs on (linux/amd64, linux/arm64).
Platform HostPlatform();
// "linux/arm64/v8" → Platform. Errors: fewer than two parts.
Result<Platform> ParsePlatform(std::string_view text);

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::string artifact_type;
  std::map<std::string, std::string> annotations;
  std::vector<std::string> urls;
  std::optional<Platform> platform;
};

struct Manifest {
  std::string media_type;  // OCI or Docker v2 schema 2
  std::string artifact_type;
  Descriptor config;
  std::vector<Descriptor> layers;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;
};

struct ImageIndex {
  std::string media_type;
  std::string artifact_type;
  std::vector<Descriptor> manifests;
  std::optional<Descriptor> subject;
  std::map<std::string, std::string> annotations;
};

struct ImageConfig {
  Platform platform;
  std::vector<std::string> diff_ids;  // rootfs.diff_ids: sha256 of each uncompressed layer
};

// True for the index / manifest-list media types.
bool IsIndexMediaType(std::string_view media_type);
bool IsManifestMediaType(std::string_view media_type);

// Parse untrusted bytes. `media_type` is the Content-Type the registry sent (it decides when the
// body has no mediaType field). Errors name the field, e.g. "layers[2].digest".
Result<Manifest> ParseManifest(std::string_view bytes, std::string_view media_type);
Result<ImageIndex> ParseImageIndex(std::string_view bytes, std::string_view media_type);
Result<ImageConfig> ParseImageConfig(std::string_view bytes);

// Canonical JSON (keys sorted, no spaces) of a manifest or index, as pushed.
std::string SerializeManifest(const Manifest& manifest);
std::string SerializeImageIndex(const ImageIndex& index);

// The index entry for `want`: os and architecture equal, variant equal when both give one
// (arm64 defaults to v8). Errors list the platforms the index has.
Result<Descriptor> SelectPlatform(const ImageIndex& index, const Platform& want);

}  // namespace gpufleet::image
