#include "sim/embedded_cluster.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "apiserver/server.h"
#include "cloud/aws/api_client.h"
#include "cloud/aws/credentials.h"
#include "cloud/aws/http_client.h"
#include "cloud/aws/provider.h"
#include "cloud/ec2emu/emulator.h"
#include "core/data_files.h"
#include "core/log.h"
#include "kube/encoding.h"
#include "kube/event_recorder.h"
#include "kube/kubeconfig.h"
#include "kube/transport.h"
#include "provisioner/controller.h"
#include "sim/binder.h"
#include "sim/bootstrap.h"
#include "sim/daemonset_controller.h"
#include "sim/executor.h"
#include "sim/node_fleet.h"

namespace gpufleet::sim {
namespace {

const core::log::Logger kLog("up");
namespace fs = std::filesystem;

// Threads inherit their creator's name, so naming the thread that starts a part names every
// thread the part starts: `top -H` and the benchmark's per-part CPU split read these.
void NameThread(const char* name) { ::prctl(PR_SET_NAME, name, 0, 0, 0); }

Status Annotate(const Status& s, const std::string& what) {
  return s.ok() ? s : Status(s.code(), what + ": " + std::string(s.message()));
}

}  // namespace

struct EmbeddedCluster::Parts {
  std::unique_ptr<kube::Transport> transport;
  std::unique_ptr<kube::Client> client;
  std::unique_ptr<cloud::aws::HttpClient> http;
  std::unique_ptr<cloud::aws::CredentialsProvider> credentials;
  std::unique_ptr<cloud::aws::ApiClient> ec2, ssm;
  std::unique_ptr<cloud::aws::AwsCloudProvider> provider;
  std::unique_ptr<provisioner::Controller> controller;
  std::unique_ptr<kube::EventRecorder> kubelet_events;
  std::unique_ptr<Executor> executor;
  std::unique_ptr<NodeFleet> fleet;
  std::unique_ptr<Binder> binder;
  std::unique_ptr<DaemonSetController> daemonsets;
  std::atomic<NodeFleet*> boot_hook{nullptr};
};

int RunningPid(const std::string& data_dir) {
  const std::string path = data_dir + "/gpufleet.lock";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  int pid = 0;
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    pid = n > 0 ? std::atoi(buf) : 0;
    if (pid == 0) pid = -1;  // held, pid not written yet
  }
  ::close(fd);
  return pid;
}

Result<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::Start(UpOptions options) {
  std::unique_ptr<EmbeddedCluster> cluster(new EmbeddedCluster());
  if (Status s = cluster->Init(std::move(options)); !s.ok()) {
    cluster->Stop();
    return s;
  }
  return cluster;
}

