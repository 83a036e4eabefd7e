// Load generator for `bench/run apiserver`: drives a running `gpufleet apiserver` over HTTPS the
// way controllers do (keep-alive connections, JSON) and prints one JSON object on its last line.
//
// Phases: 16 clients create N pods; 16 clients merge-patch each pod; full and paginated lists
// of the N pods; 100 watchers on configmaps while one writer creates configmaps stamped with the
// send time, so each watcher measures delivery latency from the write's send to its own receipt.
// Server RSS comes from /proc/PID/status. Any failed request fails the run: figures from a run
// with errors are not figures.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include <unistd.h>
#include <vector>

#include <CLI/CLI.hpp>
#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include "bench_http.h"
#include "common/pod_fixture.h"

namespace gpufleet::bench {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Options {
  Endpoint endpoint;
  int server_pid = 0;
  int pods = 10000;
  int clients = 16;
  int watchers = 100;
  int watch_events = 500;
  std::string commit = "unknown";
};

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

json Summary(const std::vector<double>& ms) {
  auto r = [](double x) { return std::round(x * 1000) / 1000; };
  return {{"p50_ms", r(Percentile(ms, 0.50))}, {"p99_ms", r(Percentile(ms, 0.99))},
          {"max_ms", r(Percentile(ms, 1.0))}, {"samples", ms.size()}};
}

// Resident set of the server in MiB: current and peak (VmRSS, VmHWM).
json ServerRss(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  json out = json::object();
  std::string line;
  while (std::getline(in, line)) {
    for (const char* key : {"VmRSS", "VmHWM"}) {
      if (line.rfind(std::string(key) + ":", 0) == 0) {
        out[key == std::string("VmRSS") ? "rss_mib" : "peak_rss_mib"] =
            std::round(std::stod(line.substr(line.find(':') + 1)) / 1024 * 10) / 10;
      }
    }
  }
  return out;
}

// CPU seconds the server has used (user + system), from /proc/PID/stat: on a shared machine the
// server's CPU per operation is steadier than wall-clock throughput.
double ServerCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));  // after "pid (comm) "
  std::string field;
  double ticks = 0;
  for (int i = 3; fields >> field && i <= 15; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Runs fn(client, i) for i in [0, n) over `clients` threads, each with its own connection.
// Returns the per-operation latencies in ms and the wall time in seconds.
template <typename Fn>
std::pair<std::vector<double>, double> RunParallel(const Options& o, int n, Fn fn) {
  std::vector<std::vector<double>> per_thread(o.clients);
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < o.clients; ++t) {
    threads.emplace_back([&, t] {
      BenchHttp http(o.endpoint);
      for (int i = t; i < n; i += o.clients) {
        auto s = Clock::now();
        fn(http, i);
        per_thread[t].push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
      }
    });
  }
  for (auto& th : threads) th.join();
  double wall = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : per_thread) all.insert(all.end(), v.begin(), v.end());
  return {all, wall};
}

class Failures {
 public:
  void Check(const Reply& r, long want, const std::string& what) {
    if (r.status == want) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (count_++ < 5) {
      std::cerr << "bench: " << what << ": HTTP " << r.status << " " << r.error << " "
                << r.body.substr(0, 300) << "\n";
    }
  }
  void Fail(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (count_++ < 5) std::cerr << "bench: " << what << "\n";
  }
  int count() const { return count_; }

 private:
  std::mutex mu_;
  std::atomic<int> count_{0};
};

