// bench/run provisioner: the provisioner against the embedded API server and the EC2 emulator
// (both in this process, on loopback, TLS and SigV4 as in production).
//   latency_ms_*        pending pod -> CreateFleet returned (the cloud provider's Create), one pod
//                       at a time, with the batch window at 0 and at Karpenter's default (1 s idle,
//                       10 s max): the window is the baseline's cost, measured in the same run
//   decision_ms_*       one 100-pod batch (50 GPU + 50 CPU pods): caches, instance types, solve;
//                       no API writes (target <= 5 ms)
//   burst_*             1,000 pods (200 GPU, 800 CPU) created at once against `gpufleet controller`
//                       (the real binary, default windows): pods/s until every pod is on a launched
//                       NodeClaim, NodeClaims created, the controller's peak RSS
//   scale_rss_mb        the controller binary's RSS once its caches hold 10k nodes and 100k pods
//                       (target <= 150 MB)
// Prints one JSON object on the last line.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "apiserver/server.h"
#include "common/bench_util.h"
#include "cloud/aws/api_client.h"
#include "cloud/aws/credentials.h"
#include "cloud/aws/http_client.h"
#include "cloud/aws/provider.h"
#include "cloud/ec2emu/emulator.h"
#include "core/log.h"
#include "core/yaml.h"
#include "kube/kubeconfig.h"
#include "kube/transport.h"
#include "kube/types/typed_client.h"
#include "provisioner/controller.h"
#include "provisioner/status_controllers.h"

using namespace gpufleet;
using SteadyClock = std::chrono::steady_clock;

namespace {

using bench::Die;
using bench::Ms;
using bench::Must;
using bench::Percentile;

// The CloudProvider the controller gets, noting when each Create returns (CreateFleet done).
class TimingProvider final : public cloud::CloudProvider {
 public:
  explicit TimingProvider(cloud::CloudProvider& inner) : inner_(inner) {}
  Result<cloud::Machine> Create(const cloud::NodeClaim& claim) override {
    auto m = inner_.Create(claim);
    std::lock_guard lock(mu_);
    // Only a NodeClaim's first launch counts: a reconcile on a stale cache calls Create again and
    // gets the same instance back (idempotent), which is not a new CreateFleet.
    if (m.ok() && seen_.insert(claim.name).second) launched_.push_back(SteadyClock::now());
    return m;
  }
  Status Delete(const std::string& id) override { return inner_.Delete(id); }
  Result<cloud::Machine> Get(const std::string& id) override { return inner_.Get(id); }
  Result<std::vector<cloud::Machine>> List() override { return inner_.List(); }
  Result<std::vector<scheduling::InstanceType>> GetInstanceTypes(const cloud::NodeClassRef& r,
                                                                 const core::Requirements* only) override {
    return inner_.GetInstanceTypes(r, only);
  }
  Result<std::optional<std::string>> IsDrifted(const cloud::Machine& m, const cloud::NodeClassRef& r) override {
    return inner_.IsDrifted(m, r);
  }
  std::vector<cloud::RepairPolicy> RepairPolicies() const override { return inner_.RepairPolicies(); }
  std::string_view Name() const override { return inner_.Name(); }
  size_t Launches() {
    std::lock_guard lock(mu_);
    return launched_.size();
  }
  SteadyClock::time_point LaunchAt(size_t i) {
    std::lock_guard lock(mu_);
    return launched_[i];
  }

