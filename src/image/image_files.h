// Reading an image's files without pulling it: `gpufleet image cat` and `ls-files`. Layers with a
// zTOC (from the image's SOCI index) serve a file by fetching and verifying only the spans that
// hold it; layers without one are streamed once and scanned. The top layer that has the path
// wins, and whiteouts in upper layers hide it, as in the unpacked rootfs.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "image/registry_client.h"
#include "image/resolve.h"
#include "image/ztoc.h"

namespace gpufleet::image {

struct ImageFile {
  std::string bytes;
  int layer = -1;                // index of the layer it came from
  bool via_ztoc = false;         // served from spans, not a layer stream
  int64_t bytes_fetched = 0;     // compressed bytes read from the registry for it
};

// Errors: kNotFound (no such file, or deleted by a whiteout), kInvalidArgument (a directory or a
// special file), kDataLoss (a span or layer whose digest does not match).
Result<ImageFile> ReadImageFile(RegistryClient& client, const std::string& repository, const ResolvedImage& image,
                                std::string_view path);

struct LayerListing {
  int layer = 0;
  std::string digest;
  bool indexed = false;  // from a zTOC
  std::vector<ZtocFile> files;
};
// Every layer's entries (from its zTOC when it has one, else by streaming the layer).
Result<std::vector<LayerListing>> ListImageFiles(RegistryClient& client, const std::string& repository, const ResolvedImage& image);

// "./usr//lib/" → "usr/lib": the form paths are compared in.
std::string CleanLayerPath(std::string_view path);

}  // namespace gpufleet::image
