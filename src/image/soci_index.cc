#include "image/soci_index.h"

#include "image/digest.h"

namespace gpufleet::image::soci {

bool ShouldDisableXattrs(const Ztoc& ztoc) {
  for (const ZtocFile& f : ztoc.files) {
    if (f.name.ends_with(".wh..wh..opq")) return false;
    for (const auto& [key, value] : f.xattrs) {
      if (key.starts_with("SCHILY.xattr.")) return false;
    }
  }
  return true;
}

Descriptor ZtocDescriptor(const Ztoc& ztoc, std::string_view ztoc_bytes, const Descriptor& layer) {
  Descriptor d;
  d.media_type = std::string(kZtocMediaType);
  d.digest = Sha256Digest(ztoc_bytes);
  d.size = static_cast<int64_t>(ztoc_bytes.size());
  d.annotations[std::string(kLayerDigestAnnotation)] = layer.digest;
  d.annotations[std::string(kLayerMediaTypeAnnotation)] = layer.media_type;
  d.annotations[std::string(kSpanSizeAnnotation)] = std::to_string(ztoc.index.span_size);
  if (ShouldDisableXattrs(ztoc)) d.annotations[std::string(kDisableXattrsAnnotation)] = "true";
  return d;
}

Result<Manifest> NewIndexManifest(IndexVersion version, std::vector<Descriptor> ztocs, std::optional<Descriptor> subject,
                                  std::string_view build_tool) {
  if (ztocs.empty()) return FailedPreconditionError("no zTOC was built: every layer was skipped (too small or not gzip)");
  if (version == IndexVersion::kV1 && !subject) return InvalidArgumentError("a v1 SOCI index needs the image manifest as subject");
  if (version == IndexVersion::kV2 && subject) return InvalidArgumentError("a v2 SOCI index has no subject");
  Manifest m;
  m.media_type = std::string(media_type::kOciManifest);
  m.config.media_type = std::string(version == IndexVersion::kV1 ? kIndexV1 : kIndexV2);
  m.config.digest = std::string(kEmptyJsonDigest);
  m.config.size = 2;
  m.layers = std::move(ztocs);
  if (subject) {
    Descriptor s;  // only what identifies the manifest
    s.media_type = subject->media_type;
    s.digest = subject->digest;
    s.size = subject->size;
    m.subject = s;
  }
  m.annotations[std::string(kBuildToolAnnotation)] = std::string(build_tool);
  return m;
}

Result<IndexVersion> ValidateIndexManifest(const Manifest& index) {
  IndexVersion version;
  if (index.config.media_type == kIndexV1) {
    version = IndexVersion::kV1;
  } else if (index.config.media_type == kIndexV2) {
    version = IndexVersion::kV2;
  } else {
    return InvalidArgumentError("not a SOCI index: config media type \"" + index.config.media_type.substr(0, 200) + "\"");
  }
  for (size_t i = 0; i < index.layers.size(); ++i) {
    auto it = index.layers[i].annotations.find(std::string(kLayerDigestAnnotation));
    if (it == index.layers[i].annotations.end()) {
      return InvalidArgumentError("SOCI index layers[" + std::to_string(i) + "]: no " + std::string(kLayerDigestAnnotation) + " annotation");
    }
    GF_RETURN_IF_ERROR(ValidateDigest(it->second, "SOCI index layers[" + std::to_string(i) + "] image layer digest"));
  }
  return version;
}

}  // namespace gpufleet::image::soci