Status EmbeddedCluster::Init(UpOptions options) {
  options_ = std::move(options);
  GF_ASSIGN_OR_RETURN(delays_, ScaledDelays(options_.time_scale));
  if (options_.instance_data.empty()) options_.instance_data = core::DefaultDataFile("aws-instance-types.json");
  if (options_.gpu_models.empty()) options_.gpu_models = core::DefaultDataFile("gpu-models.json");
  std::error_code ec;
  fs::create_directories(options_.data_dir, ec);
  if (ec) return FailedPreconditionError("data directory " + options_.data_dir + ": " + ec.message());
  options_.data_dir = fs::canonical(options_.data_dir, ec).string();

  // One cluster per data directory: the lock is released by the kernel however we exit.
  const std::string lock_path = options_.data_dir + "/gpufleet.lock";
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) return FailedPreconditionError(lock_path + ": " + std::strerror(errno));
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
    const int pid = RunningPid(options_.data_dir);
    return AlreadyExistsError("gpufleet is already running with data directory " + options_.data_dir +
                              (pid > 0 ? " (pid " + std::to_string(pid) + ")" : "") +
                              "; stop it with `gpufleet down --data-dir " + options_.data_dir + "`");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(lock_fd_, 0) != 0 || ::pwrite(lock_fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    return InternalError(lock_path + ": cannot write the pid");
  }

  // Unix socket paths are limited to 108 bytes: the nodes' sockets live under a short
  // per-run directory.
  char run_template[] = "/tmp/gpufleet-run-XXXXXX";
  if (::mkdtemp(run_template) == nullptr) return InternalError(std::string("creating a run directory in /tmp: ") + std::strerror(errno));
  run_dir_ = run_template;
  const std::string node_state = options_.data_dir + "/nodes";
  fs::create_directories(node_state, ec);

  // 1. The API server; its kubeconfig names the cluster the way EKS does.
  const std::string arn = context_name();
  apiserver::ApiServer::Options ao;
  ao.data_dir = options_.data_dir;
  ao.listen = options_.api_listen;
  ao.cluster_name = arn;
  ao.context_name = arn;
  ao.durable = options_.durable;
  NameThread("gf-apiserver");
  auto api = apiserver::ApiServer::Start(ao, core::RealClock());
  if (!api.ok()) return Annotate(api.status(), "API server");
  api_ = std::move(*api);
  kubeconfig_ = api_->kubeconfig_path().string();

  parts_ = std::make_unique<Parts>();
  Parts& p = *parts_;

  // 2. The EC2 emulator; booted instances become simulated nodes.
  cloud::ec2emu::EmulatorOptions eo;
  eo.data_dir = options_.data_dir + "/ec2";
  eo.listen = options_.ec2_listen;
  eo.region = options_.region;
  eo.instance_data = options_.instance_data;
  eo.service.boot_delay = delays_.instance_boot;
  eo.service.cluster_name = options_.cluster_name;
  eo.service.account_id = options_.account_id;
  eo.tick = std::max(std::chrono::milliseconds(20), std::min(std::chrono::milliseconds(100), delays_.instance_boot / 4));
  eo.on_running = [&p](const nlohmann::json& instance) {
    if (NodeFleet* fleet = p.boot_hook.load()) fleet->InstanceRunning(instance);
  };
  NameThread("gf-ec2emu");
  auto ec2 = cloud::ec2emu::Emulator::Start(eo);
  NameThread("gf-up");
  if (!ec2.ok()) return Annotate(ec2.status(), "EC2 emulator");
  ec2_ = std::move(*ec2);

  // 3. Clients, as any process would hold them: the kubeconfig and the emulator's credentials.
  auto config = kube::LoadKubeconfig({.paths = {kubeconfig_}});
  if (!config.ok()) return Annotate(config.status(), kubeconfig_);
  auto transport = kube::Transport::Create(*config, {}, core::RealClock());
  if (!transport.ok()) return transport.status();
  p.transport = std::move(*transport);
  p.client = std::make_unique<kube::Client>(*p.transport);
  if (!fs::exists(options_.data_dir + "/bootstrapped")) {
    if (Status s = InstallManifests(*p.client); !s.ok()) return Annotate(s, "installing the seed's objects");
    std::ofstream(options_.data_dir + "/bootstrapped") << "installed by gpufleet up; delete to install again\n";
  }
  p.http = cloud::aws::NewCurlHttpClient();
  p.credentials = cloud::aws::NewStaticCredentials(
      {.access_key_id = ec2_->access_key_id(), .secret_access_key = ec2_->secret_access_key(), .source = "gpufleet up"});
  auto make = [&](const std::string& service) {
    return std::make_unique<cloud::aws::ApiClient>(cloud::aws::ApiClientOptions{.service = service,
                                                                                .region = options_.region,
                                                                                .endpoint = ec2_->endpoint(),
                                                                                .credentials = p.credentials.get(),
                                                                                .http = p.http.get(),
                                                                                .clock = &core::RealClock()});
  };
  p.ec2 = make("ec2");
  p.ssm = make("ssm");
  auto types = cloud::aws::DescribeInstanceTypes(*p.ec2);
  if (!types.ok()) return Annotate(types.status(), "DescribeInstanceTypes against the emulator");
  std::map<std::string, cloud::aws::Ec2InstanceType> by_name;
  for (auto& t : *types) by_name.emplace(t.name, std::move(t));
  auto prices = cloud::aws::LoadOnDemandPrices(options_.instance_data, options_.region);
  if (!prices.ok()) return prices.status();

  // 4. The provisioner.
  p.provider = std::make_unique<cloud::aws::AwsCloudProvider>(
      *p.ec2, *p.ssm,
      cloud::aws::AwsProviderOptions{
          .cluster = {.name = options_.cluster_name,
                      .endpoint = config->server,
                      .certificate_authority = kube::Base64Encode(config->ca_pem)},
          .region = options_.region,
          .node_classes = [&p](std::string_view name) -> Result<kube::EC2NodeClass> {
            auto nc = p.controller->cluster().nodeclasses.Get(std::string(name));
            if (nc == nullptr) return NotFoundError("EC2NodeClass \"" + std::string(name) + "\" not found");
            return *nc;
          },
          .on_demand_prices = *prices});
  provisioner::ControllerOptions co;
  co.cluster_name = options_.cluster_name;
  co.batch_idle = delays_.batch_idle;
  co.batch_max = delays_.batch_max;
  co.pending_resync = std::max(std::chrono::seconds(1), std::chrono::duration_cast<std::chrono::seconds>(
                                                            std::chrono::milliseconds(static_cast<int64_t>(30000 / options_.time_scale))));
  NameThread("gf-controller");
  p.controller = std::make_unique<provisioner::Controller>(
      *p.client, *p.provider, [&p](const kube::EC2NodeClassSpec& spec) { return p.provider->Resolve(spec); },
      core::RealClock(), co);

  // 5. The simulated nodes, kube-scheduler's and the DaemonSet controller's roles.
  NameThread("gf-sim");
  p.kubelet_events = std::make_unique<kube::EventRecorder>(*p.client, core::RealClock(), "kubelet");
  p.executor = std::make_unique<Executor>(4);
  KubeletEnv env;
  env.client = p.client.get();
  env.events = p.kubelet_events.get();
  env.executor = p.executor.get();
  env.clock = &core::RealClock();
  env.delays = delays_;
  env.time_scale = options_.time_scale;
  env.run_dir = run_dir_;
  env.state_dir = node_state;
  env.gpu_catalog_path = options_.gpu_models;
  apiserver::ApiServer* server = api_.get();
  env.write_log = [server](const std::string& ns, const std::string& pod, const std::string& container,
                           const std::string& text) { return server->PutContainerLog(ns, pod, container, text); };
  p.fleet = std::make_unique<NodeFleet>(env, std::move(by_name), options_.region);
  p.binder = std::make_unique<Binder>(*p.client, core::RealClock());
  p.daemonsets = std::make_unique<DaemonSetController>(*p.client, core::RealClock());
  NameThread("gf-up");

  threads_.emplace_back([&p](std::stop_token stop) {
    NameThread("gf-sim");
    p.fleet->Run(stop);
  });
  threads_.emplace_back([&p](std::stop_token stop) {
    NameThread("gf-controller");
    p.controller->Run(stop);
  });
  threads_.emplace_back([&p](std::stop_token stop) {
    NameThread("gf-sim-binder");
    p.binder->Run(stop);
  });
  threads_.emplace_back([&p](std::stop_token stop) {
    NameThread("gf-sim-ds");
    p.daemonsets->Run(stop);
  });
  // Wait for the caches, then hand the fleet what already runs (a restart) and follow boots.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!(p.fleet->Ready() && p.controller->Ready() && p.binder->Ready() && p.daemonsets->Ready())) {
    if (std::chrono::steady_clock::now() > deadline) return DeadlineExceededError("the controllers' caches did not sync within 60 s");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  p.boot_hook = p.fleet.get();
  // The boot hook starts nodes; this only catches up after a restart and notices terminations,
  // so it need not run more than once a second whatever the time scale.
  const auto every = std::max(std::chrono::milliseconds(1000), std::chrono::milliseconds(static_cast<int64_t>(5000 / options_.time_scale)));
  cloud::ec2emu::Emulator* emulator = ec2_.get();
  threads_.emplace_back([&p, emulator, every](std::stop_token stop) {
    NameThread("gf-sim");
    std::mutex m;
    std::condition_variable_any cv;
    while (!stop.stop_requested()) {
      p.fleet->Reconcile(emulator->RunningInstances());
      std::unique_lock lock(m);
      cv.wait_for(lock, stop, every, [] { return false; });
    }
  });

  // 6. What a user needs: DIR/env.
  env_file_ = options_.data_dir + "/env";
  const std::string tmp = env_file_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << EnvText();
    if (!out) return InternalError("writing " + tmp);
  }
  fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write, ec);
  fs::rename(tmp, env_file_, ec);
  if (ec) return InternalError("writing " + env_file_ + ": " + ec.message());
  return OkStatus();
}

