// ResolveImage: the image manifest a reference means on a platform, through an image index (a
// multi-platform tag) when the tag names one. Shared by pull, index, convert and cat.
#pragma once

#include <string>

#include "core/status.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry_client.h"

namespace gpufleet::image {

struct ResolvedImage {
  std::string digest;        // of the image manifest
  Manifest manifest;
  std::string index_digest;  // the index it was selected from, if any
};

// Errors: not found, auth, a platform the index lacks (listing those it has), a media type that
// is neither a manifest nor an index.
Result<ResolvedImage> ResolveImage(RegistryClient& client, const ImageReference& ref, const Platform& platform);

}  // namespace gpufleet::image
