// `bench/run informer`: an informer's initial sync of N pods and its event throughput, against
// a running `gpufleet apiserver` (bench/run starts one). Prints one JSON object on its last line.
//
// 1. 16 clients create N pods through the kube Client (the seeding is timed too).
// 2. An Informer on the pods syncs from scratch: time to HasSynced, RSS of this process before
//    and after (bytes per cached pod, next to the pod's JSON size: issue 4's target is <= 1 KiB
//    of RSS per pod beyond its JSON).
// 3. 16 clients merge-patch M pods; time until the informer's update handler saw all M events.
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/pod_fixture.h"
#include "kube/client.h"
#include "kube/informer.h"
#include "kube/kubeconfig.h"

namespace gpufleet::bench {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
const kube::Gvr kPods{"", "v1", "pods", true};

double RssMiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  }
  return 0;
}

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

template <typename Fn>
int Parallel(int n, int clients, Fn fn) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < clients; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < n; i += clients) {
        if (!fn(i).ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  return failures;
}

int Run(const std::string& kubeconfig, int pods, int patches, int clients) {
  auto config = kube::LoadKubeconfig({.paths = {kubeconfig}});
  if (!config.ok()) {
    std::cerr << config.status() << "\n";
    return 2;
  }
  auto transport = kube::Transport::Create(*config, {.qps = 0}, core::RealClock());  // unthrottled
  if (!transport.ok()) {
    std::cerr << transport.status() << "\n";
    return 2;
  }
  kube::Client client(**transport);
  (void)client.Create({"", "v1", "namespaces", false}, "", {{"metadata", {{"name", "bench"}}}});
  auto name = [](int i) { return "llm-server-7d9f8c6b5d-" + std::to_string(1000000 + i); };

  auto seed_start = Clock::now();
  int failures = Parallel(pods, clients, [&](int i) {
    return client.Create(kPods, "bench", json::parse(PodJson(name(i)))).status();
  });
  double seed_s = Seconds(seed_start);

  malloc_trim(0);
  double rss_before = RssMiB();
  kube::Informer informer(client, {.gvr = kPods, .ns = "bench"}, core::RealClock());
  std::atomic<int> updates{0};
  informer.AddEventHandler({.on_update = [&](const kube::ObjectPtr&, const kube::ObjectPtr&) { ++updates; }});
  auto sync_start = Clock::now();
  std::jthread runner([&](std::stop_token stop) { informer.Run(stop); });
  informer.WaitForSync(std::chrono::minutes(10));
  double sync_s = Seconds(sync_start);
  malloc_trim(0);
  double rss_after = RssMiB();
  size_t json_bytes = 0;
  for (const auto& obj : informer.List()) json_bytes += obj->dump().size();
  const size_t cached = informer.List().size();

  auto patch_start = Clock::now();
  failures += Parallel(patches, clients, [&](int i) {
    return client.Patch(kPods, "bench", name(i % pods), kube::PatchType::kMerge,
                        {{"metadata", {{"labels", {{"round", std::to_string(i)}}}}}}).status();
  });
  while (updates < patches && Seconds(patch_start) < 300) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  double patch_s = Seconds(patch_start);
  runner.request_stop();

  const double per_pod_rss = (rss_after - rss_before) * 1024 * 1024 / std::max<size_t>(1, cached);
  const double per_pod_json = static_cast<double>(json_bytes) / std::max<size_t>(1, cached);
  json out = {
      {"benchmark", "informer"},
      {"pods", pods},
      {"seed", {{"seconds", std::round(seed_s * 100) / 100}, {"creates_per_s", std::round(pods / seed_s)}}},
      {"initial_sync", {{"seconds", std::round(sync_s * 1000) / 1000}, {"pods_cached", cached},
                        {"rss_mib_before", std::round(rss_before)}, {"rss_mib_after", std::round(rss_after)},
                        {"rss_bytes_per_pod", std::round(per_pod_rss)},
                        {"json_bytes_per_pod", std::round(per_pod_json)},
                        {"rss_bytes_per_pod_beyond_json", std::round(per_pod_rss - per_pod_json)}}},
      {"watch_events", {{"patches", patches}, {"seen", updates.load()},
                        {"events_per_s", std::round(updates.load() / patch_s)}}},
      {"failed_requests", failures},
  };
  std::cout << out.dump() << std::endl;
  return failures == 0 && updates >= patches && cached == static_cast<size_t>(pods) ? 0 : 1;
}

}  // namespace
}  // namespace gpufleet::bench

int main(int argc, char** argv) {
  CLI::App app{"informer benchmark (run through bench/run informer)"};
  std::string kubeconfig;
  int pods = 100000, patches = 20000, clients = 16;
  app.add_option("--kubeconfig", kubeconfig)->required()->check(CLI::ExistingFile);
  app.add_option("--pods", pods);
  app.add_option("--patches", patches);
  app.add_option("--clients", clients);
  CLI11_PARSE(app, argc, argv);
  return gpufleet::bench::Run(kubeconfig, pods, patches, clients);
}