NodeFleet& EmbeddedCluster::nodes() { return *parts_->fleet; }
provisioner::Controller& EmbeddedCluster::controller() { return *parts_->controller; }

std::string EmbeddedCluster::api_url() const { return api_ ? api_->url() : ""; }
std::string EmbeddedCluster::ec2_endpoint() const { return ec2_ ? ec2_->endpoint() : ""; }
std::string EmbeddedCluster::context_name() const {
  return "arn:aws:eks:" + options_.region + ":" + options_.account_id + ":cluster/" + options_.cluster_name;
}

std::string EmbeddedCluster::EnvText() const {
  std::ostringstream out;
  out << "# gpufleet up: source this file (. " << env_file_ << ") to use kubectl and the aws CLI\n"
      << "export KUBECONFIG=" << kubeconfig_ << "\n"
      << "export AWS_ENDPOINT_URL=" << ec2_->endpoint() << "\n"
      << "export AWS_ACCESS_KEY_ID=" << ec2_->access_key_id() << "\n"
      << "export AWS_SECRET_ACCESS_KEY=" << ec2_->secret_access_key() << "\n"
      << "export AWS_REGION=" << options_.region << "\n"
      << "export AWS_DEFAULT_REGION=" << options_.region << "\n";
  return out.str();
}

EmbeddedCluster::~EmbeddedCluster() { Stop(); }

void EmbeddedCluster::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (parts_) parts_->boot_hook = nullptr;
  for (auto& t : threads_) t.request_stop();
  threads_.clear();  // joins: controllers drain, the fleet stops its kubelets
  if (parts_) {
    // Kubelets first (programs, device managers), then their pending steps, then the fleet
    // whose environment those steps use.
    if (parts_->fleet) parts_->fleet->StopAll();
    if (parts_->executor) parts_->executor->Stop();
    parts_->fleet.reset();
    if (parts_->kubelet_events) parts_->kubelet_events->Flush();
  }
  if (ec2_) ec2_->Stop();
  parts_.reset();
  ec2_.reset();
  if (api_) api_->Stop();
  api_.reset();
  if (!run_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(run_dir_, ec);
  }
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);  // releases the lock
    lock_fd_ = -1;
  }
}

}  // namespace gpufleet::sim
