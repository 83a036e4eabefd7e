// Test data for the image tests: bytes that compress unevenly (runs of text and random bytes,
// like a tar of binaries), a gzip writer (zlib), and a whole-file reader.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>

namespace gpufleet::image::testing {

inline std::string Data(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out;
  out.reserve(size);
  while (out.size() < size) {
    if (rng() % 3 == 0) {
      for (int i = 0; i < 4096 && out.size() < size; ++i) out.push_back(static_cast<char>(rng()));
    } else {
      const std::string word = "libcublasLt.so." + std::to_string(rng() % 100) + " ";
      for (int i = 0; i < 200 && out.size() < size; ++i) out += word;
    }
  }
  out.resize(size);
  return out;
}

inline std::string Gzip(const std::string& data, int level = 6) {
  z_stream s{};
  deflateInit2(&s, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&s, data.size()) + 64, '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(out.data());
  s.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&s, Z_FINISH), Z_STREAM_END);
  out.resize(s.total_out);
  deflateEnd(&s);
  return out;
}

// The bytes of a file ("" when it cannot be read).
inline std::string ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace gpufleet::image::testing
