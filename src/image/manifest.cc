#include "image/manifest.h"

#include "core/json.h"
#include "image/digest.h"

namespace gpufleet::image {
namespace {

using nlohmann::json;

Status FieldError(const std::string& path, std::string_view why) { return InvalidArgumentError(path + ": " + std::string(why)); }

Result<std::string> OptString(const json& obj, const char* key, const std::string& path) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::string();
  if (!it->is_string()) return FieldError(path + "." + key, "expected a string");
  return it->get<std::string>();
}

Result<std::map<std::string, std::string>> Annotations(const json& obj, const std::string& path) {
  std::map<std::string, std::string> out;
  auto it = obj.find("annotations");
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_object()) return FieldError(path + ".annotations", "expected an object");
  for (const auto& [k, v] : it->items()) {
    if (!v.is_string()) return FieldError(path + ".annotations[" + k + "]", "expected a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

Result<Descriptor> ParseDescriptor(const json& obj, const std::string& path) {
  if (!obj.is_object()) return FieldError(path, "expected an object");
  Descriptor d;
  GF_ASSIGN_OR_RETURN(d.media_type, OptString(obj, "mediaType", path));
  if (d.media_type.empty()) return FieldError(path + ".mediaType", "required field is missing");
  GF_ASSIGN_OR_RETURN(d.digest, OptString(obj, "digest", path));
  GF_RETURN_IF_ERROR(ValidateDigest(d.digest, path + ".digest"));
  auto size = obj.find("size");
  if (size == obj.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return FieldError(path + ".size", "required, a non-negative integer");
  }
  d.size = size->get<int64_t>();
  GF_ASSIGN_OR_RETURN(d.artifact_type, OptString(obj, "artifactType", path));
  GF_ASSIGN_OR_RETURN(d.annotations, Annotations(obj, path));
  if (auto urls = obj.find("urls"); urls != obj.end() && urls->is_array()) {
    for (const auto& u : *urls) {
      if (u.is_string()) d.urls.push_back(u.get<std::string>());
    }
  }
  if (auto p = obj.find("platform"); p != obj.end() && p->is_object()) {
    Platform platform;
    GF_ASSIGN_OR_RETURN(platform.os, OptString(*p, "os", path + ".platform"));
    GF_ASSIGN_OR_RETURN(platform.architecture, OptString(*p, "architecture", path + ".platform"));
    GF_ASSIGN_OR_RETURN(platform.variant, OptString(*p, "variant", path + ".platform"));
    d.platform = platform;
  }
  return d;
}

json DescriptorJson(const Descriptor& d) {
  json j = {{"mediaType", d.media_type}, {"digest", d.digest}, {"size", d.size}};
  if (!d.artifact_type.empty()) j["artifactType"] = d.artifact_type;
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (!d.urls.empty()) j["urls"] = d.urls;
  if (d.platform) {
    json p = {{"os", d.platform->os}, {"architecture", d.platform->architecture}};
    if (!d.platform->variant.empty()) p["variant"] = d.platform->variant;
    j["platform"] = p;
  }
  return j;
}

// The media type of a body: its own mediaType field, else the Content-Type. Both given and
// different is an error (a registry or a pusher confused about what it holds).
Result<std::string> BodyMediaType(const json& doc, std::string_view content_type) {
  GF_ASSIGN_OR_RETURN(std::string own, OptString(doc, "mediaType", ""));
  std::string sent(content_type.substr(0, content_type.find(';')));
  while (!sent.empty() && sent.back() == ' ') sent.pop_back();
  if (own.empty()) return sent;
  return own;
}

Result<json> ParseDocument(std::string_view bytes, std::string_view what) {
  if (bytes.size() > (4 << 20)) return InvalidArgumentError(std::string(what) + ": larger than 4 MiB");
  auto doc = core::ParseJson(bytes, 64);
  if (!doc.ok()) return doc.status().WithContext(what);
  if (!doc->is_object()) return InvalidArgumentError(std::string(what) + ": not a JSON object");
  if (auto v = doc->find("schemaVersion"); v != doc->end() && !(v->is_number_integer() && v->get<int>() == 2)) {
    return InvalidArgumentError(std::string(what) + ": schemaVersion " + v->dump() +
                                " (Docker v2 schema 1 manifests are deprecated and not supported; only schema 2 and OCI)");
  }
  return doc;
}

}  // namespace

Result<LayerCompression> LayerCompressionOf(std::string_view media_type) {
  if (media_type == media_type::kOciLayerGzip || media_type == media_type::kDockerLayerGzip ||
      media_type == "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip" ||
      media_type == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") {
    return LayerCompression::kGzip;
  }
  if (media_type == media_type::kOciLayerZstd || media_type == "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd") {
    return LayerCompression::kZstd;
  }
  if (media_type == media_type::kOciLayerTar || media_type == "application/vnd.oci.image.layer.nondistributable.v1.tar") {
    return LayerCompression::kNone;
  }
  return InvalidArgumentError("layer media type \"" + std::string(media_type.substr(0, 200)) +
                              "\" is not an image layer this client can unpack (tar, tar+gzip, tar+zstd)");
}

std::string Platform::String() const {
  return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

Platform HostPlatform() {
#if defined(__aarch64__)
  return Platform{"linux", "arm64", "v8"};
#else
  return Platform{"linux", "amd64", ""};
#endif
}

Result<Platform> ParsePlatform(std::string_view text) {
  Platform p;
  const size_t a = text.find('/');
  if (a == std::string_view::npos || a == 0 || a + 1 >= text.size()) {
    return InvalidArgumentError("platform \"" + std::string(text) + "\": expected os/arch[/variant], e.g. linux/amd64");
  }
  p.os = std::string(text.substr(0, a));
  std::string_view rest = text.substr(a + 1);
  const size_t b = rest.find('/');
  p.architecture = std::string(rest.substr(0, b));
  if (b != std::string_view::npos) p.variant = std::string(rest.substr(b + 1));
  return p;
}

bool IsIndexMediaType(std::string_view m) { return m == media_type::kOciIndex || m == media_type::kDockerManifestList; }
bool IsManifestMediaType(std::string_view m) { return m == media_type::kOciManifest || m == media_type::kDockerManifest; }

Result<Manifest> ParseManifest(std::string_view bytes, std::string_view content_type) {
  GF_ASSIGN_OR_RETURN(json doc, ParseDocument(bytes, "image manifest"));
  Manifest m;
  GF_ASSIGN_OR_RETURN(m.media_type, BodyMediaType(doc, content_type));
  if (m.media_type.empty()) m.media_type = std::string(media_type::kOciManifest);  // OCI allows leaving it out
  if (!IsManifestMediaType(m.media_type)) {
    return InvalidArgumentError("image manifest: media type \"" + m.media_type.substr(0, 200) + "\" is not an image manifest");
  }
  GF_ASSIGN_OR_RETURN(m.artifact_type, OptString(doc, "artifactType", ""));
  auto config = doc.find("config");
  if (config == doc.end()) return FieldError("config", "required field is missing");
  GF_ASSIGN_OR_RETURN(m.config, ParseDescriptor(*config, "config"));
  auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array()) return FieldError("layers", "required, an array");
  if (layers->size() > 1000) return FieldError("layers", "more than 1000 layers");
  for (size_t i = 0; i < layers->size(); ++i) {
    GF_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor((*layers)[i], "layers[" + std::to_string(i) + "]"));
    m.layers.push_back(std::move(d));
  }
  if (auto s = doc.find("subject"); s != doc.end() && !s->is_null()) {
    GF_ASSIGN_OR_RETURN(Descriptor subject, ParseDescriptor(*s, "subject"));
    m.subject = std::move(subject);
  }
  GF_ASSIGN_OR_RETURN(m.annotations, Annotations(doc, ""));
  return m;
}

Result<ImageIndex> ParseImageIndex(std::string_view bytes, std::string_view content_type) {
  GF_ASSIGN_OR_RETURN(json doc, ParseDocument(bytes, "image index"));
  ImageIndex index;
  GF_ASSIGN_OR_RETURN(index.media_type, BodyMediaType(doc, content_type));
  if (index.media_type.empty()) index.media_type = std::string(media_type::kOciIndex);
  if (!IsIndexMediaType(index.media_type)) {
    return InvalidArgumentError("image index: media type \"" + index.media_type.substr(0, 200) + "\" is not an image index");
  }
  GF_ASSIGN_OR_RETURN(index.artifact_type, OptString(doc, "artifactType", ""));
  auto manifests = doc.find("manifests");
  if (manifests == doc.end() || !manifests->is_array()) return FieldError("manifests", "required, an array");
  for (size_t i = 0; i < manifests->size(); ++i) {
    GF_ASSIGN_OR_RETURN(Descriptor d, ParseDescriptor((*manifests)[i], "manifests[" + std::to_string(i) + "]"));
    index.manifests.push_back(std::move(d));
  }
  if (auto s = doc.find("subject"); s != doc.end() && !s->is_null()) {
    GF_ASSIGN_OR_RETURN(Descriptor subject, ParseDescriptor(*s, "subject"));
    index.subject = std::move(subject);
  }
  GF_ASSIGN_OR_RETURN(index.annotations, Annotations(doc, ""));
  return index;
}

Result<ImageConfig> ParseImageConfig(std::string_view bytes) {
  GF_ASSIGN_OR_RETURN(json doc, ParseDocument(bytes, "image config"));
  ImageConfig c;
  GF_ASSIGN_OR_RETURN(c.platform.os, OptString(doc, "os", ""));
  GF_ASSIGN_OR_RETURN(c.platform.architecture, OptString(doc, "architecture", ""));
  GF_ASSIGN_OR_RETURN(c.platform.variant, OptString(doc, "variant", ""));
  auto rootfs = doc.find("rootfs");
  if (rootfs == doc.end() || !rootfs->is_object()) return FieldError("rootfs", "required, an object");
  auto ids = rootfs->find("diff_ids");
  if (ids == rootfs->end() || !ids->is_array()) return FieldError("rootfs.diff_ids", "required, an array");
  for (size_t i = 0; i < ids->size(); ++i) {
    const std::string path = "rootfs.diff_ids[" + std::to_string(i) + "]";
    if (!(*ids)[i].is_string()) return FieldError(path, "expected a string");
    c.diff_ids.push_back((*ids)[i].get<std::string>());
    GF_RETURN_IF_ERROR(ValidateDigest(c.diff_ids.back(), path));
  }
  return c;
}

std::string SerializeManifest(const Manifest& m) {
  json j = {{"schemaVersion", 2}, {"mediaType", m.media_type}, {"config", DescriptorJson(m.config)}, {"layers", json::array()}};
  for (const auto& l : m.layers) j["layers"].push_back(DescriptorJson(l));
  if (!m.artifact_type.empty()) j["artifactType"] = m.artifact_type;
  if (m.subject) j["subject"] = DescriptorJson(*m.subject);
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  return core::DumpJson(j);
}

std::string SerializeImageIndex(const ImageIndex& index) {
  json j = {{"schemaVersion", 2}, {"mediaType", index.media_type}, {"manifests", json::array()}};
  for (const auto& d : index.manifests) j["manifests"].push_back(DescriptorJson(d));
  if (!index.artifact_type.empty()) j["artifactType"] = index.artifact_type;
  if (index.subject) j["subject"] = DescriptorJson(*index.subject);
  if (!index.annotations.empty()) j["annotations"] = index.annotations;
  return core::DumpJson(j);
}

Result<Descriptor> SelectPlatform(const ImageIndex& index, const Platform& want) {
  auto variant_of = [](const Platform& p) { return p.variant.empty() && p.architecture == "arm64" ? std::string("v8") : p.variant; };
  std::string have;
  for (const auto& d : index.manifests) {
    if (!d.platform) continue;
    if (!IsManifestMediaType(d.media_type)) continue;  // attestations, SOCI indexes
    if (d.platform->os == "unknown") continue;          // buildkit attestation manifests
    have += (have.empty() ? "" : ", ") + d.platform->String();
    if (d.platform->os != want.os || d.platform->architecture != want.architecture) continue;
    if (!want.variant.empty() && variant_of(*d.platform) != variant_of(want)) continue;
    return d;
  }
  return NotFoundError("no manifest for platform " + want.String() + " in the image index (it has: " +
                       (have.empty() ? "none" : have) + ")");
}

}  // namespace gpufleet::image
