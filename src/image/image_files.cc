#include "image/image_files.h"

#include <map>
#include <memory>
#include <optional>

#include "image/decompress.h"
#include "image/soci_remote.h"
#include "image/tar_reader.h"

namespace gpufleet::image {
namespace {

constexpr int kMaxSymlinkHops = 40;

struct LayerSource {
  const Descriptor* layer = nullptr;
  std::optional<Ztoc> ztoc;
};

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Joins a symlink target onto the directory holding the link, inside the image root.
std::string ResolveLink(const std::string& link_path, const std::string& target) {
  std::string joined = target.starts_with("/") ? target : Dirname(link_path) + "/" + target;
  std::vector<std::string> parts;
  for (size_t start = 0; start <= joined.size();) {
    size_t end = joined.find('/', start);
    if (end == std::string::npos) end = joined.size();
    const std::string part = joined.substr(start, end - start);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();  // ".." stops at the root
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// What one layer says about `path`: nothing, a whiteout (deleted, or a parent made opaque), or
// an entry.
enum class Verdict { kAbsent, kDeleted, kPresent };

Verdict Judge(const std::vector<std::string>& names, const std::string& path, std::string* matched) {
  std::vector<std::string> clean;
  clean.reserve(names.size());
  for (const std::string& raw : names) {
    clean.push_back(CleanLayerPath(raw));
    if (clean.back() == path) {
      *matched = raw;
      return Verdict::kPresent;
    }
  }
  // A whiteout of the path or of any parent, or an opaque marker in any directory above it.
  for (std::string p = path; !p.empty(); p = Dirname(p)) {
    const std::string dir = Dirname(p);
    const std::string prefix = dir.empty() ? "" : dir + "/";
    const std::string wh = prefix + ".wh." + Basename(p), opaque = prefix + ".wh..wh..opq";
    for (const std::string& name : clean) {
      if (name == wh || name == opaque) return Verdict::kDeleted;
    }
  }
  return Verdict::kAbsent;
}

CompressedReader RangeReader(RegistryClient& client, const std::string& repository, const Descriptor& layer, int64_t* fetched) {
  return [&client, repository, digest = layer.digest, fetched](int64_t offset, int64_t length) -> Result<std::string> {
    std::string out;
    GF_RETURN_IF_ERROR(client.ReadBlob(repository, digest, offset, length, [&](std::string_view d) {
      out.append(d);
      return OkStatus();
    }));
    *fetched += static_cast<int64_t>(out.size());
    return out;
  };
}

// Streams a layer through its decompressor and tar reader; `on_entry` sees every entry and may
// ask for its data (set *want). Verifies the layer digest.
Status ScanLayer(RegistryClient& client, const std::string& repository, const Descriptor& layer,
                 const std::function<Status(const TarEntry&, bool* want)>& on_entry, std::string* data, int64_t* fetched) {
  GF_ASSIGN_OR_RETURN(LayerCompression compression, LayerCompressionOf(layer.media_type));
  bool want = false;
  TarReader tar(TarReader::Callbacks{[&](const TarEntry& e) {
                                       want = false;
                                       return on_entry(e, &want);
                                     },
                                     [&](const TarEntry&, std::string_view d) {
                                       if (want && data) data->append(d);
                                       return OkStatus();
                                     }});
  auto decompressor = NewLayerDecompressor(compression, [&](std::string_view out) { return tar.ended() ? OkStatus() : tar.Feed(out); });
  GF_RETURN_IF_ERROR(client.ReadBlob(repository, layer.digest, 0, -1, [&](std::string_view piece) {
    *fetched += static_cast<int64_t>(piece.size());
    return decompressor->Feed(piece);
  }));
  GF_RETURN_IF_ERROR(decompressor->Finish());
  return tar.Finish();
}

Result<std::vector<LayerSource>> Sources(RegistryClient& client, const std::string& repository, const ResolvedImage& image) {
  std::vector<LayerSource> sources(image.manifest.layers.size());
  std::map<std::string, const Descriptor*> ztoc_by_layer;
  GF_ASSIGN_OR_RETURN(std::optional<soci::FoundIndex> index, soci::FindIndex(client, repository, image));
  if (index) {
    for (const Descriptor& z : index->manifest.layers) ztoc_by_layer[z.annotations.at(std::string(soci::kLayerDigestAnnotation))] = &z;
  }
  for (size_t i = 0; i < sources.size(); ++i) {
    sources[i].layer = &image.manifest.layers[i];
    auto it = ztoc_by_layer.find(sources[i].layer->digest);
    if (it == ztoc_by_layer.end()) continue;
    GF_ASSIGN_OR_RETURN(std::string bytes, client.GetBlob(repository, it->second->digest, 256 << 20));
    auto ztoc = ParseZtoc(bytes);
    if (!ztoc.ok()) return ztoc.status().WithContext("zTOC " + it->second->digest + " of layer " + sources[i].layer->digest);
    sources[i].ztoc = std::move(*ztoc);
  }
  return sources;
}

}  // namespace

std::string CleanLayerPath(std::string_view path) { return ResolveLink("", std::string(path)); }

Result<ImageFile> ReadImageFile(RegistryClient& client, const std::string& repository, const ResolvedImage& image, std::string_view path_in) {
  GF_ASSIGN_OR_RETURN(std::vector<LayerSource> sources, Sources(client, repository, image));
  std::string path = CleanLayerPath(path_in);
  if (path.empty()) return InvalidArgumentError("\"" + std::string(path_in) + "\" is the root directory, not a file");
  ImageFile out;
  for (int hops = 0; hops <= kMaxSymlinkHops; ++hops) {
    bool followed = false;
    for (size_t i = sources.size(); i-- > 0 && !followed;) {
      const LayerSource& src = sources[i];
      std::string matched;
      if (src.ztoc) {
        std::vector<std::string> names;
        names.reserve(src.ztoc->files.size());
        for (const ZtocFile& f : src.ztoc->files) names.push_back(f.name);
        const Verdict v = Judge(names, path, &matched);
        if (v == Verdict::kDeleted) return NotFoundError("\"" + path + "\" was deleted by a whiteout in layer " + std::to_string(i));
        if (v == Verdict::kAbsent) continue;
        const ZtocFile* f = src.ztoc->Find(matched);
        if (f->type == "symlink") {
          path = ResolveLink(path, f->linkname);
          followed = true;
          break;
        }
        if (f->type == "dir") return InvalidArgumentError("\"" + path + "\" is a directory");
        if (f->type != "reg" && f->type != "hardlink") return InvalidArgumentError("\"" + path + "\" is a " + f->type + ", not a regular file");
        GF_ASSIGN_OR_RETURN(out.bytes, ReadFile(*src.ztoc, RangeReader(client, repository, *src.layer, &out.bytes_fetched), matched));
        out.layer = static_cast<int>(i);
        out.via_ztoc = true;
        return out;
      }
      // No zTOC: stream the layer once, keeping the file's bytes if it is there.
      std::vector<std::string> names;
      std::optional<TarEntry> hit;
      std::string data;
      Status s = ScanLayer(client, repository, *src.layer, [&](const TarEntry& e, bool* want) {
        names.push_back(e.name);
        if (CleanLayerPath(e.name) == path) {
          hit = e;
          *want = e.type == TarType::kRegular;
        }
        return OkStatus();
      }, &data, &out.bytes_fetched);
      GF_RETURN_IF_ERROR(s.WithContext("layer " + src.layer->digest));
      const Verdict v = Judge(names, path, &matched);
      if (v == Verdict::kDeleted) return NotFoundError("\"" + path + "\" was deleted by a whiteout in layer " + std::to_string(i));
      if (v == Verdict::kAbsent || !hit) continue;
      if (hit->type == TarType::kSymlink) {
        path = ResolveLink(path, hit->linkname);
        followed = true;
        break;
      }
      if (hit->type == TarType::kHardLink) {
        path = CleanLayerPath(hit->linkname);  // the same layer holds the target's bytes
        followed = true;
        break;
      }
      if (hit->type == TarType::kDirectory) return InvalidArgumentError("\"" + path + "\" is a directory");
      if (hit->type != TarType::kRegular) return InvalidArgumentError("\"" + path + "\" is not a regular file");
      out.bytes = std::move(data);
      out.layer = static_cast<int>(i);
      return out;
    }
    if (!followed) return NotFoundError("no file \"" + path + "\" in the image");
  }
  return InvalidArgumentError("\"" + std::string(path_in) + "\": more than 40 symbolic links");
}

Result<std::vector<LayerListing>> ListImageFiles(RegistryClient& client, const std::string& repository, const ResolvedImage& image) {
  GF_ASSIGN_OR_RETURN(std::vector<LayerSource> sources, Sources(client, repository, image));
  std::vector<LayerListing> out;
  for (size_t i = 0; i < sources.size(); ++i) {
    LayerListing l;
    l.layer = static_cast<int>(i);
    l.digest = sources[i].layer->digest;
    if (sources[i].ztoc) {
      l.indexed = true;
      l.files = sources[i].ztoc->files;
    } else {
      int64_t fetched = 0;
      GF_RETURN_IF_ERROR(ScanLayer(client, repository, *sources[i].layer, [&](const TarEntry& e, bool*) {
        ZtocFile f;
        f.name = e.name;
        f.linkname = e.linkname;
        f.uncompressed_size = e.size;
        f.mode = e.mode;
        f.uid = static_cast<uint32_t>(e.uid);
        f.gid = static_cast<uint32_t>(e.gid);
        switch (e.type) {
          case TarType::kRegular: f.type = "reg"; break;
          case TarType::kDirectory: f.type = "dir"; break;
          case TarType::kSymlink: f.type = "symlink"; break;
          case TarType::kHardLink: f.type = "hardlink"; break;
          case TarType::kChar: f.type = "char"; break;
          case TarType::kBlock: f.type = "block"; break;
          case TarType::kFifo: f.type = "fifo"; break;
        }
        f.mod_time = FormatModTime(e.mtime_sec, e.mtime_nsec);
        l.files.push_back(std::move(f));
        return OkStatus();
      }, nullptr, &fetched).WithContext("layer " + l.digest));
    }
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace gpufleet::image
