// ISA-L inflate: a whole stream (members, padding, errors) and the parallel span inflate from a
// GzipIndex, compared byte for byte with the original data, with 1 to 4 threads and across
// member boundaries.
#include "image/inflate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <random>

#include "image/gzip_fixture.h"

namespace gpufleet::image {
namespace {

using ::testing::HasSubstr;

using testing::Data;
using testing::Gzip;

std::string Inflate(const std::string& gz, Status* status = nullptr) {
  std::string out;
  Status s = InflateGzip(gz, [&](std::string_view piece) {
    out += piece;
    return OkStatus();
  });
  if (status) *status = s;
  return out;
}

TEST(IsalInflate, WholeStreamsAndMembers) {
  const std::string a = Data(2 << 20, 1), b = Data(300000, 2);
  EXPECT_EQ(Inflate(Gzip(a)), a);
  EXPECT_EQ(Inflate(Gzip(a, 1) + Gzip(b, 9) + std::string(8, '\0')), a + b);
  Status s;
  Inflate(Gzip(a).substr(0, 100000), &s);
  EXPECT_THAT(s.message(), HasSubstr("truncated"));
  Inflate("plain text, not gzip", &s);
  EXPECT_FALSE(s.ok());
  std::string bad_crc = Gzip(b);
  bad_crc[bad_crc.size() - 6] ^= 0x40;  // inside the CRC32 of the trailer
  Inflate(bad_crc, &s);
  EXPECT_FALSE(s.ok());
}

// The pull pipeline feeds the inflater whatever a network read returned: every split of a
// multi-member stream, down to one byte at a time across member boundaries, must give the same
// bytes.
TEST(IsalInflate, StreamingFeedsOfAnySize) {
  const std::string a = Data(700000, 4), b = Data(90000, 5), c = "tiny";
  const std::string gz = Gzip(a, 1) + Gzip(b, 9) + std::string(3, '\0') + Gzip(c);
  std::mt19937 rng(7);
  for (size_t max_piece : {size_t{1}, size_t{7}, size_t{4096}, size_t{70000}, gz.size()}) {
    std::string out;
    GzipInflater inflater([&](std::string_view piece) {
      out += piece;
      return OkStatus();
    });
    for (size_t at = 0; at < gz.size();) {
      const size_t n = std::min<size_t>(gz.size() - at, 1 + rng() % max_piece);
      ASSERT_TRUE(inflater.Feed(std::string_view(gz).substr(at, n)).ok()) << max_piece;
      at += n;
    }
    ASSERT_TRUE(inflater.Finish().ok()) << max_piece;
    EXPECT_EQ(out, a + b + c) << "pieces up to " << max_piece;
    EXPECT_EQ(inflater.total_out(), static_cast<int64_t>(out.size()));
  }
  // Straight into owned buffers: the same bytes, every buffer full but the last.
  std::string owned_out;
  size_t short_buffers = 0;
  GzipInflater owned([] { return std::string(); }, [&](std::string piece) {
    short_buffers += piece.size() < (1u << 20) ? 1 : 0;
    owned_out += piece;
    return OkStatus();
  });
  for (size_t at = 0; at < gz.size(); at += 3333) ASSERT_TRUE(owned.Feed(std::string_view(gz).substr(at, 3333)).ok());
  ASSERT_TRUE(owned.Finish().ok());
  EXPECT_EQ(owned_out, a + b + c);
  EXPECT_EQ(short_buffers, 1u);
  GzipInflater cut([](std::string_view) { return OkStatus(); });
  ASSERT_TRUE(cut.Feed(std::string_view(gz).substr(0, gz.size() / 2)).ok());
  EXPECT_THAT(cut.Finish().message(), HasSubstr("truncated"));
  GzipInflater refuses([](std::string_view) { return DataLossError("disk full"); });
  EXPECT_THAT(refuses.Feed(gz).message(), HasSubstr("disk full"));
}

TEST(IsalInflate, ParallelSpansMatchTheStream) {
  const std::string data = Data(3 << 20, 3);
  const std::string gz = Gzip(data);
  auto index = BuildGzipIndex(gz, 64 * 1024);
  ASSERT_TRUE(index.ok());
  ASSERT_GT(index->checkpoints.size(), 10u);
  for (unsigned threads : {1u, 2u, 4u}) {
    std::string out(data.size(), '\0');
    ASSERT_TRUE(InflateSpansParallel(*index, gz, threads, out.data()).ok());
    EXPECT_EQ(out, data) << threads << " threads";
  }
  // From a zinfo blob, as a zTOC carries it (v1 leaves out checkpoint 0).
  auto parsed = ParseGzipIndex(index->Serialize(1));
  ASSERT_TRUE(parsed.ok());
  parsed->compressed_size = index->compressed_size;
  parsed->uncompressed_size = index->uncompressed_size;
  std::string out(data.size(), '\0');
  ASSERT_TRUE(InflateSpansParallel(*parsed, gz, 2, out.data()).ok());
  EXPECT_EQ(out, data);
  EXPECT_FALSE(InflateSpansParallel(*index, gz.substr(1), 2, out.data()).ok());  // not the indexed stream
}

TEST(IsalInflate, SpansAcrossMemberBoundaries) {
  const std::string a = Data(900000, 4), b = Data(1100000, 5);
  const std::string gz = Gzip(a) + Gzip(b);
  auto index = BuildGzipIndex(gz, 128 * 1024);
  ASSERT_TRUE(index.ok());
  std::string out(a.size() + b.size(), '\0');
  ASSERT_TRUE(InflateSpansParallel(*index, gz, 2, out.data()).ok());
  EXPECT_EQ(out, a + b);
}

}  // namespace
}  // namespace gpufleet::image
