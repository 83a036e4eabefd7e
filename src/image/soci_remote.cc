#include "image/soci_remote.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "image/decompress.h"
#include "image/digest.h"
#include "image/zstd_seekable.h"

namespace gpufleet::image::soci {
namespace {

// An unlinked temporary file holding one layer blob, read back with pread.
class TempBlob {
 public:
  ~TempBlob() {
    if (fd_ >= 0) close(fd_);
  }
  Status Create() {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir && *dir ? dir : "/tmp") + "/gpufleet-layer-XXXXXX";
    fd_ = mkstemp(path.data());
    if (fd_ < 0) return InternalError("temporary file in " + path + ": " + std::strerror(errno));
    unlink(path.c_str());
    return OkStatus();
  }
  Status WriteAll(std::string_view data) {
    for (size_t at = 0; at < data.size();) {
      const ssize_t n = write(fd_, data.data() + at, data.size() - at);
      if (n < 0) return InternalError(std::string("write temporary layer file: ") + std::strerror(errno));
      at += static_cast<size_t>(n);
    }
    return OkStatus();
  }
  Status Fetch(RegistryClient& client, const std::string& repository, const Descriptor& layer) {
    GF_RETURN_IF_ERROR(Create());
    Sha256 sha;
    int64_t written = 0;
    GF_RETURN_IF_ERROR(client.ReadBlob(repository, layer.digest, 0, -1, [&](std::string_view data) -> Status {
      sha.Update(data);
      written += static_cast<int64_t>(data.size());
      return WriteAll(data);
    }));
    if (written != layer.size) {
      return DataLossError("layer " + layer.digest + ": the registry sent " + std::to_string(written) + " bytes, the manifest says " +
                           std::to_string(layer.size));
    }
    if (std::string got = sha.Finish(); got != layer.digest) return DataLossError("layer " + layer.digest + ": the bytes are " + got);
    return OkStatus();
  }
  // The layer decompressed and written again as seekable zstd (frames of `frame_size`). Returns
  // the new blob's descriptor; the source blob is verified against its digest on the way.
  Result<Descriptor> FetchAsSeekableZstd(RegistryClient& client, const std::string& repository, const Descriptor& layer,
                                         int64_t frame_size) {
    GF_ASSIGN_OR_RETURN(LayerCompression compression, LayerCompressionOf(layer.media_type));
    GF_RETURN_IF_ERROR(Create());
    Sha256 source_sha, out_sha;
    int64_t written = 0;
    ZstdSeekableWriter writer(
        [&](std::string_view data) -> Status {
          out_sha.Update(data);
          written += static_cast<int64_t>(data.size());
          return WriteAll(data);
        },
        frame_size);
    auto decompressor = NewLayerDecompressor(compression, [&](std::string_view tar) { return writer.Feed(tar); });
    GF_RETURN_IF_ERROR(client.ReadBlob(repository, layer.digest, 0, -1, [&](std::string_view data) {
      source_sha.Update(data);
      return decompressor->Feed(data);
    }));
    GF_RETURN_IF_ERROR(decompressor->Finish());
    if (std::string got = source_sha.Finish(); got != layer.digest) return DataLossError("layer " + layer.digest + ": the bytes are " + got);
    GF_RETURN_IF_ERROR(writer.Finish());
    Descriptor d;
    d.media_type = std::string(media_type::kOciLayerZstd);
    d.digest = out_sha.Finish();
    d.size = written;
    return d;
  }
  Result<std::string> ReadAll(int64_t size) const {
    std::string out;
    GF_ASSIGN_OR_RETURN(out, Reader()(0, size));
    if (static_cast<int64_t>(out.size()) != size) return InternalError("temporary layer file shorter than written");
    return out;
  }
  CompressedReader Reader() const {
    return [fd = fd_](int64_t offset, int64_t length) -> Result<std::string> {
      std::string out(static_cast<size_t>(length), '\0');
      const ssize_t n = pread(fd, out.data(), out.size(), offset);
      if (n < 0) return InternalError(std::string("read temporary layer file: ") + std::strerror(errno));
      out.resize(static_cast<size_t>(n));
      return out;
    };
  }

