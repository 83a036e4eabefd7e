// The SOCI index: soci-snapshotter's artifact that lists the zTOC of each large layer of an
// image, serialised as an OCI image manifest (docs/image.md):
//  - config: the empty JSON object "{}" with media type application/vnd.amazon.soci.index.v1+json
//    (or v2), so registries and oras-go can filter on it;
//  - layers: one descriptor per zTOC blob (application/octet-stream) annotated with the image
//    layer's digest, media type and the span size, and com.amazon.soci.disable-xattrs=true when
//    the layer has no xattrs and no opaque directories;
//  - v1 has `subject` = the image manifest (found through the referrers API); v2 has none and is
//    tied to the image by `gpufleet image convert` (an image index holding the image manifest
//    annotated com.amazon.soci.index-digest and the SOCI index annotated
//    com.amazon.soci.image-manifest-digest).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "image/manifest.h"
#include "image/ztoc.h"

namespace gpufleet::image::soci {

inline constexpr std::string_view kIndexV1 = "application/vnd.amazon.soci.index.v1+json";
inline constexpr std::string_view kIndexV2 = "application/vnd.amazon.soci.index.v2+json";
inline constexpr std::string_view kZtocMediaType = "application/octet-stream";
inline constexpr std::string_view kEmptyJson = "{}";
inline constexpr std::string_view kEmptyJsonDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
inline constexpr std::string_view kLayerDigestAnnotation = "com.amazon.soci.image-layer-digest";
inline constexpr std::string_view kLayerMediaTypeAnnotation = "com.amazon.soci.image-layer-mediaType";
inline constexpr std::string_view kSpanSizeAnnotation = "com.amazon.soci.span-size";
inline constexpr std::string_view kDisableXattrsAnnotation = "com.amazon.soci.disable-xattrs";
inline constexpr std::string_view kBuildToolAnnotation = "com.amazon.soci.build-tool-identifier";
inline constexpr std::string_view kIndexDigestAnnotation = "com.amazon.soci.index-digest";
inline constexpr std::string_view kImageManifestDigestAnnotation = "com.amazon.soci.image-manifest-digest";
// Every gzip layer gets a zTOC by default (soci's CLI skips layers under 10 MiB; pass
// --min-layer-size 10485760 for its behaviour). A small layer's zTOC costs little and lets `cat`
// read it without streaming it.
inline constexpr int64_t kDefaultMinLayerSize = 0;

enum class IndexVersion { kV1, kV2 };

// True when no file of the layer has xattrs (PAX SCHILY.xattr.*) and none is an opaque-dir marker:
// the snapshotter may then skip xattr lookups for the layer.
bool ShouldDisableXattrs(const Ztoc& ztoc);

// The descriptor of a zTOC blob in the index.
Descriptor ZtocDescriptor(const Ztoc& ztoc, std::string_view ztoc_bytes, const Descriptor& layer);

// The SOCI index manifest over `ztocs` (in image layer order). `subject` is required for v1 and
// must be absent for v2.
Result<Manifest> NewIndexManifest(IndexVersion version, std::vector<Descriptor> ztocs, std::optional<Descriptor> subject,
                                  std::string_view build_tool = kBuildToolIdentifier);

// Checks a SOCI index read from a registry: its config media type names v1 or v2, every layer is
// a zTOC descriptor with a valid image-layer digest. Returns the version.
Result<IndexVersion> ValidateIndexManifest(const Manifest& index);

}  // namespace gpufleet::image::soci
