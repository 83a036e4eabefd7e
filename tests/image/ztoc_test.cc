// The zTOC: built from a real tar.gz (Python's tarfile, gzip), serialized as SOCI's flatbuffer and
// decoded back both by us and by flatc from the schema alone, files read through it fetching only
// their spans, a corrupted span refused by its digest, and untrusted bytes verified.
#include "image/ztoc.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <zstd.h>

#include "image/gzip_fixture.h"
#include "image/inflate.h"
#include "image/zstd_seekable.h"

namespace gpufleet::image {
namespace {

using ::testing::HasSubstr;

std::string Slurp(const std::string& path) { return testing::ReadFileBytes(path); }

class ZtocTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/ztoc-" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::mt19937 rng(11);
    big_.resize(600000);
    for (auto& c : big_) c = static_cast<char>(rng() % 7 == 0 ? rng() : 'a' + rng() % 4);
    std::ofstream(dir_ + "/big.bin", std::ios::binary) << big_;
    std::ofstream(dir_ + "/make.py") << R"(import io, sys, tarfile
src, out = sys.argv[1], sys.argv[2]
t = tarfile.open(out, "w:gz", format=tarfile.PAX_FORMAT)
def add(name, data=None, **kw):
    ti = tarfile.TarInfo(name)
    for k, v in kw.items(): setattr(ti, k, v)
    if data is not None: ti.size = len(data)
    t.addfile(ti, io.BytesIO(data) if data is not None else None)
add("opt/", type=tarfile.DIRTYPE, mode=0o755)
add("opt/small.txt", b"hello from a span\n", mode=0o644, mtime=1714564800.5)
add("opt/big.bin", open(src, "rb").read(), mode=0o755)
add("opt/hard", type=tarfile.LNKTYPE, linkname="opt/small.txt")
add("opt/link", type=tarfile.SYMTYPE, linkname="small.txt")
x = tarfile.TarInfo("opt/caps"); x.pax_headers = {"SCHILY.xattr.user.test": "v"}; x.size = 2
t.addfile(x, io.BytesIO(b"ok"))
add("opt/tail.txt", b"the last file\n")
t.close()
)";
    ASSERT_EQ(std::system(("python3 " + dir_ + "/make.py " + dir_ + "/big.bin " + dir_ + "/layer.tar.gz").c_str()), 0);
    layer_ = Slurp(dir_ + "/layer.tar.gz");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  CompressedReader Reader(const std::string& bytes, int* reads = nullptr, int64_t* read_bytes = nullptr) {
    return [&bytes, reads, read_bytes](int64_t offset, int64_t length) -> Result<std::string> {
      if (reads) ++*reads;
      if (read_bytes) *read_bytes += length;
      return bytes.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
    };
  }

  std::string dir_, big_, layer_;
};

TEST_F(ZtocTest, BuildsSerializesAndReadsFilesThroughSpans) {
  auto z = BuildZtoc(Reader(layer_), static_cast<int64_t>(layer_.size()), 64 * 1024);
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_EQ(z->version, "0.9");
  EXPECT_EQ(z->compressed_archive_size, static_cast<int64_t>(layer_.size()));
  EXPECT_GE(z->max_span_id(), 4);
  EXPECT_EQ(static_cast<int>(z->span_digests.size()), z->max_span_id() + 1);
  ASSERT_NE(z->Find("opt/small.txt"), nullptr);
  EXPECT_EQ(z->Find("opt/small.txt")->mod_time, "2024-05-01T12:00:00.5Z");
  EXPECT_EQ(z->Find("opt/small.txt")->type, "reg");
  EXPECT_EQ(z->Find("opt/link")->type, "symlink");
  EXPECT_EQ(z->Find("opt/hard")->type, "hardlink");
  EXPECT_EQ(z->Find("opt/")->type, "dir");
  EXPECT_EQ(z->Find("opt/big.bin")->mode, 0755);
  bool xattr = false;
  for (const auto& [k, v] : z->Find("opt/caps")->xattrs) xattr = xattr || (k == "SCHILY.xattr.user.test" && v == "v");
  EXPECT_TRUE(xattr);

  const std::string bytes = SerializeZtoc(*z);
  auto parsed = ParseZtoc(bytes);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->files.size(), z->files.size());
  EXPECT_EQ(parsed->span_digests, z->span_digests);
  EXPECT_EQ(parsed->index.checkpoints.size(), z->index.checkpoints.size());

  // Files through the parsed zTOC: only their spans are fetched.
  int reads = 0;
  int64_t fetched = 0;
  auto small = ReadFile(*parsed, Reader(layer_, &reads, &fetched), "opt/small.txt");
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ(*small, "hello from a span\n");
  EXPECT_LT(fetched, static_cast<int64_t>(layer_.size()) / 2);
  EXPECT_EQ(*ReadFile(*parsed, Reader(layer_), "./opt/big.bin"), big_);
  EXPECT_EQ(*ReadFile(*parsed, Reader(layer_), "opt/hard"), "hello from a span\n");  // hardlink: its target
  EXPECT_EQ(*ReadFile(*parsed, Reader(layer_), "opt/tail.txt"), "the last file\n");
  EXPECT_EQ(ReadFile(*parsed, Reader(layer_), "opt/nope").status().code(), StatusCode::kNotFound);
  EXPECT_THAT(ReadFile(*parsed, Reader(layer_), "opt/link").status().message(), HasSubstr("symlink"));
}

