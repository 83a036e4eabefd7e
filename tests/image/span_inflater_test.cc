// SpanInflater: an indexed gzip stream fed in arbitrary pieces comes out byte for byte, in order,
// with 1 to 4 workers, across member boundaries and from a v1 index (checkpoint 0 at the gzip
// header); an index that does not fit the stream is an error, never a crash.
#include "image/span_inflater.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "image/gzip_fixture.h"

namespace gpufleet::image {
namespace {

using ::testing::HasSubstr;
using testing::Data;
using testing::Gzip;

Status Inflate(const GzipIndex& index, const std::string& gz, unsigned threads, size_t max_piece, std::string* out, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  SpanInflater inflater(GzipSpanPlan(index), threads, [&](std::string piece) {
    out->append(piece);
    return OkStatus();
  });
  for (size_t at = 0; at < gz.size();) {
    const size_t n = std::min<size_t>(gz.size() - at, 1 + rng() % max_piece);
    GF_RETURN_IF_ERROR(inflater.Feed(std::string_view(gz).substr(at, n)));
    at += n;
  }
  return inflater.Finish();
}

TEST(SpanInflater, MatchesTheStreamInAnyPieces) {
  const std::string data = Data(3 << 20, 11);
  const std::string gz = Gzip(data);
  auto index = BuildGzipIndex(gz, 128 * 1024);
  ASSERT_TRUE(index.ok());
  ASSERT_GT(index->checkpoints.size(), 10u);
  for (unsigned threads : {1u, 2u, 4u}) {
    for (size_t piece : {size_t{1000}, size_t{100000}, gz.size()}) {
      std::string out;
      ASSERT_TRUE(Inflate(*index, gz, threads, piece, &out).ok()) << threads << " " << piece;
      EXPECT_EQ(out, data) << threads << " threads, pieces up to " << piece;
    }
  }
}

TEST(SpanInflater, MembersAndV1Index) {
  const std::string a = Data(700000, 12), b = Data(900000, 13);
  const std::string gz = Gzip(a, 1) + Gzip(b, 9);
  auto built = BuildGzipIndex(gz, 64 * 1024);
  ASSERT_TRUE(built.ok());
  auto v1 = ParseGzipIndex(built->Serialize(1));  // checkpoint 0 back at the gzip header
  ASSERT_TRUE(v1.ok());
  v1->compressed_size = built->compressed_size;
  v1->uncompressed_size = built->uncompressed_size;
  for (const GzipIndex* index : {&*built, &*v1}) {
    std::string out;
    ASSERT_TRUE(Inflate(*index, gz, 2, 50000, &out).ok());
    EXPECT_EQ(out, a + b);
  }
}

TEST(SpanInflater, IndexThatDoesNotFitIsAnError) {
  const std::string data = Data(1 << 20, 14);
  const std::string gz = Gzip(data);
  auto index = BuildGzipIndex(gz, 64 * 1024);
  ASSERT_TRUE(index.ok());
  std::string out;
  EXPECT_THAT(Inflate(*index, gz.substr(0, gz.size() - 10), 2, 4096, &out).message(), HasSubstr("ended after"));
  out.clear();
  EXPECT_THAT(Inflate(*index, gz + "extra", 2, 4096, &out).message(), HasSubstr("longer than its index"));
  // Checkpoints pointing at the wrong compressed offsets: wrong bytes or an error, no crash.
  GzipIndex shifted = *index;
  for (auto& cp : shifted.checkpoints) cp.in = std::max<int64_t>(1, cp.in - 7);
  out.clear();
  Status s = Inflate(shifted, gz, 2, 4096, &out);
  EXPECT_TRUE(!s.ok() || out != data);
  GzipIndex huge = *index;
  huge.uncompressed_size = int64_t{1} << 40;  // the last span would be a terabyte
  out.clear();
  EXPECT_THAT(Inflate(huge, gz, 2, 4096, &out).message(), HasSubstr("impossible length"));
  // A sink error stops it.
  SpanInflater refusing(GzipSpanPlan(*index), 2, [](std::string) { return DataLossError("disk full"); });
  Status fed = refusing.Feed(gz);
  if (fed.ok()) fed = refusing.Finish();
  EXPECT_THAT(fed.message(), HasSubstr("disk full"));
}

}  // namespace
}  // namespace gpufleet::image
