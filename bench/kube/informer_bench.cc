// `bench/run informer`: an informer's initial sync of N pods and its event throughput, against
// a running `gpufleet apiserver` (bench/run starts one). Prints one JSON object on its last line.
//
// 1. 16 clients create N pods through the kube Client (the seeding is timed too).
// 2. Two informers on the pods sync from scratch, one after the other, side by side: the typed
//    PodInformer (compact views, what gpufleet's controllers use) and the JSON Informer
//    (nlohmann::json documents, the baseline: what a cache of unstructured objects costs).
//    For each: time to HasSynced, RSS of this process before and after (bytes per cached pod,
//    next to the pod's JSON size: issue 4's target is <= 1 KiB of RSS per pod beyond its JSON).
// 3. 16 clients merge-patch M pods; time until the typed informer's update handler saw all M.
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
#include "kube/types/informers.h"
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

struct SyncFigures {
  double seconds = 0;
  size_t cached = 0;
  double rss_before = 0, rss_after = 0;
  std::jthread runner;

  json ToJson(double per_pod_json) const {
    const double per_pod_rss = (rss_after - rss_before) * 1024 * 1024 / std::max<size_t>(1, cached);
    return {{"seconds", std::round(seconds * 1000) / 1000}, {"pods_cached", cached},
            {"rss_mib_before", std::round(rss_before)}, {"rss_mib_after", std::round(rss_after)},
            {"rss_bytes_per_pod", std::round(per_pod_rss)},
            {"rss_bytes_per_pod_beyond_json", std::round(per_pod_rss - per_pod_json)}};
  }
};

// Runs `informer` until synced and measures; the informer keeps running (figures.runner).
template <typename T>
SyncFigures Sync(kube::BasicInformer<T>& informer) {
  SyncFigures f;
  malloc_trim(0);
  f.rss_before = RssMiB();
  auto start = Clock::now();
  f.runner = std::jthread([&informer](std::stop_token stop) { informer.Run(stop); });
  informer.WaitForSync(std::chrono::minutes(10));
  f.seconds = Seconds(start);
  malloc_trim(0);
  f.rss_after = RssMiB();
  f.cached = informer.Size();
  return f;
}

// A throwaway informer of T on the bench pods: synced, measured, inspected, then freed.
template <typename T, typename Inspect>
SyncFigures Sync(kube::Client& client, Inspect inspect) {
  kube::BasicInformer<T> informer(client, {.gvr = kPods, .ns = "bench"}, core::RealClock());
  SyncFigures f = Sync(informer);
  f.runner.request_stop();
  f.runner.join();
  inspect(informer);
  return f;
}

int Run(const std::string& kubeconfig, int pods, int patches, int clients, const std::string& shape) {
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
    return client.Create(kPods, "bench", json::parse(shape == "running" ? RunningPodJson(name(i)) : PodJson(name(i)))).status();
  });
  double seed_s = Seconds(seed_start);

  // The JSON baseline first: its objects also give the pods' JSON size.
  size_t json_bytes = 0;
  SyncFigures baseline = Sync<json>(client, [&](const kube::Informer& informer) {
    for (const auto& obj : informer.List()) json_bytes += obj->dump().size();
  });
  const double per_pod_json = static_cast<double>(json_bytes) / std::max<size_t>(1, baseline.cached);

  kube::PodInformer informer(client, {.ns = "bench"}, core::RealClock());
  std::atomic<int> updates{0};
  informer.AddEventHandler({.on_update = [&](const kube::PodInformer::Ptr&, const kube::PodInformer::Ptr&) { ++updates; }});
  SyncFigures typed = Sync(informer);
  const size_t cached = typed.cached;

  auto patch_start = Clock::now();
  failures += Parallel(patches, clients, [&](int i) {
    return client.Patch(kPods, "bench", name(i % pods), kube::PatchType::kMerge,
                        {{"metadata", {{"labels", {{"round", std::to_string(i)}}}}}}).status();
  });
  while (updates < patches && Seconds(patch_start) < 300) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  double patch_s = Seconds(patch_start);
  typed.runner.request_stop();
  json out = {
      {"benchmark", "informer"},
      {"pods", pods},
      {"pod_shape", shape},
      {"seed", {{"seconds", std::round(seed_s * 100) / 100}, {"creates_per_s", std::round(pods / seed_s)}}},
      {"json_bytes_per_pod", std::round(per_pod_json)},
      {"initial_sync", typed.ToJson(per_pod_json)},
      {"initial_sync_json_baseline", baseline.ToJson(per_pod_json)},
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
  std::string shape = "pending";
  app.add_option("--kubeconfig", kubeconfig)->required()->check(CLI::ExistingFile);
  app.add_option("--pods", pods);
  app.add_option("--patches", patches);
  app.add_option("--clients", clients);
  app.add_option("--pod-shape", shape, "pending: as a Deployment creates it (1.3 KB of JSON); running: with the "
                 "kubelet's status and managedFields (4.4 KB)")->check(CLI::IsMember({"pending", "running"}));
  CLI11_PARSE(app, argc, argv);
  return gpufleet::bench::Run(kubeconfig, pods, patches, clients, shape);
}
