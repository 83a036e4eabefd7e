#include "image/ztoc.h"

#include <algorithm>
#include <ctime>

#include "image/digest.h"
#include "ztoc/ztoc_generated.h"

namespace gpufleet::image {
namespace {

constexpr int64_t kReadChunk = 1 << 20;

Result<std::string> TypeName(TarType t, const std::string& name) {
  switch (t) {
    case TarType::kRegular: return std::string("reg");
    case TarType::kDirectory: return std::string("dir");
    case TarType::kSymlink: return std::string("symlink");
    case TarType::kHardLink: return std::string("hardlink");
    case TarType::kChar: return std::string("char");
    case TarType::kBlock: return std::string("block");
    case TarType::kFifo: return std::string("fifo");
  }
  return InvalidArgumentError("tar entry " + name + ": a type the zTOC cannot record");
}

Result<std::string> SpanDigest(const CompressedReader& read, int64_t start, int64_t end) {
  Sha256 sha;
  for (int64_t at = start; at < end;) {
    GF_ASSIGN_OR_RETURN(std::string chunk, read(at, std::min(kReadChunk, end - at)));
    if (chunk.empty()) return DataLossError("the compressed layer ends at " + std::to_string(at) + ", before its span");
    sha.Update(chunk);
    at += static_cast<int64_t>(chunk.size());
  }
  return sha.Finish();
}

}  // namespace

std::string FormatModTime(int64_t sec, int32_t nsec) {
  std::time_t t = static_cast<std::time_t>(sec);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::string out = buf;
  if (nsec > 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%09d", nsec);
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

std::pair<int64_t, int64_t> Ztoc::SpanRange(int id) const {
  if (compression == ZtocCompression::kZstd) {
    const ZstdFrame& f = zstd.frames[static_cast<size_t>(id)];
    return {f.compressed_offset, f.compressed_offset + f.compressed_size};
  }
  const GzipCheckpoint& c = index.checkpoints[static_cast<size_t>(id)];
  const int64_t start = c.in - (c.bits != 0 ? 1 : 0);
  const int64_t end = id == max_span_id() ? compressed_archive_size : index.checkpoints[static_cast<size_t>(id) + 1].in;
  return {start, end};
}

std::pair<int, int> Ztoc::SpansFor(int64_t offset, int64_t length) const {
  if (compression == ZtocCompression::kZstd) {
    auto [first, last] = zstd.FramesFor(offset, length);
    return {static_cast<int>(first), static_cast<int>(last)};
  }
  const int first = static_cast<int>(index.CheckpointFor(offset));
  const int last = static_cast<int>(index.CheckpointFor(offset + std::max<int64_t>(length, 1) - 1));
  return {first, last};
}

const ZtocFile* Ztoc::Find(std::string_view name) const {
  auto clean = [](std::string_view n) {
    while (n.starts_with("./")) n.remove_prefix(2);
    while (n.starts_with("/")) n.remove_prefix(1);
    return n;
  };
  for (const auto& f : files) {
    if (clean(f.name) == clean(name)) return &f;
  }
  return nullptr;
}

namespace {

// A tar reader that records every entry as a zTOC file.
TarReader TocRecorder(Ztoc& ztoc) {
  return TarReader({.on_entry =
                     [&](const TarEntry& e) -> Status {
                       GF_ASSIGN_OR_RETURN(std::string type, TypeName(e.type, e.name));
                       ztoc.files.push_back({.name = e.name, .type = type, .uncompressed_offset = e.data_offset,
                                             .uncompressed_size = e.size, .linkname = e.linkname, .mode = e.mode,
                                             .uid = static_cast<uint32_t>(e.uid), .gid = static_cast<uint32_t>(e.gid),
                                             .uname = e.uname, .gname = e.gname,
                                             .mod_time = FormatModTime(e.mtime_sec, e.mtime_nsec),
                                             .devmajor = e.devmajor, .devminor = e.devminor, .xattrs = e.pax});
                       return OkStatus();
                     },
                 .on_data = {}});
}

Result<std::string> ReadExactly(const CompressedReader& read, int64_t offset, int64_t length) {
  std::string out;
  for (int64_t at = offset; at < offset + length;) {
    GF_ASSIGN_OR_RETURN(std::string chunk, read(at, std::min(kReadChunk, offset + length - at)));
    if (chunk.empty()) return DataLossError("the compressed layer ends at " + std::to_string(at));
    out += chunk;
    at += static_cast<int64_t>(chunk.size());
  }
  return out;
}

// A seekable zstd layer: the seek table from the end, then each frame read, hashed, decompressed.
Result<Ztoc> BuildZstdZtoc(const CompressedReader& read, int64_t compressed_size) {
  Ztoc ztoc;
  ztoc.compression = ZtocCompression::kZstd;
  if (compressed_size < static_cast<int64_t>(kSeekTableFooterSize)) return InvalidArgumentError("zstd layer: too short to be seekable");
  GF_ASSIGN_OR_RETURN(std::string footer, ReadExactly(read, compressed_size - kSeekTableFooterSize, kSeekTableFooterSize));
  GF_ASSIGN_OR_RETURN(int64_t table_size, SeekTableSize(footer));
  if (table_size > compressed_size) return InvalidArgumentError("zstd layer: the seek table is larger than the layer");
  GF_ASSIGN_OR_RETURN(std::string table, ReadExactly(read, compressed_size - table_size, table_size));
  GF_ASSIGN_OR_RETURN(ztoc.zstd, ParseSeekTable(table, compressed_size));
  TarReader tar = TocRecorder(ztoc);
  std::string out;
  for (const ZstdFrame& f : ztoc.zstd.frames) {
    GF_ASSIGN_OR_RETURN(std::string frame, ReadExactly(read, f.compressed_offset, f.compressed_size));
    ztoc.span_digests.push_back(Sha256Digest(frame));
    out.resize(static_cast<size_t>(f.uncompressed_size));
    GF_RETURN_IF_ERROR(DecompressZstdFrame(frame, out.data(), f.uncompressed_size));
    if (!tar.ended()) GF_RETURN_IF_ERROR(tar.Feed(out));
  }
  GF_RETURN_IF_ERROR(tar.Finish());
  ztoc.compressed_archive_size = compressed_size;
  ztoc.uncompressed_archive_size = ztoc.zstd.uncompressed_size;
  return ztoc;
}

}  // namespace

Result<Ztoc> BuildZtoc(const CompressedReader& read, int64_t compressed_size, int64_t span_size) {
  GF_ASSIGN_OR_RETURN(std::string magic, ReadExactly(read, 0, std::min<int64_t>(4, compressed_size)));
  if (magic == std::string("\x28\xB5\x2F\xFD", 4)) return BuildZstdZtoc(read, compressed_size);
  Ztoc ztoc;
  Status entry_error;
  TarReader tar = TocRecorder(ztoc);
  GzipIndexBuilder builder(span_size);
  for (int64_t at = 0; at < compressed_size;) {
    GF_ASSIGN_OR_RETURN(std::string chunk, read(at, std::min(kReadChunk, compressed_size - at)));
    if (chunk.empty()) return DataLossError("the compressed layer ends at " + std::to_string(at));
    GF_RETURN_IF_ERROR(builder.Feed(chunk, [&](std::string_view out) {
      if (entry_error.ok()) entry_error = tar.Feed(out);
    }));
    GF_RETURN_IF_ERROR(entry_error);
    at += static_cast<int64_t>(chunk.size());
  }
  GF_ASSIGN_OR_RETURN(ztoc.index, builder.Finish());
  GF_RETURN_IF_ERROR(tar.Finish());
  ztoc.compressed_archive_size = ztoc.index.compressed_size;
  ztoc.uncompressed_archive_size = ztoc.index.uncompressed_size;
  for (int id = 0; id <= ztoc.max_span_id(); ++id) {
    auto [start, end] = ztoc.SpanRange(id);
    GF_ASSIGN_OR_RETURN(std::string digest, SpanDigest(read, start, end));
    ztoc.span_digests.push_back(std::move(digest));
  }
  return ztoc;
}

std::string SerializeZtoc(const Ztoc& z) {
  flatbuffers::FlatBufferBuilder b(1024 + z.files.size() * 256 + z.index.checkpoints.size() * kPackedCheckpointSize);
  std::vector<flatbuffers::Offset<ztoc::FileMetadata>> files;
  files.reserve(z.files.size());
  for (const auto& f : z.files) {
    std::vector<flatbuffers::Offset<ztoc::Xattr>> xattrs;
    for (const auto& [k, v] : f.xattrs) xattrs.push_back(ztoc::CreateXattr(b, b.CreateString(k), b.CreateString(v)));
    files.push_back(ztoc::CreateFileMetadata(
        b, b.CreateString(f.name), b.CreateString(f.type), f.uncompressed_offset, f.uncompressed_size,
        b.CreateString(f.linkname), f.mode, f.uid, f.gid, b.CreateString(f.uname), b.CreateString(f.gname),
        b.CreateString(f.mod_time), f.devmajor, f.devminor, b.CreateVector(xattrs)));
  }
  auto toc = ztoc::CreateTOC(b, b.CreateVector(files));
  std::vector<flatbuffers::Offset<flatbuffers::String>> digests;
  for (const auto& d : z.span_digests) digests.push_back(b.CreateString(d));
  const bool zstd = z.compression == ZtocCompression::kZstd;
  const std::string blob = zstd ? z.zstd.Serialize() : z.index.Serialize(2);
  auto checkpoints = b.CreateVector(reinterpret_cast<const uint8_t*>(blob.data()), blob.size());
  auto info = ztoc::CreateCompressionInfo(b, zstd ? ztoc::CompressionAlgorithm_Zstd : ztoc::CompressionAlgorithm_Gzip,
                                          z.max_span_id(), b.CreateVector(digests), checkpoints);
  auto root = ztoc::CreateZtoc(b, b.CreateString(z.version), b.CreateString(z.build_tool_identifier),
                               z.compressed_archive_size, z.uncompressed_archive_size, toc, info);
  b.Finish(root);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

Result<Ztoc> ParseZtoc(std::string_view bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!ztoc::VerifyZtocBuffer(verifier)) return InvalidArgumentError("zTOC: not a valid zTOC flatbuffer");
  const ztoc::Ztoc* root = ztoc::GetZtoc(bytes.data());
  Ztoc z;
  auto str = [](const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); };
  z.version = str(root->version());
  z.build_tool_identifier = str(root->build_tool_identifier());
  z.compressed_archive_size = root->compressed_archive_size();
  z.uncompressed_archive_size = root->uncompressed_archive_size();
  if (z.compressed_archive_size < 0 || z.uncompressed_archive_size < 0) return InvalidArgumentError("zTOC: negative sizes");
  const ztoc::CompressionInfo* info = root->compression_info();
  if (info == nullptr || info->checkpoints() == nullptr) return InvalidArgumentError("zTOC: no compression info");
  const std::string_view checkpoints(reinterpret_cast<const char*>(info->checkpoints()->data()), info->checkpoints()->size());
  if (info->compression_algorithm() == ztoc::CompressionAlgorithm_Zstd) {
    z.compression = ZtocCompression::kZstd;
    GF_ASSIGN_OR_RETURN(z.zstd, ParseSeekTable(checkpoints, z.compressed_archive_size));
    if (z.zstd.uncompressed_size != z.uncompressed_archive_size) {
      return InvalidArgumentError("zTOC: the zstd seek table's frames do not add up to the archive");
    }
  } else if (info->compression_algorithm() == ztoc::CompressionAlgorithm_Gzip) {
    GF_ASSIGN_OR_RETURN(z.index, ParseGzipIndex(checkpoints));
    z.index.compressed_size = z.compressed_archive_size;
    z.index.uncompressed_size = z.uncompressed_archive_size;
    for (const auto& c : z.index.checkpoints) {
      if (c.in > z.compressed_archive_size || c.out > z.uncompressed_archive_size) {
        return InvalidArgumentError("zTOC: a checkpoint lies beyond the archive");
      }
    }
  } else {
    return UnimplementedError("zTOC: uncompressed-layer zTOCs are not supported");
  }
  if (info->span_digests() != nullptr) {
    for (const auto* d : *info->span_digests()) z.span_digests.push_back(str(d));
  }
  if (info->max_span_id() != z.max_span_id() || static_cast<int>(z.span_digests.size()) != z.max_span_id() + 1) {
    return InvalidArgumentError("zTOC: max_span_id " + std::to_string(info->max_span_id()) + " and " +
                                std::to_string(z.span_digests.size()) + " span digests do not match " +
                                std::to_string(z.max_span_id() + 1) + " spans");
  }
  if (root->toc() != nullptr && root->toc()->metadata() != nullptr) {
    for (const auto* m : *root->toc()->metadata()) {
      ZtocFile f{.name = str(m->name()), .type = str(m->type()), .uncompressed_offset = m->uncompressed_offset(),
                 .uncompressed_size = m->uncompressed_size(), .linkname = str(m->linkname()), .mode = m->mode(),
                 .uid = m->uid(), .gid = m->gid(), .uname = str(m->uname()), .gname = str(m->gname()),
                 .mod_time = str(m->mod_time()), .devmajor = m->devmajor(), .devminor = m->devminor(), .xattrs = {}};
      if (f.uncompressed_offset < 0 || f.uncompressed_size < 0 ||
          f.uncompressed_offset + f.uncompressed_size > z.uncompressed_archive_size) {
        return InvalidArgumentError("zTOC: file " + f.name + " lies beyond the archive");
      }
      if (m->xattrs() != nullptr) {
        for (const auto* x : *m->xattrs()) f.xattrs.emplace_back(str(x->key()), str(x->value()));
      }
      z.files.push_back(std::move(f));
    }
  }
  return z;
}

Result<std::string> ReadFile(const Ztoc& z, const CompressedReader& read, std::string_view name) {
  const ZtocFile* f = z.Find(name);
  for (int hops = 0; f != nullptr && f->type == "hardlink" && hops < 8; ++hops) f = z.Find(f->linkname);
  if (f == nullptr) return NotFoundError("no file " + std::string(name) + " in the layer");
  if (f->type != "reg") return InvalidArgumentError(std::string(name) + " is a " + f->type + ", not a regular file");
  if (f->uncompressed_size == 0) return std::string();
  // Fetch the spans the file needs, verify each against its digest, then inflate from them only.
  auto [first, last] = z.SpansFor(f->uncompressed_offset, f->uncompressed_size);
  const int64_t begin = z.SpanRange(first).first;
  const int64_t end = z.SpanRange(last).second;
  std::string spans;
  for (int64_t at = begin; at < end;) {
    GF_ASSIGN_OR_RETURN(std::string chunk, read(at, std::min(kReadChunk, end - at)));
    if (chunk.empty()) return DataLossError("the compressed layer ends at " + std::to_string(at));
    spans += chunk;
    at += static_cast<int64_t>(chunk.size());
  }
  for (int id = first; id <= last; ++id) {
    auto [s, e] = z.SpanRange(id);
    Sha256 sha;
    sha.Update(std::string_view(spans).substr(static_cast<size_t>(s - begin), static_cast<size_t>(e - s)));
    if (sha.Finish() != z.span_digests[static_cast<size_t>(id)]) {
      return DataLossError("span " + std::to_string(id) + " of the layer does not match its digest in the zTOC");
    }
  }
  if (z.compression == ZtocCompression::kZstd) {
    std::string out, frame_bytes;
    out.reserve(static_cast<size_t>(f->uncompressed_size));
    for (int id = first; id <= last; ++id) {
      const ZstdFrame& frame = z.zstd.frames[static_cast<size_t>(id)];
      frame_bytes.resize(static_cast<size_t>(frame.uncompressed_size));
      GF_RETURN_IF_ERROR(DecompressZstdFrame(std::string_view(spans).substr(static_cast<size_t>(frame.compressed_offset - begin),
                                                                            static_cast<size_t>(frame.compressed_size)),
                                             frame_bytes.data(), frame.uncompressed_size));
      const int64_t from = std::max(f->uncompressed_offset, frame.uncompressed_offset);
      const int64_t to = std::min(f->uncompressed_offset + f->uncompressed_size, frame.uncompressed_offset + frame.uncompressed_size);
      if (to > from) out.append(frame_bytes, static_cast<size_t>(from - frame.uncompressed_offset), static_cast<size_t>(to - from));
    }
    return out;
  }
  CompressedReader verified = [&](int64_t offset, int64_t length) -> Result<std::string> {
    if (offset < begin || offset >= end) return DataLossError("read outside the verified spans");
    return spans.substr(static_cast<size_t>(offset - begin), static_cast<size_t>(std::min(length, end - offset)));
  };
  return ExtractRange(z.index, verified, f->uncompressed_offset, f->uncompressed_size);
}

}  // namespace gpufleet::image
