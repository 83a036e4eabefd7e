// GzipIndex: SOCI-compatible checkpoints built in one streaming pass, the zinfo blob (v1 and v2)
// round trip, random reads that match the uncompressed bytes, concatenated members, and the
// errors a truncated or corrupt stream gives.
#include "image/gzip_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>
#include <random>

#include "image/gzip_fixture.h"

namespace gpufleet::image {
namespace {

using ::testing::HasSubstr;

using testing::Data;
using testing::Gzip;

CompressedReader Reader(const std::string& compressed) {
  return [&compressed](int64_t offset, int64_t length) -> Result<std::string> {
    if (offset < 0 || offset > static_cast<int64_t>(compressed.size())) return OutOfRangeError("read past the end");
    return compressed.substr(static_cast<size_t>(offset), static_cast<size_t>(length));
  };
}

TEST(GzipIndex, CheckpointsAtSpansAndRandomReadsMatch) {
  const std::string data = Data(3 << 20, 1);
  const std::string gz = Gzip(data);
  auto index = BuildGzipIndex(gz, 256 * 1024);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->uncompressed_size, static_cast<int64_t>(data.size()));
  EXPECT_EQ(index->compressed_size, static_cast<int64_t>(gz.size()));
  ASSERT_GE(index->checkpoints.size(), 8u);
  EXPECT_EQ(index->checkpoints[0].out, 0);
  EXPECT_EQ(index->checkpoints[0].in, 10);  // right after the 10-byte gzip header
  for (size_t i = 1; i < index->checkpoints.size(); ++i) {
    EXPECT_GT(index->checkpoints[i].out - index->checkpoints[i - 1].out, 256 * 1024) << i;
    EXPECT_LE(index->checkpoints[i].bits, 7);
    EXPECT_EQ(index->checkpoints[i].window.size(), kGzipWindowSize);
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    const int64_t offset = rng() % data.size();
    const int64_t length = std::min<int64_t>(rng() % 300000, static_cast<int64_t>(data.size()) - offset);
    auto got = ExtractRange(*index, Reader(gz), offset, length);
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_EQ(*got, data.substr(offset, length)) << "offset " << offset << " length " << length;
  }
  // The last byte, and a read that starts exactly at a checkpoint.
  EXPECT_EQ(*ExtractRange(*index, Reader(gz), data.size() - 1, 1), data.substr(data.size() - 1));
  const int64_t at = index->checkpoints[3].out;
  EXPECT_EQ(*ExtractRange(*index, Reader(gz), at, 1000), data.substr(at, 1000));
  EXPECT_EQ(ExtractRange(*index, Reader(gz), data.size() - 10, 11).status().code(), StatusCode::kOutOfRange);
}

TEST(GzipIndex, StreamingInPiecesGivesTheSameIndexAndTheBytes) {
  const std::string data = Data(1 << 20, 2);
  const std::string gz = Gzip(data);
  auto whole = BuildGzipIndex(gz, 100000);
  ASSERT_TRUE(whole.ok());
  GzipIndexBuilder builder(100000);
  std::string inflated;
  for (size_t at = 0; at < gz.size(); at += 777) {
    ASSERT_TRUE(builder.Feed(std::string_view(gz).substr(at, 777), [&](std::string_view out) { inflated += out; }).ok());
  }
  auto pieces = builder.Finish();
  ASSERT_TRUE(pieces.ok()) << pieces.status();
  EXPECT_EQ(inflated, data);
  ASSERT_EQ(pieces->checkpoints.size(), whole->checkpoints.size());
  for (size_t i = 0; i < whole->checkpoints.size(); ++i) {
    EXPECT_EQ(pieces->checkpoints[i].in, whole->checkpoints[i].in);
    EXPECT_EQ(pieces->checkpoints[i].out, whole->checkpoints[i].out);
    EXPECT_EQ(pieces->checkpoints[i].window, whole->checkpoints[i].window);
  }
}

TEST(GzipIndex, ZinfoBlobRoundTripsInBothVersions) {
  const std::string data = Data(2 << 20, 3);
  const std::string gz = Gzip(data);
  auto index = BuildGzipIndex(gz, 200000);
  ASSERT_TRUE(index.ok());
  const std::string v2 = index->Serialize(2);
  EXPECT_EQ(v2.size(), 12 + index->checkpoints.size() * kPackedCheckpointSize);
  const std::string v1 = index->Serialize(1);
  EXPECT_EQ(v1.size(), 12 + (index->checkpoints.size() - 1) * kPackedCheckpointSize);
  for (const std::string* blob : {&v2, &v1}) {
    auto parsed = ParseGzipIndex(*blob);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(parsed->span_size, 200000);
    EXPECT_EQ(parsed->checkpoints.size(), index->checkpoints.size());
    EXPECT_EQ(parsed->checkpoints.back().window, index->checkpoints.back().window);
    parsed->compressed_size = index->compressed_size;
    parsed->uncompressed_size = index->uncompressed_size;
    for (int64_t offset : {int64_t{0}, int64_t{12345}, parsed->checkpoints[2].out + 5, int64_t(data.size()) - 4000}) {
      auto got = ExtractRange(*parsed, Reader(gz), offset, 4000);
      ASSERT_TRUE(got.ok()) << got.status();
      EXPECT_EQ(*got, data.substr(offset, 4000));
    }
  }
}

TEST(GzipIndex, ConcatenatedMembersAndZeroPadding) {
  const std::string a = Data(700000, 4), b = Data(900000, 5);
  const std::string gz = Gzip(a, 1) + Gzip(b, 9) + std::string(16, '\0');
  auto index = BuildGzipIndex(gz, 100000);
  ASSERT_TRUE(index.ok()) << index.status();
  EXPECT_EQ(index->uncompressed_size, static_cast<int64_t>(a.size() + b.size()));
  const std::string all = a + b;
  for (int64_t offset : {int64_t{650000}, int64_t(a.size()) - 10, int64_t(a.size()) + 1, int64_t{1500000}}) {
    auto got = ExtractRange(*index, Reader(gz), offset, 60000);
    ASSERT_TRUE(got.ok()) << got.status() << " at " << offset;
    EXPECT_EQ(*got, all.substr(offset, 60000)) << offset;
  }
}

TEST(GzipIndex, TruncatedCorruptAndForeignStreamsAreErrors) {
  const std::string data = Data(500000, 6);
  const std::string gz = Gzip(data);
  auto truncated = BuildGzipIndex(gz.substr(0, gz.size() / 2));
  ASSERT_FALSE(truncated.ok());
  EXPECT_THAT(truncated.status().message(), HasSubstr("truncated"));
  std::string corrupt = gz;
  for (size_t i = 1000; i < 1100; ++i) corrupt[i] = static_cast<char>(corrupt[i] ^ 0x5A);
  auto bad = BuildGzipIndex(corrupt);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("compressed offset"));
  auto foreign = BuildGzipIndex("this is not a gzip stream at all");
  ASSERT_FALSE(foreign.ok());
  EXPECT_THAT(foreign.status().message(), HasSubstr("gzip"));
  EXPECT_FALSE(BuildGzipIndex("").ok());
}

TEST(GzipIndex, BadBlobsSayWhatIsWrong) {
  EXPECT_THAT(ParseGzipIndex("short").status().message(), HasSubstr("12-byte header"));
  auto index = BuildGzipIndex(Gzip(Data(600000, 8)), 100000);
  ASSERT_TRUE(index.ok());
  std::string blob = index->Serialize(2);
  std::string cut = blob.substr(0, blob.size() - 10);
  EXPECT_THAT(ParseGzipIndex(cut).status().message(), HasSubstr("checkpoints"));
  std::string bad_bits = blob;
  bad_bits[12 + kPackedCheckpointSize + 16] = 9;
  EXPECT_THAT(ParseGzipIndex(bad_bits).status().message(), HasSubstr("bits 9"));
  std::string backwards = blob;
  std::memset(backwards.data() + 12 + kPackedCheckpointSize, 0, 16);  // checkpoint 1 at (0, 0)
  EXPECT_THAT(ParseGzipIndex(backwards).status().message(), HasSubstr("does not follow"));
}

}  // namespace
}  // namespace gpufleet::image