 private:
  cloud::CloudProvider& inner_;
  std::mutex mu_;
  std::vector<SteadyClock::time_point> launched_;
  std::set<std::string> seen_;
};

struct Env {
  std::unique_ptr<bench::ScratchDir> scratch;  // first: removed after the servers stopped
  std::string dir, data;
  std::unique_ptr<apiserver::ApiServer> server;
  std::unique_ptr<kube::Transport> transport;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<cloud::ec2emu::Emulator> emulator;
  std::unique_ptr<cloud::aws::HttpClient> http;
  std::unique_ptr<cloud::aws::CredentialsProvider> credentials;
  std::unique_ptr<cloud::aws::ApiClient> ec2, ssm;
};

void Apply(kube::Client& client, const std::string& source_dir, const std::string& relative) {
  std::ifstream in(source_dir + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& doc : Must(core::YamlToJson(text.str()), relative)) {
    std::string kind = doc.value("kind", "");
    kube::Gvr gvr = kind == "CustomResourceDefinition"
                        ? kube::Gvr{"apiextensions.k8s.io", "v1", "customresourcedefinitions", false}
                    : kind == "NodePool" ? kube::NodePool::Resource()
                                         : kube::EC2NodeClass::Resource();
    Must(client.Create(gvr, "", doc), "applying " + relative);
  }
}

// A fresh API server and emulator with the CRDs, the seed's EC2NodeClass, a GPU NodePool
// (on-demand g6e/g5 with the seed's taint and label) and a CPU NodePool (c/m families).
Env StartEnv(const std::string& source_dir, const std::string& data) {
  Env e;
  e.scratch = std::make_unique<bench::ScratchDir>("gpufleet-provisioner-bench");
  e.dir = e.scratch->path();
  e.data = data;
  apiserver::ApiServer::Options so;
  so.data_dir = e.dir + "/api";
  so.listen = "127.0.0.1:0";
  so.durable = false;
  e.server = Must(apiserver::ApiServer::Start(so, core::RealClock()), "api server");
  auto config = Must(kube::LoadKubeconfig({.paths = {e.server->kubeconfig_path()}}), "kubeconfig");
  kube::TransportOptions to;
  to.qps = 5000;
  to.burst = 10000;
  e.transport = Must(kube::Transport::Create(config, to, core::RealClock()), "transport");
  e.client = std::make_unique<kube::Client>(*e.transport);
  cloud::ec2emu::EmulatorOptions eo;
  eo.data_dir = e.dir + "/ec2";
  eo.instance_data = data;
  eo.service.boot_delay = std::chrono::seconds(1);
  e.emulator = Must(cloud::ec2emu::Emulator::Start(eo), "emulator");
  e.http = cloud::aws::NewCurlHttpClient();
  e.credentials = cloud::aws::NewStaticCredentials({.access_key_id = e.emulator->access_key_id(),
                                                    .secret_access_key = e.emulator->secret_access_key(),
                                                    .source = "static"});
  auto make = [&](const std::string& service) {
    return std::make_unique<cloud::aws::ApiClient>(cloud::aws::ApiClientOptions{
        .service = service, .region = "us-west-2", .endpoint = e.emulator->endpoint(),
        .credentials = e.credentials.get(), .http = e.http.get(), .clock = &core::RealClock()});
  };
  e.ec2 = make("ec2");
  e.ssm = make("ssm");
  for (const char* crd : {"deploy/crds/karpenter.sh_nodepools.yaml", "deploy/crds/karpenter.sh_nodeclaims.yaml",
                          "deploy/crds/karpenter.k8s.aws_ec2nodeclasses.yaml", "deploy/examples/seed/ec2nodeclass.yaml"}) {
    Apply(*e.client, source_dir, crd);
  }
  auto pool = [&](const std::string& name, nlohmann::json requirements, nlohmann::json labels, nlohmann::json taints) {
    nlohmann::json p = {{"apiVersion", "karpenter.sh/v1"}, {"kind", "NodePool"}, {"metadata", {{"name", name}}},
                        {"spec", {{"template", {{"metadata", {{"labels", labels}}},
                                                {"spec", {{"nodeClassRef", {{"group", "karpenter.k8s.aws"},
                                                                            {"kind", "EC2NodeClass"}, {"name", "gpu"}}},
                                                          {"requirements", requirements}, {"taints", taints}}}}}}}};
    Must(e.client->Create(kube::NodePool::Resource(), "", p), "nodepool " + name);
  };
  pool("gpu",
       {{{"key", "karpenter.k8s.aws/instance-family"}, {"operator", "In"}, {"values", {"g6e", "g5"}}},
        {{"key", "karpenter.sh/capacity-type"}, {"operator", "In"}, {"values", {"on-demand"}}}},
       {{"nvidia.com/gpu.present", "true"}}, {{{"key", "nvidia.com/gpu"}, {"effect", "NoSchedule"}}});
  pool("cpu",
       {{{"key", "karpenter.k8s.aws/instance-category"}, {"operator", "In"}, {"values", {"c", "m"}}},
        {{"key", "karpenter.sh/capacity-type"}, {"operator", "In"}, {"values", {"on-demand"}}}},
       nlohmann::json::object(), nlohmann::json::array());
  return e;
}

nlohmann::json Pod(const std::string& ns, const std::string& name, bool gpu) {
  nlohmann::json resources = gpu ? nlohmann::json{{"limits", {{"nvidia.com/gpu", 1}}}}
                                 : nlohmann::json{{"requests", {{"cpu", "1"}, {"memory", "2Gi"}}}};
  nlohmann::json container = {{"name", "main"}, {"image", "registry.local/llm:1"}, {"resources", resources}};
  nlohmann::json spec = {{"containers", nlohmann::json::array({container})}};
  if (gpu) {
    spec["tolerations"] = {{{"key", "nvidia.com/gpu"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}};
    spec["nodeSelector"] = {{"nvidia.com/gpu.present", "true"}};
  }
  return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", name}, {"namespace", ns}}}, {"spec", spec}};
}

void CreateNamespace(kube::Client& client, const std::string& ns) {
  Must(client.Create({"", "v1", "namespaces", false}, "",
                     {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}}),
       "namespace " + ns);
}

// Creates pods from `threads` threads.
void CreatePods(kube::Client& client, const std::vector<nlohmann::json>& pods, int threads = 8) {
  std::atomic<size_t> next{0};
  std::vector<std::jthread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (size_t i = next++; i < pods.size(); i = next++) {
        const auto& p = pods[i];
        Must(client.Create(kube::Pod::Resource(), p["metadata"]["namespace"].get<std::string>(), p), "pod");
      }
    });
  }
}