TEST_F(ZtocTest, FlatcDecodesOurBytesFromTheSchemaAlone) {
  if (std::system("command -v flatc >/dev/null") != 0) GTEST_SKIP() << "flatc not installed";
  auto z = BuildZtoc(Reader(layer_), static_cast<int64_t>(layer_.size()), 64 * 1024);
  ASSERT_TRUE(z.ok());
  std::ofstream(dir_ + "/layer.ztoc", std::ios::binary) << SerializeZtoc(*z);
  const std::string cmd = "cd " + dir_ + " && flatc --json --strict-json --raw-binary -o " + dir_ + " " +
                          std::string(GPUFLEET_SOURCE_DIR) + "/proto/ztoc/ztoc.fbs -- layer.ztoc";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto j = nlohmann::json::parse(Slurp(dir_ + "/layer.json"));
  EXPECT_EQ(j["version"], "0.9");
  EXPECT_EQ(j["compressed_archive_size"], static_cast<int64_t>(layer_.size()));
  EXPECT_EQ(j["compression_info"]["max_span_id"], z->max_span_id());
  EXPECT_EQ(j["compression_info"]["checkpoints"].size(), 12 + z->index.checkpoints.size() * kPackedCheckpointSize);
  bool found = false;
  for (const auto& f : j["toc"]["metadata"]) {
    if (f["name"] == "opt/big.bin") {
      found = true;
      EXPECT_EQ(f["uncompressed_size"], 600000);
      EXPECT_EQ(f["type"], "reg");
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(ZtocTest, ACorruptedSpanIsRefused) {
  auto z = BuildZtoc(Reader(layer_), static_cast<int64_t>(layer_.size()), 64 * 1024);
  ASSERT_TRUE(z.ok());
  std::string tampered = layer_;
  auto [s, e] = z->SpanRange(z->SpansFor(z->Find("opt/big.bin")->uncompressed_offset + 300000, 1).first);
  tampered[static_cast<size_t>((s + e) / 2)] ^= 0x01;
  auto read = ReadFile(*z, Reader(tampered), "opt/big.bin");
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(), HasSubstr("does not match its digest"));
}

TEST_F(ZtocTest, UntrustedBytesAreVerified) {
  EXPECT_THAT(ParseZtoc("definitely not a flatbuffer").status().message(), HasSubstr("not a valid zTOC"));
  auto z = BuildZtoc(Reader(layer_), static_cast<int64_t>(layer_.size()), 64 * 1024);
  ASSERT_TRUE(z.ok());
  Ztoc lying = *z;
  lying.span_digests.pop_back();
  EXPECT_THAT(ParseZtoc(SerializeZtoc(lying)).status().message(), HasSubstr("span digests"));
  Ztoc beyond = *z;
  beyond.files[1].uncompressed_offset = beyond.uncompressed_archive_size;
  EXPECT_THAT(ParseZtoc(SerializeZtoc(beyond)).status().message(), HasSubstr("beyond the archive"));
  const std::string bytes = SerializeZtoc(*z);
  EXPECT_FALSE(ParseZtoc(bytes.substr(0, bytes.size() / 2)).ok());
  EXPECT_FALSE(BuildZtoc(Reader(big_), static_cast<int64_t>(big_.size())).ok());  // not gzip
}

// The zstd seekable mode: the same tar written as seekable zstd (64 KiB frames) is a plain zstd
// stream to any decoder, and its zTOC (compression Zstd, the seek table as checkpoints) serves
// files from the frames that hold them.
TEST_F(ZtocTest, SeekableZstdLayers) {
  std::string tar;
  ASSERT_TRUE(InflateGzip(layer_, [&](std::string_view p) {
                tar.append(p);
                return OkStatus();
              }).ok());
  std::string zst;
  ZstdSeekableWriter writer(
      [&](std::string_view p) {
        zst.append(p);
        return OkStatus();
      },
      64 * 1024);
  for (size_t at = 0; at < tar.size(); at += 10000) ASSERT_TRUE(writer.Feed(std::string_view(tar).substr(at, 10000)).ok());
  ASSERT_TRUE(writer.Finish().ok());
  EXPECT_EQ(writer.table().compressed_size, static_cast<int64_t>(zst.size()));
  EXPECT_GT(writer.table().frames.size(), 5u);
  // An ordinary decoder reads every frame and skips the seek table.
  std::string plain(tar.size(), '\0');
  EXPECT_EQ(ZSTD_decompress(plain.data(), plain.size(), zst.data(), zst.size()), tar.size());
  EXPECT_EQ(plain, tar);
  auto table = ParseSeekTable(zst, static_cast<int64_t>(zst.size()));
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->uncompressed_size, static_cast<int64_t>(tar.size()));
  EXPECT_FALSE(ParseSeekTable(zst.substr(0, zst.size() - 1), static_cast<int64_t>(zst.size()) - 1).ok());

  auto z = BuildZtoc(Reader(zst), static_cast<int64_t>(zst.size()));
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_EQ(z->compression, ZtocCompression::kZstd);
  EXPECT_EQ(z->max_span_id() + 1, static_cast<int>(table->frames.size()));
  auto parsed = ParseZtoc(SerializeZtoc(*z));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->compression, ZtocCompression::kZstd);
  int64_t fetched = 0;
  EXPECT_EQ(*ReadFile(*parsed, Reader(zst, nullptr, &fetched), "opt/small.txt"), "hello from a span\n");
  EXPECT_LT(fetched, static_cast<int64_t>(zst.size()) / 2);
  EXPECT_EQ(*ReadFile(*parsed, Reader(zst), "opt/big.bin"), big_);
  EXPECT_EQ(*ReadFile(*parsed, Reader(zst), "opt/tail.txt"), "the last file\n");
  // A frame that does not match its digest is refused.
  std::string corrupt = zst;
  corrupt[static_cast<size_t>(parsed->zstd.frames[0].compressed_offset + 20)] ^= 1;
  EXPECT_EQ(ReadFile(*parsed, Reader(corrupt), "opt/small.txt").status().code(), StatusCode::kDataLoss);
  // A plain (single-frame) zstd layer is not seekable: a clear error.
  std::string single(ZSTD_compressBound(tar.size()), '\0');
  single.resize(ZSTD_compress(single.data(), single.size(), tar.data(), tar.size(), 3));
  EXPECT_THAT(BuildZtoc(Reader(single), static_cast<int64_t>(single.size())).status().message(), HasSubstr("not a seekable zstd"));
}

TEST(ZtocTime, Rfc3339WithNanoseconds) {
  EXPECT_EQ(FormatModTime(0, 0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatModTime(1714564800, 123456789), "2024-05-01T12:00:00.123456789Z");
  EXPECT_EQ(FormatModTime(1714564800, 120000000), "2024-05-01T12:00:00.12Z");
}

}  // namespace
}  // namespace gpufleet::image
