// SOCI indexes in a registry: build and push them (`gpufleet image index`, v1 found through the
// referrers API; `gpufleet image convert`, v2 bound into a new image index), and find the one
// that belongs to an image (v2 annotation first, then v1 referrers).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/status.h"
#include "image/resolve.h"
#include "image/registry_client.h"
#include "image/soci_index.h"

namespace gpufleet::image::soci {

struct BuildOptions {
  int64_t span_size = kDefaultSpanSize;
  int64_t min_layer_size = kDefaultMinLayerSize;
  std::string build_tool = std::string(kBuildToolIdentifier);
  // convert only: recompress every indexed layer into the zstd seekable format (a frame per span),
  // so zstd layers get a zTOC too. The tar bytes, hence the diffIDs and config, are unchanged.
  bool zstd_seekable = false;
  std::function<void(const std::string&)> log;  // one line per layer: indexed or skipped, and why
};

struct PushedIndex {
  Manifest manifest;
  std::string digest;
  size_t size = 0;
  int layers_indexed = 0, layers_skipped = 0;
};

// Builds the zTOC of every gzip layer of at least min_layer_size (each fetched once into an
// unlinked temporary file and verified), pushes the zTOCs, the empty config and the v1 index
// (by digest, with the image manifest as subject). On a registry without the referrers API the
// "sha256-<hex>" tag index is updated too, as oras-go does.
Result<PushedIndex> CreateIndexV1(RegistryClient& client, const std::string& repository, const ResolvedImage& image,
                                  const BuildOptions& options);

// `soci convert`: a v2 index for `image`, the image manifest annotated with the index's digest
// (and, with zstd_seekable, pointing at the recompressed layers), and an image index (the source's
// other platforms kept) pushed under `dest_tag` of the same repository. Returns the new image
// index's digest.
Result<std::string> ConvertV2(RegistryClient& client, const std::string& repository, const ResolvedImage& image,
                              const std::string& dest_tag, const BuildOptions& options);

struct FoundIndex {
  Manifest manifest;
  std::string digest;
  IndexVersion version = IndexVersion::kV1;
};
// The SOCI index of `image`: the manifest's com.amazon.soci.index-digest annotation (v2), else
// the newest v1 referrer. nullopt when the image has none.
Result<std::optional<FoundIndex>> FindIndex(RegistryClient& client, const std::string& repository, const ResolvedImage& image);

}  // namespace gpufleet::image::soci
