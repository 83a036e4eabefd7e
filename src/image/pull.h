// PullImage: `gpufleet image pull` (docs/image.md). Layers are fetched in aligned Range chunks
// over several connections, in order, into a bounded prefetch window; each layer is hashed and
// inflated as it arrives (one thread) while a second thread hashes the tar stream (the diffID),
// parses it and writes the files. Nothing is stored whole and nothing is read twice.
//
// The output appears only when complete: the pull writes into a hidden sibling of DEST and
// renames it into place after every digest and diffID matched; any failure removes it.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "image/extract.h"
#include "image/manifest.h"
#include "image/reference.h"
#include "image/registry_client.h"
#include "image/resolve.h"

namespace gpufleet::image {

enum class PullLayout {
  kRootfs,   // DEST is the image's root filesystem, whiteouts applied
  kOverlay,  // DEST/layers/<i>/ per layer, whiteouts in overlayfs form; DEST/lowerdir names them
};

struct PullProgress {
  int layers_total = 0, layers_done = 0;
  int64_t bytes_total = 0;       // compressed
  int64_t bytes_fetched = 0;     // compressed bytes received
  int64_t bytes_unpacked = 0;    // uncompressed bytes written through
  bool done = false;
};

struct PullOptions {
  std::string dest;
  PullLayout layout = PullLayout::kRootfs;
  Platform platform = HostPlatform();
  int64_t chunk_size = 16 << 20;          // bytes per Range request
  int connections = 8;                    // concurrent requests for the image
  int64_t prefetch_bytes = 256 << 20;     // compressed bytes fetched ahead of the unpacking
  ExtractOptions extract;
  // A layer that inflates past 256 MiB at more than this ratio to its compressed bytes is taken
  // for a decompression bomb (real layers stay under 20:1; 0 turns the check off).
  int max_ratio = 200;
  // Use the image's SOCI index (v2 annotation or v1 referrer), when it has one, to inflate each
  // indexed layer's spans on `inflate_threads` cores. With 0 (one per core) that happens only on
  // machines with 4 or more cores; a number forces it.
  bool use_index = true;
  unsigned inflate_threads = 0;
  std::function<void(const PullProgress&)> on_progress;  // from a pull thread, at most ~5 times a second and at the end
};

struct PullResult {
  std::string manifest_digest;
  int layers = 0;
  int64_t bytes_compressed = 0;
  int64_t bytes_uncompressed = 0;
  bool range_ignored = false;  // the registry ignored Range: layers came as whole streams
  int layers_indexed = 0;      // layers inflated span by span from their zTOC
  std::string index_note;      // why the SOCI index was not used, when it was not
};

// Errors: the reference's manifest or a blob missing (kNotFound), auth, a digest or diffID
// mismatch (kDataLoss, naming the layer), a layer media type that is not tar/gzip/zstd, an unsafe
// layer (kInvalidArgument), limits (kResourceExhausted), DEST not empty (kAlreadyExists).
Result<PullResult> PullImage(RegistryClient& client, const ImageReference& ref, const PullOptions& options);

}  // namespace gpufleet::image