 private:
  int fd_ = -1;
};

void Log(const BuildOptions& options, const std::string& line) {
  if (options.log) options.log(line);
}

// Builds and pushes the zTOCs; returns their descriptors in layer order. With zstd_seekable,
// `layers` are replaced by their recompressed (and pushed) versions.
Result<std::vector<Descriptor>> BuildZtocs(RegistryClient& client, const std::string& repository, std::vector<Descriptor>& layers,
                                           const BuildOptions& options, PushedIndex& stats) {
  std::vector<Descriptor> out;
  for (Descriptor& layer : layers) {
    auto compression = LayerCompressionOf(layer.media_type);
    const bool indexable = compression.ok() && (*compression == LayerCompression::kGzip || *compression == LayerCompression::kZstd ||
                                                (options.zstd_seekable && *compression == LayerCompression::kNone));
    if (!indexable) {
      Log(options, "ztoc skipped - layer " + layer.digest + " (" + layer.media_type + ") is neither gzip nor zstd");
      ++stats.layers_skipped;
      continue;
    }
    if (layer.size < options.min_layer_size) {
      Log(options, "ztoc skipped - layer " + layer.digest + " size " + std::to_string(layer.size) + " is less than min-layer-size " +
                       std::to_string(options.min_layer_size));
      ++stats.layers_skipped;
      continue;
    }
    TempBlob blob;
    if (options.zstd_seekable) {
      GF_ASSIGN_OR_RETURN(Descriptor recompressed, blob.FetchAsSeekableZstd(client, repository, layer, options.span_size));
      GF_ASSIGN_OR_RETURN(std::string bytes, blob.ReadAll(recompressed.size));
      GF_RETURN_IF_ERROR(client.PushBlob(repository, bytes, recompressed.digest));
      Log(options, "layer " + layer.digest + " -> seekable zstd " + recompressed.digest);
      recompressed.annotations = layer.annotations;
      layer = std::move(recompressed);
    } else {
      GF_RETURN_IF_ERROR(blob.Fetch(client, repository, layer));
    }
    auto ztoc = BuildZtoc(blob.Reader(), layer.size, options.span_size);
    if (!ztoc.ok() && *compression == LayerCompression::kZstd && !options.zstd_seekable) {
      Log(options, "ztoc skipped - layer " + layer.digest + " is zstd but not seekable (convert --zstd-seekable makes it so)");
      ++stats.layers_skipped;
      continue;
    }
    if (!ztoc.ok()) return ztoc.status().WithContext("layer " + layer.digest);
    ztoc->build_tool_identifier = options.build_tool;
    const std::string bytes = SerializeZtoc(*ztoc);
    Descriptor d = ZtocDescriptor(*ztoc, bytes, layer);
    GF_RETURN_IF_ERROR(client.PushBlob(repository, bytes, d.digest));
    Log(options, "layer " + layer.digest + " -> ztoc " + d.digest);
    out.push_back(std::move(d));
    ++stats.layers_indexed;
  }
  return out;
}

Result<PushedIndex> PushIndex(RegistryClient& client, const std::string& repository, Manifest manifest, PushedIndex stats) {
  GF_RETURN_IF_ERROR(client.PushBlob(repository, kEmptyJson, std::string(kEmptyJsonDigest)));
  const std::string bytes = SerializeManifest(manifest);
  const std::string digest = Sha256Digest(bytes);
  GF_ASSIGN_OR_RETURN(std::string pushed, client.PushManifest(repository, digest, media_type::kOciManifest, bytes));
  stats.manifest = std::move(manifest);
  stats.digest = pushed;
  stats.size = bytes.size();
  return stats;
}

// The referrers tag schema: an index at "sha256-<subject hex>" listing every referrer.
Status UpdateReferrersTag(RegistryClient& client, const std::string& repository, const PushedIndex& index) {
  const std::string tag = "sha256-" + index.manifest.subject->digest.substr(7);
  ImageIndex list{std::string(media_type::kOciIndex), "", {}, std::nullopt, {}};
  auto existing = client.GetManifest(repository, tag);
  if (existing.ok()) {
    GF_ASSIGN_OR_RETURN(list, ParseImageIndex(existing->bytes, existing->media_type));
  } else if (!IsNotFound(existing.status())) {
    return existing.status();
  }
  std::erase_if(list.manifests, [&](const Descriptor& d) { return d.digest == index.digest; });
  Descriptor d;
  d.media_type = std::string(media_type::kOciManifest);
  d.digest = index.digest;
  d.size = static_cast<int64_t>(index.size);
  d.artifact_type = index.manifest.config.media_type;
  d.annotations = index.manifest.annotations;
  list.manifests.push_back(std::move(d));
  return client.PushManifest(repository, tag, media_type::kOciIndex, SerializeImageIndex(list)).status();
}

}  // namespace

