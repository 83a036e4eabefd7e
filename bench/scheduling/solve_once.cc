// `bench/run scheduling --pods N`: one Solve of Karpenter's benchmark shape at N pods (plus a
// warm-up solve), printing {"pods","pods_per_sec","ns_per_pod","nodes","unplaced",
// "peak_rss_bytes","threads",...} as one JSON object on the last line. Every pod must be placed:
// a run that leaves pods unplaced exits 1 (a failure, not a result).
#include <sys/resource.h>

#include <chrono>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "karpenter_shape.h"
#include "scheduling/scheduler.h"

int main(int argc, char** argv) {
  CLI::App app{"scheduling benchmark: Karpenter's workload shape, one solve"};
  int pods = 1000;
  int repeats = 1;
  std::string shape = "karpenter";
  app.add_option("--pods", pods, "pods in the batch")->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "timed solves (the fastest is reported)")->check(CLI::PositiveNumber);
  app.add_option("--shape", shape, "karpenter: the 5 pod classes; preferences: upstream's preference pods")
      ->check(CLI::IsMember({"karpenter", "preferences"}));
  CLI11_PARSE(app, argc, argv);

  using namespace gpufleet;
  const scheduling::Input input = shape == "preferences" ? bench::PreferenceShape(pods) : bench::KarpenterShape(pods);
  double best = 1e300;
  scheduling::Result result;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    result = scheduling::Solve(input);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, s);
  }
  int unplaced = 0;
  std::string first_error;
  for (const auto& p : result.placements) {
    if (p.kind == scheduling::Placement::Kind::kUnplaced) {
      if (first_error.empty()) first_error = p.error;
      ++unplaced;
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::json out = {
      {"benchmark", "scheduling"},
      {"shape", shape == "preferences" ? "preferences (400 instance types, preferred zone and anti-affinity)"
                                       : "karpenter (400 instance types, 5 pod classes)"},
      {"pods", pods},
      {"seconds", best},
      {"pods_per_sec", static_cast<int64_t>(pods / best)},
      {"ns_per_pod", static_cast<int64_t>(best * 1e9 / pods)},
      {"nodes", result.new_claims.size()},
      {"unplaced", unplaced},
      {"peak_rss_bytes", static_cast<int64_t>(usage.ru_maxrss) * 1024},
      {"threads", 1},
  };
  if (!first_error.empty()) out["first_error"] = first_error;
  std::cout << out.dump() << std::endl;
  return unplaced == 0 ? 0 : 1;
}