cloud::aws::AwsProviderOptions ProviderOptions(Env& e, std::function<Result<kube::EC2NodeClass>(std::string_view)> nc) {
  return cloud::aws::AwsProviderOptions{
      .cluster = {.name = "gpufleet", .endpoint = e.server->url()},
      .region = "us-west-2",
      .node_classes = std::move(nc),
      .on_demand_prices = Must(cloud::aws::LoadOnDemandPrices(e.data, "us-west-2"), "prices")};
}

// Pending pod -> CreateFleet, `n` pods one at a time, with the given batch window.
std::vector<double> MeasureLatency(Env& e, std::chrono::milliseconds idle, std::chrono::milliseconds max, int n,
                                   const std::string& ns) {
  provisioner::Controller* controller = nullptr;
  cloud::aws::AwsCloudProvider aws(*e.ec2, *e.ssm, ProviderOptions(e, [&](std::string_view name) -> Result<kube::EC2NodeClass> {
    auto nc = controller->cluster().nodeclasses.Get(std::string(name));
    if (!nc) return NotFoundError("no EC2NodeClass");
    return *nc;
  }));
  TimingProvider timing(aws);
  provisioner::ControllerOptions o;
  o.batch_idle = idle;
  o.batch_max = max;
  provisioner::Controller c(*e.client, timing, [&](const kube::EC2NodeClassSpec& s) { return aws.Resolve(s); },
                            core::RealClock(), o);
  controller = &c;
  std::jthread run([&](std::stop_token stop) { c.Run(stop); });
  while (!c.Ready()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // Warm: the NodeClasses resolved, the instance-type catalog fetched (first pod not timed).
  auto wait_ready = [&] {
    for (int i = 0; i < 2000; ++i) {
      auto nc = c.cluster().nodeclasses.Get("gpu");
      auto pool = c.cluster().nodepools.Get("gpu");
      if (nc && nc->Ready() && pool && pool->Ready()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    Die("NodeClass never ready");
  };
  wait_ready();
  CreateNamespace(*e.client, ns);
  std::vector<double> out;
  for (int i = 0; i <= n; ++i) {
    size_t before = timing.Launches();
    auto t0 = SteadyClock::now();
    Must(e.client->Create(kube::Pod::Resource(), ns, Pod(ns, "p" + std::to_string(i), true)), "pod");
    while (timing.Launches() == before) {
      if (SteadyClock::now() - t0 > std::chrono::seconds(60)) Die("no launch for pod " + std::to_string(i));
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    if (i > 0) out.push_back(Ms(timing.LaunchAt(before) - t0));
  }
  return out;
}

// One 100-pod batch's decision, `rounds` times. Each round starts from the same state: the
// previous round's pods and NodeClaims are deleted first, so every round decides exactly 100
// pending pods (the target's figure), not the growing backlog of a cluster whose nodes never come.
std::vector<double> MeasureDecision(Env& e, int rounds) {
  provisioner::Metrics metrics;
  provisioner::DeclareControllerMetrics(metrics);
  provisioner::Cluster* cluster_ptr = nullptr;
  cloud::aws::AwsCloudProvider aws(*e.ec2, *e.ssm, ProviderOptions(e, [&](std::string_view name) -> Result<kube::EC2NodeClass> {
    auto nc = cluster_ptr->nodeclasses.Get(std::string(name));
    if (!nc) return NotFoundError("no EC2NodeClass");
    return *nc;
  }));
  provisioner::Cluster cluster(*e.client, core::RealClock());
  cluster_ptr = &cluster;
  std::stop_source stop;
  cluster.Start(stop.get_token());
  if (!cluster.WaitForSync(std::chrono::seconds(30))) Die("caches never synced");
  // The NodeClass's status (subnets, AMIs, Ready) as the status controller writes it.
  provisioner::NodeClassStatusController status(cluster, [&](const kube::EC2NodeClassSpec& s) { return aws.Resolve(s); },
                                                "gpufleet");
  Must(status.Reconcile("gpu"), "resolving the EC2NodeClass");
  for (int i = 0; i < 2000; ++i) {
    auto nc = cluster.nodeclasses.Get("gpu");
    if (nc && nc->Ready()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  provisioner::Provisioner prov(cluster, aws, metrics, {});
  // Warm the instance-type catalog (the 5-minute cache every batch then reads).
  Must(aws.GetInstanceTypes({.group = "karpenter.k8s.aws", .kind = "EC2NodeClass", .name = "gpu"}), "catalog");
  kube::TypedClient<kube::NodeClaim> claims(*e.client);
  std::vector<double> out;
  for (int r = 0; r < rounds; ++r) {
    std::string ns = "decide-" + std::to_string(r);
    CreateNamespace(*e.client, ns);
    std::vector<nlohmann::json> pods;
    for (int i = 0; i < 100; ++i) pods.push_back(Pod(ns, "p" + std::to_string(i), i % 2 == 0));
    CreatePods(*e.client, pods);
    while (cluster.pods.ByIndex(kube::BasicInformer<kube::Pod>::kByNamespace, ns).size() < 100) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    auto result = Must(prov.Provision(), "provision");
    if (result.pending_pods != 100 || result.nodeclaims_created == 0) {
      Die("decision round " + std::to_string(r) + ": " + std::to_string(result.pending_pods) + " pending, " +
          std::to_string(result.nodeclaims_created) + " NodeClaims (expected 100 pending and new claims)");
    }
    out.push_back(result.decision_seconds * 1000);
    std::cerr << "decision round " << r << ": " << result.pending_pods << " pending, " << result.nodeclaims_created
              << " NodeClaims, decision " << result.decision_seconds * 1000 << " ms\n";
    // Back to the starting state: this round's pods and NodeClaims gone (finalizers dropped: no
    // lifecycle controller runs here), and the caches showing it.
    for (const auto& pod : pods) {
      Must(e.client->Delete(kube::Pod::Resource(), ns, pod["metadata"]["name"].get<std::string>(), {.grace_period_seconds = 0}),
           "pod delete");
    }
    for (const auto& nc : Must(claims.List(""), "nodeclaims").items) {
      Must(e.client->Patch(kube::NodeClaim::Resource(), "", nc.metadata.name, kube::PatchType::kMerge,
                           nlohmann::json{{"metadata", {{"finalizers", nullptr}}}}),
           "nodeclaim finalizer");
      Must(e.client->Delete(kube::NodeClaim::Resource(), "", nc.metadata.name), "nodeclaim delete");
    }
    while (!cluster.nodeclaims.List().empty() ||
           !cluster.pods.ByIndex(kube::BasicInformer<kube::Pod>::kByNamespace, ns).empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  stop.request_stop();
  return out;
}

struct Child {
  pid_t pid = 0;
  double PeakRssMb() const { return Field("VmHWM:"); }
  double RssMb() const { return Field("VmRSS:"); }
  double Field(const std::string& name) const {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.starts_with(name)) return std::stod(line.substr(name.size())) / 1024.0;
    }
    return 0;
  }
  void Stop() {
    if (pid == 0) return;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = 0;
  }
};

Child SpawnController(Env& e, const std::string& binary, const std::string& health) {
  std::vector<std::string> args = {binary, "--log-level", "warn", "controller",
                                   "--kubeconfig", e.server->kubeconfig_path().string(),
                                   "--aws-endpoint", e.emulator->endpoint(), "--region", "us-west-2",
                                   "--leader-elect=false", "--metrics-listen", "", "--health-listen", health,
                                   "--instance-data", e.data};
  std::vector<std::string> env = {"AWS_ACCESS_KEY_ID=" + e.emulator->access_key_id(),
                                  "AWS_SECRET_ACCESS_KEY=" + e.emulator->secret_access_key(),
                                  "AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null",
                                  "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME=" + e.dir};
  // Allocator experiments (LD_PRELOAD=libjemalloc.so.2 bench/run provisioner) reach the child too.
  if (const char* preload = std::getenv("LD_PRELOAD")) env.push_back(std::string("LD_PRELOAD=") + preload);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& v : env) envp.push_back(v.data());
  envp.push_back(nullptr);
  Child c;
  if (posix_spawn(&c.pid, binary.c_str(), nullptr, nullptr, argv.data(), envp.data()) != 0) Die("spawn " + binary);
  return c;
}

bool Healthy(const std::string& url) {
  return std::system(("curl -fsS -o /dev/null " + url + "/readyz 2>/dev/null").c_str()) == 0;
}

// Waits for the child's /readyz; a child that exits or never becomes ready is an error.
void WaitHealthy(const Child& c, const std::string& url) {
  auto deadline = SteadyClock::now() + std::chrono::seconds(120);
  while (!Healthy(url)) {
    int status = 0;
    if (waitpid(c.pid, &status, WNOHANG) == c.pid) Die("gpufleet controller exited (status " + std::to_string(status) + ")");
    if (SteadyClock::now() > deadline) Die("gpufleet controller not ready at " + url + " after 120 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"provisioner benchmark"};
  int latency_pods = 20, default_window_pods = 5, decision_rounds = 10, burst = 1000, nodes = 10000, pods = 100000;
  std::string binary, source_dir = GPUFLEET_SOURCE_DIR, data = std::string(GPUFLEET_DATA_DIR) + "/aws-instance-types.json";
  app.add_option("--latency-pods", latency_pods);
  app.add_option("--default-window-pods", default_window_pods);
  app.add_option("--decision-rounds", decision_rounds);
  app.add_option("--burst", burst);
  app.add_option("--nodes", nodes);
  app.add_option("--pods", pods);
  std::string only;
  app.add_option("--only", only, "run one part: latency, decision, burst or scale");
  app.add_option("--gpufleet", binary, "the gpufleet binary (burst and scale run it as a process)")->required();
  CLI11_PARSE(app, argc, argv);
  core::log::Configure(std::getenv("BENCH_LOG") ? core::log::Level::kInfo : core::log::Level::kWarn, core::log::Format::kConsole);
  nlohmann::json out = {{"benchmark", "provisioner"}};

  auto wanted = [&](const std::string& part) { return only.empty() || only == part; };
  if (wanted("latency")) {
    Env e = StartEnv(source_dir, data);
    auto zero = MeasureLatency(e, std::chrono::milliseconds(0), std::chrono::milliseconds(0), latency_pods, "zero");
    out["latency_ms_window0_p50"] = Percentile(zero, 0.5);
    out["latency_ms_window0_p90"] = Percentile(zero, 0.9);
    auto def = MeasureLatency(e, std::chrono::seconds(1), std::chrono::seconds(10), default_window_pods, "window-default");
    out["latency_ms_default_window_p50"] = Percentile(def, 0.5);
    out["latency_ms_default_window_p90"] = Percentile(def, 0.9);
    std::cerr << "latency: window 0 p50 " << out["latency_ms_window0_p50"] << " ms; default window p50 "
              << out["latency_ms_default_window_p50"] << " ms\n";
  }
  if (wanted("decision")) {
    Env e = StartEnv(source_dir, data);  // no pods or NodeClaims left over from the latency runs
    auto decision = MeasureDecision(e, decision_rounds);
    out["decision_ms_100_pods_p50"] = Percentile(decision, 0.5);
    out["decision_ms_100_pods_max"] = *std::max_element(decision.begin(), decision.end());
  }
  if (wanted("burst")) {
    Env e = StartEnv(source_dir, data);
    std::string health = "127.0.0.1:" + std::to_string(18081 + getpid() % 1000);
    Child c = SpawnController(e, binary, health);
    WaitHealthy(c, "http://" + health);
    std::this_thread::sleep_for(std::chrono::seconds(2));  // NodeClasses resolved, pools Ready
    CreateNamespace(*e.client, "burst");
    std::vector<nlohmann::json> burst_pods;
    for (int i = 0; i < burst; ++i) burst_pods.push_back(Pod("burst", "p" + std::to_string(i), i % 5 == 0));
    auto t0 = SteadyClock::now();
    CreatePods(*e.client, burst_pods);
    kube::TypedClient<kube::NodeClaim> claims(*e.client);
    size_t n_claims = 0;
    while (true) {
      auto list = Must(claims.List(""), "nodeclaims");
      int64_t placed = 0;
      bool launched = true;
      for (const auto& nc : list.items) {
        placed += static_cast<int64_t>(nc.spec.resources.requests.Get("pods").AsApproximateDouble());
        launched = launched && !nc.status.provider_id.empty();
      }
      n_claims = list.items.size();
      if (placed >= burst && launched) break;
      if (SteadyClock::now() - t0 > std::chrono::minutes(5)) Die("burst never completed: " + std::to_string(placed));
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    double seconds = Ms(SteadyClock::now() - t0) / 1000;
    out["burst_pods"] = burst;
    out["burst_seconds"] = seconds;
    out["burst_pods_per_sec"] = burst / seconds;
    out["burst_nodeclaims"] = n_claims;
    out["burst_controller_peak_rss_mb"] = c.PeakRssMb();
    c.Stop();
  }
  if (wanted("scale")) {
    Env e = StartEnv(source_dir, data);
    auto t0 = SteadyClock::now();
    std::vector<std::jthread> workers;
    std::atomic<int> next_node{0};
    for (int t = 0; t < 8; ++t) {
      workers.emplace_back([&] {
        for (int i = next_node++; i < nodes; i = next_node++) {
          std::string name = "node-" + std::to_string(i);
          nlohmann::json node = {{"apiVersion", "v1"}, {"kind", "Node"},
                                 {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name},
                                                                           {"karpenter.sh/nodepool", "cpu"},
                                                                           {"node.kubernetes.io/instance-type", "m7i.2xlarge"},
                                                                           {"topology.kubernetes.io/zone", "us-west-2a"}}}}},
                                 {"spec", {{"providerID", "aws:///us-west-2a/i-" + std::to_string(100000 + i)}}},
                                 {"status", {{"allocatable", {{"cpu", "7910m"}, {"memory", "29Gi"}, {"pods", "58"}}},
                                             {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
          Must(e.client->Create(kube::Node::Resource(), "", node), "node");
        }
      });
    }
    workers.clear();
    CreateNamespace(*e.client, "scale");
    std::vector<nlohmann::json> scale_pods;
    scale_pods.reserve(pods);
    for (int i = 0; i < pods; ++i) {
      auto p = Pod("scale", "p" + std::to_string(i), false);
      p["spec"]["nodeName"] = "node-" + std::to_string(i % nodes);
      p["metadata"]["labels"] = {{"app", "svc-" + std::to_string(i % 500)}};
      scale_pods.push_back(std::move(p));
    }
    CreatePods(*e.client, scale_pods, 16);
    std::cerr << "seeded " << nodes << " nodes and " << pods << " pods in " << Ms(SteadyClock::now() - t0) / 1000 << " s\n";
    std::string health = "127.0.0.1:" + std::to_string(19081 + getpid() % 1000);
    auto s0 = SteadyClock::now();
    Child c = SpawnController(e, binary, health);
    WaitHealthy(c, "http://" + health);
    out["scale_sync_seconds"] = Ms(SteadyClock::now() - s0) / 1000;
    std::this_thread::sleep_for(std::chrono::seconds(5));
    out["scale_nodes"] = nodes;
    out["scale_pods"] = pods;
    out["scale_rss_mb"] = c.RssMb();
    out["scale_peak_rss_mb"] = c.PeakRssMb();
    c.Stop();
  }
  out["cpus"] = std::thread::hardware_concurrency();
  std::cout << out.dump() << std::endl;
  return 0;
}