Result<PushedIndex> CreateIndexV1(RegistryClient& client, const std::string& repository, const ResolvedImage& image,
                                  const BuildOptions& options) {
  if (options.zstd_seekable) return InvalidArgumentError("--zstd-seekable changes the layers: it is an option of convert, not index");
  PushedIndex stats;
  std::vector<Descriptor> layers = image.manifest.layers;
  GF_ASSIGN_OR_RETURN(std::vector<Descriptor> ztocs, BuildZtocs(client, repository, layers, options, stats));
  Descriptor subject;
  subject.media_type = image.manifest.media_type;
  subject.digest = image.digest;
  GF_ASSIGN_OR_RETURN(FetchedManifest raw, client.GetManifest(repository, image.digest));
  subject.size = static_cast<int64_t>(raw.bytes.size());  // the bytes the registry holds, not a re-serialisation
  GF_ASSIGN_OR_RETURN(Manifest manifest, NewIndexManifest(IndexVersion::kV1, std::move(ztocs), subject, options.build_tool));
  GF_ASSIGN_OR_RETURN(PushedIndex pushed, PushIndex(client, repository, std::move(manifest), stats));
  // Registries with the referrers API list it by subject already; the tag serves those without.
  auto referrers = client.Referrers(repository, image.digest, kIndexV1);
  const bool listed = referrers.ok() && std::any_of(referrers->manifests.begin(), referrers->manifests.end(),
                                                    [&](const Descriptor& d) { return d.digest == pushed.digest; });
  if (!listed) GF_RETURN_IF_ERROR(UpdateReferrersTag(client, repository, pushed));
  return pushed;
}

Result<std::string> ConvertV2(RegistryClient& client, const std::string& repository, const ResolvedImage& image,
                              const std::string& dest_tag, const BuildOptions& options) {
  PushedIndex stats;
  std::vector<Descriptor> layers = image.manifest.layers;
  GF_ASSIGN_OR_RETURN(std::vector<Descriptor> ztocs, BuildZtocs(client, repository, layers, options, stats));
  GF_ASSIGN_OR_RETURN(Manifest manifest, NewIndexManifest(IndexVersion::kV2, std::move(ztocs), std::nullopt, options.build_tool));
  GF_ASSIGN_OR_RETURN(PushedIndex index, PushIndex(client, repository, std::move(manifest), stats));
  // The image manifest, annotated with its index (a new digest; the layers are shared).
  Manifest annotated = image.manifest;
  annotated.layers = std::move(layers);  // recompressed ones with zstd_seekable
  annotated.annotations[std::string(kIndexDigestAnnotation)] = index.digest;
  const std::string annotated_bytes = SerializeManifest(annotated);
  GF_ASSIGN_OR_RETURN(std::string annotated_digest,
                      client.PushManifest(repository, Sha256Digest(annotated_bytes), annotated.media_type, annotated_bytes));
  // The image index: the source's other platforms as they were, this platform's manifest
  // replaced, and the SOCI index entry beside it.
  ImageIndex out{std::string(media_type::kOciIndex), "", {}, std::nullopt, {}};
  Platform platform = HostPlatform();
  if (!image.index_digest.empty()) {
    GF_ASSIGN_OR_RETURN(FetchedManifest source, client.GetManifest(repository, image.index_digest));
    GF_ASSIGN_OR_RETURN(ImageIndex source_index, ParseImageIndex(source.bytes, source.media_type));
    for (const Descriptor& d : source_index.manifests) {
      if (d.digest == image.digest) {
        if (d.platform) platform = *d.platform;
        continue;
      }
      out.manifests.push_back(d);
    }
  }
  Descriptor image_entry;
  image_entry.media_type = annotated.media_type;
  image_entry.digest = annotated_digest;
  image_entry.size = static_cast<int64_t>(annotated_bytes.size());
  image_entry.platform = platform;
  image_entry.annotations[std::string(kIndexDigestAnnotation)] = index.digest;
  Descriptor soci_entry;
  soci_entry.media_type = std::string(media_type::kOciManifest);
  soci_entry.artifact_type = std::string(kIndexV2);
  soci_entry.digest = index.digest;
  soci_entry.size = static_cast<int64_t>(index.size);
  soci_entry.platform = platform;
  soci_entry.annotations[std::string(kImageManifestDigestAnnotation)] = annotated_digest;
  out.manifests.push_back(std::move(image_entry));
  out.manifests.push_back(std::move(soci_entry));
  return client.PushManifest(repository, dest_tag, media_type::kOciIndex, SerializeImageIndex(out));
}

Result<std::optional<FoundIndex>> FindIndex(RegistryClient& client, const std::string& repository, const ResolvedImage& image) {
  std::string digest;
  if (auto it = image.manifest.annotations.find(std::string(kIndexDigestAnnotation)); it != image.manifest.annotations.end()) {
    digest = it->second;
  } else {
    GF_ASSIGN_OR_RETURN(ImageIndex referrers, client.Referrers(repository, image.digest, kIndexV1));
    if (referrers.manifests.empty()) return std::optional<FoundIndex>();
    digest = referrers.manifests.back().digest;  // the newest one pushed
  }
  GF_ASSIGN_OR_RETURN(FetchedManifest raw, client.GetManifest(repository, digest));
  FoundIndex found;
  found.digest = raw.digest;
  GF_ASSIGN_OR_RETURN(found.manifest, ParseManifest(raw.bytes, raw.media_type));
  GF_ASSIGN_OR_RETURN(found.version, ValidateIndexManifest(found.manifest));
  return std::optional<FoundIndex>(std::move(found));
}

}  // namespace gpufleet::image::soci
