// Inflating one large gzip layer: zlib's single stream (containerd's and SOCI's decoder class)
// against ISA-L's single stream and ISA-L on every span in parallel from a GzipIndex, plus the
// cost of building that index (zlib, Z_BLOCK). The layer is a gzip file named by --layer
// (bench/run image makes one from a tar of /usr/lib: binaries and libraries, like a CUDA image).
#include <benchmark/benchmark.h>
#include <zlib.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "image/gzip_index.h"
#include "image/inflate.h"

namespace {

using namespace gpufleet;

std::string g_layer;
int64_t g_uncompressed = 0;

void SetBytes(benchmark::State& state) { state.SetBytesProcessed(state.iterations() * g_uncompressed); }

void BM_ZlibInflate(benchmark::State& state) {
  std::string out(1 << 20, '\0');
  for (auto _ : state) {
    z_stream s{};
    inflateInit2(&s, 47);
    s.next_in = reinterpret_cast<Bytef*>(g_layer.data());
    s.avail_in = static_cast<uInt>(g_layer.size());
    int ret;
    do {
      s.next_out = reinterpret_cast<Bytef*>(out.data());
      s.avail_out = static_cast<uInt>(out.size());
      ret = inflate(&s, Z_NO_FLUSH);
    } while (ret == Z_OK);
    inflateEnd(&s);
    if (ret != Z_STREAM_END) state.SkipWithError("zlib inflate failed");
  }
  SetBytes(state);
}
BENCHMARK(BM_ZlibInflate)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_IsalInflate(benchmark::State& state) {
  for (auto _ : state) {
    int64_t n = 0;
    auto s = image::InflateGzip(g_layer, [&](std::string_view piece) {
      n += static_cast<int64_t>(piece.size());
      return OkStatus();
    });
    if (!s.ok() || n != g_uncompressed) state.SkipWithError("ISA-L inflate failed");
  }
  SetBytes(state);
}
BENCHMARK(BM_IsalInflate)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_IsalParallelSpans(benchmark::State& state) {
  auto index = image::BuildGzipIndex(g_layer, image::kDefaultSpanSize);
  if (!index.ok()) {
    state.SkipWithError("index");
    return;
  }
  std::string out(static_cast<size_t>(g_uncompressed), '\0');
  for (auto _ : state) {
    if (!image::InflateSpansParallel(*index, g_layer, static_cast<unsigned>(state.range(0)), out.data()).ok()) {
      state.SkipWithError("parallel inflate failed");
    }
  }
  SetBytes(state);
}
BENCHMARK(BM_IsalParallelSpans)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_BuildIndex(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(image::BuildGzipIndex(g_layer, image::kDefaultSpanSize));
  SetBytes(state);
}
BENCHMARK(BM_BuildIndex)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.starts_with("--layer=")) {
      path = a.substr(8);
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (path.empty()) {
    std::cerr << "inflate_bench: --layer=FILE.gz is required (bench/run image makes one)\n";
    return 2;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  g_layer = text.str();
  auto index = image::BuildGzipIndex(g_layer, image::kDefaultSpanSize);
  if (!index.ok()) {
    std::cerr << "inflate_bench: " << index.status() << "\n";
    return 1;
  }
  g_uncompressed = index->uncompressed_size;
  benchmark::AddCustomContext("gpufleet_layer_compressed_bytes", std::to_string(g_layer.size()));
  benchmark::AddCustomContext("gpufleet_layer_uncompressed_bytes", std::to_string(g_uncompressed));
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
