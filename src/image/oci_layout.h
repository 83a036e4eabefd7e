// OCI image layouts on disk (oci-layout, index.json, blobs/sha256/...): the input of
// `gpufleet image push`, as skopeo, umoci and buildkit write them.
#pragma once

#include <string>

#include "core/status.h"
#include "image/reference.h"
#include "image/registry_client.h"

namespace gpufleet::image {

// Pushes the image named `layout_spec` ("DIR" or "DIR:TAG", TAG matched against the
// org.opencontainers.image.ref.name annotation of index.json) to `dest`: every blob the registry
// lacks (each verified against its digest while read), child manifests of an index, then the
// top manifest under dest's tag. Returns the top manifest's digest. Errors name the layout file
// or blob at fault.
Result<std::string> PushLayout(RegistryClient& client, const ImageReference& dest, const std::string& layout_spec);

}  // namespace gpufleet::image
