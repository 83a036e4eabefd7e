// Google Benchmark suite for the scheduling simulator (bench/run scheduling, no --pods):
//   KarpenterShape/N  Karpenter's benchmark (400 fake types, 5 pod classes), N pods per solve
//   GpuShape/N        real GPU instance types from data/, N GPU inference pods
// Counters: pods_per_sec, ns_per_pod, nodes (claims created), unplaced, and for the GPU shape
// the $/h of the claims at their cheapest types.
#include <benchmark/benchmark.h>

#include "gpu_shape.h"
#include "karpenter_shape.h"
#include "scheduling/scheduler.h"

namespace gpufleet::bench {
namespace {

void Report(benchmark::State& state, const scheduling::Result& r, int pods) {
  int unplaced = 0;
  for (const auto& p : r.placements) unplaced += p.kind == scheduling::Placement::Kind::kUnplaced ? 1 : 0;
  state.counters["pods_per_sec"] = benchmark::Counter(static_cast<double>(pods), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ns_per_pod"] = benchmark::Counter(static_cast<double>(pods) * 1e-9,
                                                    benchmark::Counter::kIsIterationInvariantRate |
                                                        benchmark::Counter::kInvert);
  state.counters["nodes"] = static_cast<double>(r.new_claims.size());
  state.counters["unplaced"] = unplaced;
  if (unplaced > 0) state.SkipWithError("pods left unplaced");
}

void BM_KarpenterShape(benchmark::State& state) {
  const int pods = static_cast<int>(state.range(0));
  const scheduling::Input in = KarpenterShape(pods);
  scheduling::Result r;
  for (auto _ : state) {
    r = scheduling::Solve(in);
    benchmark::DoNotOptimize(r);
  }
  Report(state, r, pods);
}
BENCHMARK(BM_KarpenterShape)->Arg(1)->Arg(100)->Arg(1000)->Arg(5000)->Arg(20000)->Arg(40000)->Unit(benchmark::kMillisecond);

void BM_PreferencePods(benchmark::State& state) {
  const int pods = 4000;
  const scheduling::Input in = PreferenceShape(pods);
  scheduling::Options options;
  options.ignore_preferences = state.range(0) == 1;
  scheduling::Result r;
  for (auto _ : state) {
    r = scheduling::Solve(in, options);
    benchmark::DoNotOptimize(r);
  }
  Report(state, r, pods);
}
// 0: preferences respected (tried, then relaxed); 1: ignored (--preference-policy=Ignore).
BENCHMARK(BM_PreferencePods)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_GpuShape(benchmark::State& state) {
  const int pods = static_cast<int>(state.range(0));
  const scheduling::Input in = GpuShape(GPUFLEET_DATA_DIR "/aws-instance-types.json", pods);
  if (in.instance_types.empty()) {
    state.SkipWithError("data/aws-instance-types.json not readable");
    return;
  }
  scheduling::Result r;
  for (auto _ : state) {
    r = scheduling::Solve(in);
    benchmark::DoNotOptimize(r);
  }
  Report(state, r, pods);
  state.counters["usd_per_hour"] = ClaimsPricePerHour(in, r);
}
BENCHMARK(BM_GpuShape)->Arg(10)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpufleet::bench

BENCHMARK_MAIN();