json RunWatchPhase(const Options& o, Failures& failures) {
  BenchHttp writer(o.endpoint);
  Reply head = writer.Send("GET", "/api/v1/namespaces/bench/configmaps?limit=1");
  failures.Check(head, 200, "list configmaps");
  std::string rv = json::parse(head.body, nullptr, false).value("/metadata/resourceVersion"_json_pointer, "0");

  std::atomic<int> connected{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<double> latencies;
  const std::string marker = "\"bench-sent-ns\":\"";
  std::vector<std::thread> watchers;
  for (int w = 0; w < o.watchers; ++w) {
    watchers.emplace_back([&] {
      BenchHttp http(o.endpoint);
      std::string buffer;
      std::vector<double> mine;
      bool seen_warmup = false;
      int events = 0;
      http.Stream("/api/v1/namespaces/bench/configmaps?watch=1&resourceVersion=" + rv +
                      "&timeoutSeconds=300",
                  [&](std::string_view chunk) {
                    int64_t now = NowNs();
                    buffer.append(chunk);
                    size_t nl;
                    while ((nl = buffer.find('\n')) != std::string::npos) {
                      size_t at = buffer.find(marker);
                      if (at != std::string::npos && at < nl) {
                        int64_t sent = std::stoll(buffer.substr(at + marker.size(), 20));
                        if (sent == 0) {
                          if (!seen_warmup) connected.fetch_add(1);
                          seen_warmup = true;
                        } else {
                          mine.push_back(static_cast<double>(now - sent) / 1e6);
                          ++events;
                        }
                      }
                      buffer.erase(0, nl + 1);
                    }
                    return events < o.watch_events && !stop.load();
                  });
      std::lock_guard<std::mutex> lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  auto configmap = [](const std::string& name, int64_t sent) {
    return json{{"apiVersion", "v1"}, {"kind", "ConfigMap"},
                {"metadata", {{"name", name}, {"annotations", {{"bench-sent-ns", std::to_string(sent)}}}}},
                {"data", {{"model", "llama-3-8b"}, {"replicas", "4"}}}}.dump();
  };
  // Warm-up: every watcher must be streaming before timed events start, or late connectors
  // would replay timed events from the window and report their own connect time.
  failures.Check(writer.Send("POST", "/api/v1/namespaces/bench/configmaps", configmap("warmup", 0)),
                 201, "create warm-up configmap");
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (connected.load() < o.watchers && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  int connected_watchers = connected.load();
  std::vector<double> write_ms;
  auto start = Clock::now();
  for (int i = 0; i < o.watch_events; ++i) {
    auto s = Clock::now();
    Reply r = writer.Send("POST", "/api/v1/namespaces/bench/configmaps",
                          configmap("event-" + std::to_string(i), NowNs()));
    failures.Check(r, 201, "create configmap");
    write_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
  }
  double wall = std::chrono::duration<double>(Clock::now() - start).count();
  auto drain = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < drain) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (latencies.size() >= static_cast<size_t>(o.watchers) * o.watch_events) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  // Watchers blocked in a read wake with the next event; one more write releases them all.
  writer.Send("POST", "/api/v1/namespaces/bench/configmaps", configmap("release", 0));
  for (auto& t : watchers) t.join();
  size_t expected = static_cast<size_t>(o.watchers) * o.watch_events;
  if (latencies.size() != expected) {
    failures.Fail("watchers received " + std::to_string(latencies.size()) + " of " +
                  std::to_string(expected) + " events");
  }
  json out = Summary(latencies);
  out["watchers"] = o.watchers;
  out["connected_before_timing"] = connected_watchers;
  out["events_written"] = o.watch_events;
  out["events_delivered"] = latencies.size();
  out["events_expected"] = expected;
  out["writer_creates_per_s"] = std::round(o.watch_events / wall);
  out["writer_latency"] = Summary(write_ms);
  return out;
}

json MachineFacts() {
  json m = {{"cpus", std::thread::hardware_concurrency()}};
  std::ifstream cpu("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpu, line)) {
    if (line.rfind("model name", 0) == 0) {
      m["cpu"] = line.substr(line.find(':') + 2);
      break;
    }
  }
  std::ifstream mem("/proc/meminfo");
  while (std::getline(mem, line)) {
    if (line.rfind("MemTotal:", 0) == 0) {
      m["mem_gib"] = std::round(std::stod(line.substr(9)) / 1024 / 1024 * 10) / 10;
    }
  }
  return m;
}

int Run(const Options& o) {
  Failures failures;
  json out = {{"benchmark", "apiserver"}, {"commit", o.commit}, {"machine", MachineFacts()},
              {"pods", o.pods}, {"clients", o.clients}};
  {
    BenchHttp http(o.endpoint);
    failures.Check(http.Send("POST", "/api/v1/namespaces",
                             R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}})"),
                   201, "create namespace");
  }
  auto name = [](int i) { return "llm-server-7d9f8c6b5d-" + std::to_string(100000 + i); };
  double cpu = ServerCpuSeconds(o.server_pid);
  auto cpu_us_per_op = [&](int ops) {
    double now = ServerCpuSeconds(o.server_pid), used = now - cpu;
    cpu = now;
    return std::round(used * 1e6 / ops);
  };
  auto [create_ms, create_wall] = RunParallel(o, o.pods, [&](BenchHttp& http, int i) {
    failures.Check(http.Send("POST", "/api/v1/namespaces/bench/pods", PodJson(name(i))), 201,
                   "create pod");
  });
  out["creates"] = Summary(create_ms);
  out["creates"]["per_s"] = std::round(o.pods / create_wall);
  out["creates"]["server_cpu_us_per_op"] = cpu_us_per_op(o.pods);
  out["server_after_creates"] = ServerRss(o.server_pid);

  auto [patch_ms, patch_wall] = RunParallel(o, o.pods, [&](BenchHttp& http, int i) {
    failures.Check(http.Send("PATCH", "/api/v1/namespaces/bench/pods/" + name(i),
                             R"({"metadata":{"labels":{"bench-round":"1"}}})",
                             "application/merge-patch+json"),
                   200, "merge-patch pod");
  });
  out["patches"] = Summary(patch_ms);
  out["patches"]["per_s"] = std::round(o.pods / patch_wall);
  out["patches"]["server_cpu_us_per_op"] = cpu_us_per_op(o.pods);

  BenchHttp http(o.endpoint);
  std::vector<double> list_ms;
  size_t list_bytes = 0;
  for (int i = 0; i < 5; ++i) {
    auto s = Clock::now();
    Reply r = http.Send("GET", "/api/v1/namespaces/bench/pods");
    list_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
    failures.Check(r, 200, "list pods");
    list_bytes = r.body.size();
    if (i == 0) {
      json list = json::parse(r.body, nullptr, false);
      size_t items = list.is_object() ? list.value("items", json::array()).size() : 0;
      if (items != static_cast<size_t>(o.pods)) {
        failures.Fail("list pods returned " + std::to_string(items) + " items");
      }
    }
  }
  out["list_all"] = Summary(list_ms);
  out["list_all"]["bytes"] = list_bytes;
  out["list_all"]["server_cpu_us_per_op"] = cpu_us_per_op(5);
  // A paginated walk (limit=500 + continue), as informers list large collections.
  auto s = Clock::now();
  std::string cont;
  int pages = 0;
  do {
    Reply r = http.Send("GET", "/api/v1/namespaces/bench/pods?limit=500" +
                                   (cont.empty() ? "" : "&continue=" + cont));
    failures.Check(r, 200, "list pods page");
    // The token is all the walk needs; a client-side parse would be timed as server latency.
    static const std::string kContinue = "\"continue\":\"";
    size_t at = r.body.rfind(kContinue);
    cont = at == std::string::npos ? "" : r.body.substr(at + kContinue.size(),
                                                          r.body.find('"', at + kContinue.size()) - at - kContinue.size());
    ++pages;
  } while (!cont.empty() && pages < 1000);
  out["list_paginated_500"] = {
      {"ms", std::round(std::chrono::duration<double, std::milli>(Clock::now() - s).count())},
      {"pages", pages}};
  out["server_after_lists"] = ServerRss(o.server_pid);

  cpu_us_per_op(1);
  out["watch"] = RunWatchPhase(o, failures);
  out["watch"]["server_cpu_us_per_event_delivered"] =
      std::round(cpu_us_per_op(1) / std::max<double>(1, out["watch"]["events_delivered"].get<double>()));
  out["server_end"] = ServerRss(o.server_pid);
  out["failed_requests"] = failures.count();
  std::cout << out.dump() << std::endl;
  return failures.count() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace gpufleet::bench

int main(int argc, char** argv) {
  gpufleet::bench::Options o;
  CLI::App app{"gpufleet API server load generator (run through bench/run apiserver)"};
  app.add_option("--url", o.endpoint.url)->required();
  std::string token_file;
  app.add_option("--token-file", token_file, "file whose first line is the bearer token")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--cacert", o.endpoint.cacert)->required()->check(CLI::ExistingFile);
  app.add_option("--server-pid", o.server_pid)->required();
  app.add_option("--pods", o.pods);
  app.add_option("--clients", o.clients);
  app.add_option("--watchers", o.watchers);
  app.add_option("--watch-events", o.watch_events);
  app.add_option("--commit", o.commit);
  CLI11_PARSE(app, argc, argv);
  std::ifstream token_in(token_file);
  std::getline(token_in, o.endpoint.token);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = gpufleet::bench::Run(o);
  curl_global_cleanup();
  return rc;
}
