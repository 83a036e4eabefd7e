#include "image/commands.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "image/image_files.h"
#include "image/oci_layout.h"
#include "image/pull.h"
#include "image/registry_client.h"
#include "image/soci_remote.h"

namespace gpufleet::image {
namespace {

struct RegistryFlags {
  bool plain_http = false;
  bool insecure = false;
  std::string authfile;
  std::string ca_file;
  std::string platform;
};

void AddRegistryFlags(CLI::App* cmd, RegistryFlags& f) {
  cmd->add_flag("--plain-http", f.plain_http, "Talk HTTP, not HTTPS, to the registry (a local or insecure registry)");
  cmd->add_flag("--insecure", f.insecure, "HTTPS without verifying the registry's certificate");
  cmd->add_option("--authfile", f.authfile, "Auth file (docker config.json format); default: the usual docker/podman places");
  cmd->add_option("--ca-file", f.ca_file, "Extra CA bundle to trust for the registry");
  cmd->add_option("--platform", f.platform, "os/arch[/variant] to select from a multi-platform image (default: this machine's)");
}

[[noreturn]] void Fail(const Status& s) {
  std::cerr << "gpufleet image: " << s.message() << std::endl;
  std::exit(1);
}

template <typename T>
T OrFail(Result<T> r) {
  if (!r.ok()) Fail(r.status());
  return std::move(r).value();
}

std::unique_ptr<RegistryClient> NewClient(const ImageReference& ref, const RegistryFlags& f) {
  RegistryOptions options;
  options.plain_http = f.plain_http;
  options.transport.insecure_skip_verify = f.insecure;
  options.transport.ca_file = f.ca_file;
  if (!f.authfile.empty()) options.auth_files = {f.authfile};
  return std::make_unique<RegistryClient>(ref.registry, options);
}

Platform PlatformOf(const RegistryFlags& f) { return f.platform.empty() ? HostPlatform() : OrFail(ParsePlatform(f.platform)); }

std::string Mib(int64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

// A one-line bar on a terminal; JSON events (one object per line) on stderr otherwise.
std::function<void(const PullProgress&)> ProgressPrinter(const std::string& mode, const std::string& ref) {
  const bool tty = isatty(STDERR_FILENO) != 0;
  const std::string chosen = mode == "auto" ? (tty ? "bar" : "json") : mode;
  if (chosen == "none") return {};
  const auto start = std::chrono::steady_clock::now();
  if (chosen == "json") {
    return [ref, start](const PullProgress& p) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      nlohmann::json e = {{"event", p.done ? "done" : "progress"}, {"image", ref}, {"layers_total", p.layers_total},
                          {"layers_done", p.layers_done}, {"bytes_total", p.bytes_total}, {"bytes_fetched", p.bytes_fetched},
                          {"bytes_unpacked", p.bytes_unpacked}, {"elapsed_s", s}};
      std::cerr << e.dump() << "\n";
    };
  }
  return [start](const PullProgress& p) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double frac = p.bytes_total > 0 ? static_cast<double>(p.bytes_fetched) / static_cast<double>(p.bytes_total) : 1.0;
    const int width = 30, filled = static_cast<int>(frac * width);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(width, '.');
    char line[200];
    std::snprintf(line, sizeof line, "\r[%s] %d/%d layers  %s / %s  %.0f MiB/s ", bar.c_str(), p.layers_done, p.layers_total,
                  Mib(p.bytes_fetched).c_str(), Mib(p.bytes_total).c_str(),
                  s > 0 ? static_cast<double>(p.bytes_fetched) / (1 << 20) / s : 0.0);
    std::cerr << line << (p.done ? "\n" : "") << std::flush;
  };
}

void AddPull(CLI::App& parent) {
  struct Flags {
    RegistryFlags registry;
    std::string ref, dest, layout = "rootfs", progress = "auto";
    int connections = 8;
    int64_t chunk_mib = 16, prefetch_mib = 256;
    bool no_devices = false;
    bool no_index = false;
    unsigned threads = 0;
    int max_ratio = 200;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = parent.add_subcommand("pull", "Pull an image and unpack it into a directory (a rootfs, or overlay layer directories)");
  cmd->add_option("image", f->ref, "Image reference, e.g. 127.0.0.1:5000/cuda:12.4")->required();
  cmd->add_option("--dest", f->dest, "Directory to create (absent or empty); it appears only when complete and verified")->required();
  cmd->add_option("--layout", f->layout, "rootfs (whiteouts applied) or overlay (DEST/layers/N, overlayfs whiteouts)")->capture_default_str();
  cmd->add_option("--connections", f->connections, "Concurrent Range requests")->capture_default_str();
  cmd->add_option("--chunk-size", f->chunk_mib, "MiB per Range request")->capture_default_str();
  cmd->add_option("--prefetch", f->prefetch_mib, "MiB of compressed data fetched ahead of the unpacking")->capture_default_str();
  cmd->add_option("--progress", f->progress, "auto (a bar on a terminal, else JSON lines), bar, json or none")->capture_default_str();
  cmd->add_option("--max-ratio", f->max_ratio, "Reject a layer inflating past 256 MiB at more than this ratio (0: no limit)")
      ->capture_default_str();
  cmd->add_flag("--no-index", f->no_index, "Do not look for the image's SOCI index (one inflate stream per layer)");
  cmd->add_option("--inflate-threads", f->threads, "Threads inflating an indexed layer's spans (0: one per core)")->capture_default_str();
  cmd->add_flag("--no-devices", f->no_devices, "Skip device files even when running as root");
  AddRegistryFlags(cmd, f->registry);
  cmd->callback([f] {
    const ImageReference ref = OrFail(ParseImageReference(f->ref));
    PullOptions options;
    options.dest = f->dest;
    if (f->layout == "overlay") {
      options.layout = PullLayout::kOverlay;
    } else if (f->layout != "rootfs") {
      Fail(InvalidArgumentError("--layout \"" + f->layout + "\": expected rootfs or overlay"));
    }
    if (f->progress != "auto" && f->progress != "bar" && f->progress != "json" && f->progress != "none") {
      Fail(InvalidArgumentError("--progress \"" + f->progress + "\": expected auto, bar, json or none"));
    }
    if (f->connections < 1 || f->connections > 64) Fail(InvalidArgumentError("--connections: 1 to 64"));
    if (f->chunk_mib < 1 || f->chunk_mib > 256) Fail(InvalidArgumentError("--chunk-size: 1 to 256 MiB"));
    if (f->prefetch_mib < f->chunk_mib) Fail(InvalidArgumentError("--prefetch: at least one chunk"));
    options.connections = f->connections;
    options.chunk_size = f->chunk_mib << 20;
    options.prefetch_bytes = f->prefetch_mib << 20;
    options.platform = PlatformOf(f->registry);
    if (f->no_devices) options.extract.devices = false;
    if (f->max_ratio < 0) Fail(InvalidArgumentError("--max-ratio: 0 or more"));
    options.max_ratio = f->max_ratio;
    options.use_index = !f->no_index;
    options.inflate_threads = f->threads;
    options.on_progress = ProgressPrinter(f->progress, ref.String());
    auto client = NewClient(ref, f->registry);
    const auto start = std::chrono::steady_clock::now();
    PullResult r = OrFail(PullImage(*client, ref, options));
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    char line[512];
    std::snprintf(line, sizeof line, "pulled %s@%s into %s: %d layers (%d through a zTOC), %s compressed, %s unpacked, %.2f s%s",
                  ref.String().c_str(), r.manifest_digest.c_str(), f->dest.c_str(), r.layers, r.layers_indexed,
                  Mib(r.bytes_compressed).c_str(), Mib(r.bytes_uncompressed).c_str(), s,
                  r.range_ignored ? " (the registry ignored Range: whole-blob streams)" : "");
    std::cout << line << std::endl;
    if (!r.index_note.empty()) std::cerr << "gpufleet image: " << r.index_note << std::endl;
  });
}

void AddInspect(CLI::App& parent) {
  struct Flags {
    RegistryFlags registry;
    std::string ref;
    bool raw = false;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = parent.add_subcommand("inspect", "Print an image's manifest (resolved for the platform), or the raw manifest or index");
  cmd->add_option("image", f->ref, "Image reference")->required();
  cmd->add_flag("--raw", f->raw, "Print the manifest or index exactly as the registry sent it");
  AddRegistryFlags(cmd, f->registry);
  cmd->callback([f] {
    const ImageReference ref = OrFail(ParseImageReference(f->ref));
    auto client = NewClient(ref, f->registry);
    if (f->raw) {
      FetchedManifest m = OrFail(client->GetManifest(ref.repository, ref.ManifestReference()));
      std::cout << m.bytes << std::endl;
      return;
    }
    ResolvedImage image = OrFail(ResolveImage(*client, ref, PlatformOf(f->registry)));
    nlohmann::json out = {{"name", ref.String()}, {"digest", image.digest}, {"mediaType", image.manifest.media_type},
                          {"config", image.manifest.config.digest}, {"layers", nlohmann::json::array()}};
    if (!image.index_digest.empty()) out["index"] = image.index_digest;
    int64_t total = 0;
    for (const auto& l : image.manifest.layers) {
      out["layers"].push_back({{"digest", l.digest}, {"size", l.size}, {"mediaType", l.media_type}});
      total += l.size;
    }
    out["size"] = total;
    std::cout << out.dump(2) << std::endl;
  });
}

struct IndexFlags {
  RegistryFlags registry;
  std::string ref;
  int64_t span_mib = 4;
  int64_t min_layer_size = soci::kDefaultMinLayerSize;
};

void AddIndexFlags(CLI::App* cmd, IndexFlags& f) {
  cmd->add_option("--span-size", f.span_mib, "MiB of uncompressed data between checkpoints")->capture_default_str();
  cmd->add_option("--min-layer-size", f.min_layer_size, "Layers smaller than this many bytes get no zTOC (soci's CLI uses 10485760)")
      ->capture_default_str();
  AddRegistryFlags(cmd, f.registry);
}

soci::BuildOptions BuildOptionsOf(const IndexFlags& f) {
  if (f.span_mib < 1 || f.span_mib > 1024) Fail(InvalidArgumentError("--span-size: 1 to 1024 MiB"));
  if (f.min_layer_size < 0) Fail(InvalidArgumentError("--min-layer-size: 0 or more"));
  soci::BuildOptions options;
  options.span_size = f.span_mib << 20;
  options.min_layer_size = f.min_layer_size;
  options.log = [](const std::string& line) { std::cerr << line << "\n"; };
  return options;
}

void AddIndex(CLI::App& parent) {
  auto f = std::make_shared<IndexFlags>();
  auto* cmd = parent.add_subcommand("index", "Build a SOCI index (v1: zTOCs + index manifest with the image as subject) and push it");
  cmd->add_option("image", f->ref, "Image reference")->required();
  AddIndexFlags(cmd, *f);
  cmd->callback([f] {
    const ImageReference ref = OrFail(ParseImageReference(f->ref));
    auto client = NewClient(ref, f->registry);
    const ResolvedImage image = OrFail(ResolveImage(*client, ref, PlatformOf(f->registry)));
    const soci::PushedIndex index = OrFail(soci::CreateIndexV1(*client, ref.repository, image, BuildOptionsOf(*f)));
    std::cout << "SOCI index " << index.digest << " for " << ref.registry << "/" << ref.repository << "@" << image.digest << ": "
              << index.layers_indexed << " layers indexed, " << index.layers_skipped << " skipped" << std::endl;
  });
}

void AddConvert(CLI::App& parent) {
  auto f = std::make_shared<IndexFlags>();
  auto dest = std::make_shared<std::string>();
  auto zstd = std::make_shared<bool>(false);
  auto* cmd = parent.add_subcommand("convert", "Make a SOCI-enabled image (SOCI index v2) and push it under a new tag");
  cmd->add_option("image", f->ref, "Source image reference")->required();
  cmd->add_flag("--zstd-seekable", *zstd, "Recompress the layers as seekable zstd (a frame per span) and index those");
  cmd->add_option("dest", *dest, "Destination tag or reference in the same repository, e.g. v1-soci")->required();
  AddIndexFlags(cmd, *f);
  cmd->callback([f, dest, zstd] {
    const ImageReference ref = OrFail(ParseImageReference(f->ref));
    std::string tag = *dest;
    if (tag.find('/') != std::string::npos || tag.find(':') != std::string::npos) {
      const ImageReference d = OrFail(ParseImageReference(tag));
      if (d.registry != ref.registry || d.repository != ref.repository || d.tag.empty()) {
        Fail(InvalidArgumentError("convert: the destination must be a tag in " + ref.registry + "/" + ref.repository));
      }
      tag = d.tag;
    }
    auto client = NewClient(ref, f->registry);
    const ResolvedImage image = OrFail(ResolveImage(*client, ref, PlatformOf(f->registry)));
    soci::BuildOptions options = BuildOptionsOf(*f);
    options.zstd_seekable = *zstd;
    const std::string digest = OrFail(soci::ConvertV2(*client, ref.repository, image, tag, options));
    std::cout << "SOCI-enabled image " << ref.registry << "/" << ref.repository << ":" << tag << "@" << digest << std::endl;
  });
}

void AddCat(CLI::App& parent) {
  struct Flags {
    RegistryFlags registry;
    std::string ref, path;
    bool verbose = false;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = parent.add_subcommand("cat", "Print one file of a remote image, fetching only the spans that hold it (with a SOCI index)");
  cmd->add_option("image", f->ref, "Image reference")->required();
  cmd->add_option("path", f->path, "Path inside the image, e.g. /etc/os-release")->required();
  cmd->add_flag("-v,--verbose", f->verbose, "Say on stderr where the bytes came from and how much was fetched");
  AddRegistryFlags(cmd, f->registry);
  cmd->callback([f] {
    const ImageReference ref = OrFail(ParseImageReference(f->ref));
    auto client = NewClient(ref, f->registry);
    const ResolvedImage image = OrFail(ResolveImage(*client, ref, PlatformOf(f->registry)));
    const ImageFile file = OrFail(ReadImageFile(*client, ref.repository, image, f->path));
    std::cout.write(file.bytes.data(), static_cast<std::streamsize>(file.bytes.size()));
    std::cout.flush();
    if (!f->verbose) return;
    std::cerr << "(" << file.bytes.size() << " bytes from layer " << file.layer << ", " << file.bytes_fetched << " compressed bytes fetched"
              << (file.via_ztoc ? " through its zTOC" : ", the whole layer: it has no zTOC") << ")" << std::endl;
  });
}

void AddLsFiles(CLI::App& parent) {
  struct Flags {
    RegistryFlags registry;
    std::string ref;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = parent.add_subcommand("ls-files", "List every layer's files (from the zTOCs of a SOCI index where there is one)");
  cmd->add_option("image", f->ref, "Image reference")->required();
  cmd->add_flag("--json", f->json, "One JSON object per layer");
  AddRegistryFlags(cmd, f->registry);
  cmd->callback([f] {
    const ImageReference ref = OrFail(ParseImageReference(f->ref));
    auto client = NewClient(ref, f->registry);
    const ResolvedImage image = OrFail(ResolveImage(*client, ref, PlatformOf(f->registry)));
    for (const LayerListing& l : OrFail(ListImageFiles(*client, ref.repository, image))) {
      if (f->json) {
        nlohmann::json j = {{"layer", l.layer}, {"digest", l.digest}, {"indexed", l.indexed}, {"files", nlohmann::json::array()}};
        for (const ZtocFile& file : l.files) {
          j["files"].push_back({{"name", file.name}, {"type", file.type}, {"size", file.uncompressed_size}, {"mode", file.mode},
                                {"uid", file.uid}, {"gid", file.gid}, {"linkname", file.linkname}, {"mod_time", file.mod_time}});
        }
        std::cout << j.dump() << "\n";
        continue;
      }
      std::cout << "# layer " << l.layer << " " << l.digest << (l.indexed ? " (zTOC)" : " (streamed)") << "\n";
      for (const ZtocFile& file : l.files) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(file.mode & 07777));
        std::cout << file.type << "\t" << mode << "\t" << file.uid << ":" << file.gid << "\t" << file.uncompressed_size << "\t" << file.name
                  << (file.linkname.empty() ? "" : " -> " + file.linkname) << "\n";
      }
    }
    std::cout.flush();
  });
}

void AddPush(CLI::App& parent) {
  struct Flags {
    RegistryFlags registry;
    std::string layout, ref;
  };
  auto f = std::make_shared<Flags>();
  auto* cmd = parent.add_subcommand("push", "Push an image from an OCI image layout directory (blobs, then manifests, then the tag)");
  cmd->add_option("layout", f->layout, "OCI layout directory[:tag] (the ref.name annotation; default: the only image)")->required();
  cmd->add_option("image", f->ref, "Destination reference")->required();
  AddRegistryFlags(cmd, f->registry);
  cmd->callback([f] {
    const ImageReference ref = OrFail(ParseImageReference(f->ref));
    auto client = NewClient(ref, f->registry);
    const std::string digest = OrFail(PushLayout(*client, ref, f->layout));
    std::cout << "pushed " << ref.String() << "@" << digest << std::endl;
  });
}

}  // namespace

void AddCommands(CLI::App& app) {
  auto* image = app.add_subcommand("image", "Fast image start: pull and unpack, SOCI-compatible indexes, single-file reads");
  image->require_subcommand(1);
  AddPull(*image);
  AddInspect(*image);
  AddIndex(*image);
  AddConvert(*image);
  AddCat(*image);
  AddLsFiles(*image);
  AddPush(*image);
}

}  // namespace gpufleet::image
