// The agent's hot paths, as the kubelet drives them: GetPreferredAllocation on 8- and 16-GPU
// boards (target: under 1 ms per call) next to the same call rebuilding the link information
// first, which is what NVIDIA's plugin does on every call (#460); Allocate; and the resident
// memory of a running `gpufleet agent` serving an 8-GPU mock node (reported in the context as
// gpufleet_agent_rss_kb and gpufleet_agent_rss_anon_kb when --gpufleet names the binary).
#include <benchmark/benchmark.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/allocate.h"
#include "agent/preferred.h"
#include "agent/resources.h"
#include "gpu/mock_backend.h"

extern char** environ;

namespace {

using namespace gpufleet;

std::unique_ptr<gpu::MockGpuBackend> Machine(const std::string& spec) {
  auto catalog = gpu::LoadGpuCatalog(std::string(GPUFLEET_DATA_DIR) + "/gpu-models.json");
  auto parsed = spec.starts_with("{") ? gpu::ParseMockMachine(*catalog, spec) : gpu::ResolveMockMachine(*catalog, spec);
  if (!parsed.ok()) std::abort();
  return std::make_unique<gpu::MockGpuBackend>(*parsed, "bench");
}

std::vector<gpu::DeviceInfo> Gpus(gpu::GpuBackend& b) {
  std::vector<gpu::DeviceInfo> out;
  for (unsigned i = 0; i < *b.DeviceCount(); ++i) out.push_back(*b.Device(i));
  return out;
}

const char* kSixteen = R"({"gpus":[{"model":"H100-SXM5-80GB","count":16}],"numaNodes":2})";

void BM_PreferredAllocation(benchmark::State& state, const char* machine) {
  auto m = Machine(machine);
  auto gpus = Gpus(*m);
  agent::LinkMatrix links(gpus, [&](unsigned a, unsigned b) { return m->CommonAncestor(a, b); });
  auto resource = (*agent::BuildResources({}, gpus, {}))[0];
  std::vector<std::string> available;
  for (const auto& d : resource.devices) available.push_back(d.id);
  available.erase(available.begin());  // one GPU busy: the search has a real choice to make
  const size_t size = static_cast<size_t>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(agent::PreferredAllocation(resource, links, available, {}, size));
}
BENCHMARK_CAPTURE(BM_PreferredAllocation, p5_48xlarge, "p5.48xlarge")->Arg(1)->Arg(2)->Arg(4)->Arg(7);
BENCHMARK_CAPTURE(BM_PreferredAllocation, sixteen_gpus, kSixteen)->Arg(1)->Arg(4)->Arg(8);

// Baseline: the link information read from the GPUs again on every call (NVIDIA's plugin), here
// from the mock, which costs far less than NVML's per-link calls on a real node.
void BM_PreferredAllocationRebuildingLinks(benchmark::State& state) {
  auto m = Machine("p5.48xlarge");
  auto resource = (*agent::BuildResources({}, Gpus(*m), {}))[0];
  std::vector<std::string> available;
  for (const auto& d : resource.devices) available.push_back(d.id);
  available.erase(available.begin());
  for (auto _ : state) {
    auto gpus = Gpus(*m);
    agent::LinkMatrix links(gpus, [&](unsigned a, unsigned b) { return m->CommonAncestor(a, b); });
    benchmark::DoNotOptimize(agent::PreferredAllocation(resource, links, available, {}, static_cast<size_t>(state.range(0))));
  }
}
BENCHMARK(BM_PreferredAllocationRebuildingLinks)->Arg(4);

void BM_Allocate(benchmark::State& state) {
  auto m = Machine("p5.48xlarge");
  auto resource = (*agent::BuildResources({}, Gpus(*m), {}))[0];
  agent::AgentConfig config;
  config.device_list_strategy = {"envvar", "cdi-cri"};
  std::vector<std::string> ids = {resource.devices[0].id, resource.devices[1].id, resource.devices[2].id,
                                  resource.devices[3].id};
  for (auto _ : state) benchmark::DoNotOptimize(agent::AllocateContainer(config, resource, ids, {}));
}
BENCHMARK(BM_Allocate);

// RSS of `gpufleet agent` serving an 8-GPU mock node (no kubelet: it serves and retries):
// {VmRSS, RssAnon} in kB. Most of VmRSS is shared library text (gRPC, protobuf, OpenSSL) mapped
// from disk; RssAnon is what the agent itself allocated.
std::pair<long, long> AgentRssKb(const std::string& binary) {
  const std::string dir = "/tmp/gpufleet-agent-bench-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::vector<std::string> args = {binary, "--log-level", "warn", "agent", "--gpu-backend", "mock",
                                    "--mock-machine", "p5.48xlarge", "--device-plugin-path", dir, "--no-node-labels"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawn(&pid, binary.c_str(), nullptr, nullptr, argv.data(), environ) != 0) return {-1, -1};
  std::this_thread::sleep_for(std::chrono::seconds(3));
  long rss = -1, anon = -1;
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.starts_with("VmRSS:")) rss = std::stol(line.substr(6));
    if (line.starts_with("RssAnon:")) anon = std::stol(line.substr(8));
  }
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
  std::filesystem::remove_all(dir);
  return {rss, anon};
}

}  // namespace

int main(int argc, char** argv) {
  std::string binary;
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.starts_with("--gpufleet=")) {
      binary = a.substr(11);
    } else {
      rest.push_back(argv[i]);
    }
  }
  int n = static_cast<int>(rest.size());
  benchmark::Initialize(&n, rest.data());
  if (!binary.empty()) {
    auto [rss, anon] = AgentRssKb(binary);
    benchmark::AddCustomContext("gpufleet_agent_rss_kb", std::to_string(rss));
    benchmark::AddCustomContext("gpufleet_agent_rss_anon_kb", std::to_string(anon));
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
