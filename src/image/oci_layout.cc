#include "image/oci_layout.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json.h"
#include "image/digest.h"
#include "image/manifest.h"

namespace gpufleet::image {
namespace {

class Layout {
 public:
  explicit Layout(std::string dir) : dir_(std::move(dir)) {}

  Result<std::string> ReadBlob(const std::string& digest, int64_t size) const {
    GF_RETURN_IF_ERROR(ValidateDigest(digest, "layout blob digest"));
    const std::string path = dir_ + "/blobs/sha256/" + digest.substr(7);
    std::ifstream in(path, std::ios::binary);
    if (!in) return NotFoundError("OCI layout " + dir_ + ": blob " + digest + " is missing (" + path + ")");
    std::stringstream buf;
    buf << in.rdbuf();
    std::string bytes = buf.str();
    if (size >= 0 && static_cast<int64_t>(bytes.size()) != size) {
      return DataLossError("OCI layout " + dir_ + ": blob " + digest + " has " + std::to_string(bytes.size()) + " bytes, its descriptor says " +
                           std::to_string(size));
    }
    if (Sha256Digest(bytes) != digest) return DataLossError("OCI layout " + dir_ + ": blob " + digest + " does not match its digest");
    return bytes;
  }

  // Pushes a manifest or index and everything it refers to; returns its digest.
  Result<std::string> PushTree(RegistryClient& client, const std::string& repository, const Descriptor& d, const std::string& tag,
                               int depth) const {
    if (depth > 4) return InvalidArgumentError("OCI layout " + dir_ + ": indexes nest deeper than 4");
    GF_ASSIGN_OR_RETURN(std::string bytes, ReadBlob(d.digest, d.size));
    if (IsIndexMediaType(d.media_type)) {
      GF_ASSIGN_OR_RETURN(ImageIndex index, ParseImageIndex(bytes, d.media_type));
      for (const Descriptor& child : index.manifests) {
        GF_RETURN_IF_ERROR(PushTree(client, repository, child, child.digest, depth + 1).status());
      }
    } else {
      GF_ASSIGN_OR_RETURN(Manifest m, ParseManifest(bytes, d.media_type));
      GF_ASSIGN_OR_RETURN(std::string config, ReadBlob(m.config.digest, m.config.size));
      GF_RETURN_IF_ERROR(client.PushBlob(repository, config, m.config.digest));
      for (const Descriptor& layer : m.layers) {
        GF_ASSIGN_OR_RETURN(std::string blob, ReadBlob(layer.digest, layer.size));
        GF_RETURN_IF_ERROR(client.PushBlob(repository, blob, layer.digest));
      }
    }
    return client.PushManifest(repository, tag, d.media_type, bytes);
  }

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace

Result<std::string> PushLayout(RegistryClient& client, const ImageReference& dest, const std::string& layout_spec) {
  std::string dir = layout_spec, want_tag;
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    const size_t colon = layout_spec.rfind(':');
    if (colon != std::string::npos) {
      dir = layout_spec.substr(0, colon);
      want_tag = layout_spec.substr(colon + 1);
    }
  }
  if (!std::filesystem::is_regular_file(dir + "/oci-layout", ec)) {
    return InvalidArgumentError("\"" + dir + "\" is not an OCI image layout (no oci-layout file)");
  }
  std::ifstream in(dir + "/index.json");
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = ParseImageIndex(text.str(), media_type::kOciIndex);
  if (!parsed.ok()) return parsed.status().WithContext(dir + "/index.json");
  const ImageIndex top = std::move(parsed).value();
  const Descriptor* chosen = nullptr;
  std::string names;
  for (const Descriptor& d : top.manifests) {
    auto it = d.annotations.find("org.opencontainers.image.ref.name");
    const std::string name = it == d.annotations.end() ? "" : it->second;
    names += (names.empty() ? "" : ", ") + (name.empty() ? d.digest : name);
    if (want_tag.empty() ? top.manifests.size() == 1 : name == want_tag) chosen = &d;
  }
  if (chosen == nullptr) {
    return NotFoundError("OCI layout " + dir + ": " + (want_tag.empty() ? "several images; name one as DIR:TAG" : "no image named " + want_tag) +
                         " (it has: " + (names.empty() ? "none" : names) + ")");
  }
  Layout layout(dir);
  return layout.PushTree(client, dest.repository, *chosen, dest.ManifestReference(), 0);
}

}  // namespace gpufleet::image
