#include "image/resolve.h"

namespace gpufleet::image {

Result<ResolvedImage> ResolveImage(RegistryClient& client, const ImageReference& ref, const Platform& platform) {
  ResolvedImage out;
  GF_ASSIGN_OR_RETURN(FetchedManifest top, client.GetManifest(ref.repository, ref.ManifestReference()));
  FetchedManifest chosen = std::move(top);
  if (IsIndexMediaType(chosen.media_type)) {
    GF_ASSIGN_OR_RETURN(ImageIndex index, ParseImageIndex(chosen.bytes, chosen.media_type));
    GF_ASSIGN_OR_RETURN(Descriptor d, SelectPlatform(index, platform));
    out.index_digest = chosen.digest;
    GF_ASSIGN_OR_RETURN(chosen, client.GetManifest(ref.repository, d.digest));
  }
  if (!IsManifestMediaType(chosen.media_type) && !chosen.media_type.empty()) {
    return InvalidArgumentError(ref.String() + ": media type \"" + chosen.media_type.substr(0, 200) + "\" is not an image manifest or index");
  }
  GF_ASSIGN_OR_RETURN(out.manifest, ParseManifest(chosen.bytes, chosen.media_type));
  out.digest = chosen.digest;
  return out;
}

}  // namespace gpufleet::image
