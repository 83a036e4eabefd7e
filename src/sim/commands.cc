#include "sim/commands.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cloud/aws/aws_config.h"
#include "core/log.h"
#include "core/time_format.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "kube/transport.h"
#include "sim/embedded_cluster.h"

namespace gpufleet::sim {
namespace {

std::string ExpandHome(const std::string& path) { return cloud::aws::Environment().ExpandHome(path); }

[[noreturn]] void Fail(std::string_view message, int code = 1) {
  std::cerr << "error: " << message << "\n";
  throw CLI::RuntimeError(code);
}

void PrintNextSteps(const EmbeddedCluster& cluster, const std::string& data_dir) {
  std::cout << "gpufleet is up\n"
            << "  API server    " << cluster.api_url() << "  (context " << cluster.context_name() << ")\n"
            << "  EC2 emulator  " << cluster.ec2_endpoint() << "\n"
            << "  data          " << data_dir << "\n\n"
            << "In another shell, point kubectl and the aws CLI at it:\n"
            << "  source " << cluster.env_path() << "\n"
            << "which exports:\n";
  std::istringstream env(cluster.EnvText());
  for (std::string line; std::getline(env, line);) {
    if (line.starts_with("export ")) std::cout << "  " << line << "\n";
  }
  std::cout << "\nThen follow the walkthrough (docs/walkthrough.md):\n"
            << "  kubectl get nodepool/gpu\n"
            << "  kubectl get ec2nodeclass/gpu\n"
            << "  aws ec2 describe-capacity-reservations --filters Name=state,Values=active\n\n"
            << "Stop with Ctrl-C or `gpufleet down --data-dir " << data_dir << "`; the state stays in "
            << data_dir << ".\n"
            << std::flush;
}

int Up(const UpOptions& options) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  auto cluster = EmbeddedCluster::Start(options);
  if (!cluster.ok()) Fail(cluster.status().message());
  PrintNextSteps(**cluster, std::filesystem::canonical(options.data_dir).string());
  int sig = 0;
  sigwait(&signals, &sig);
  core::log::Logger("up").Info("stopping", {{"signal", sig}});
  (*cluster)->Stop();
  std::cout << "gpufleet stopped\n" << std::flush;
  return 0;
}

int Down(const std::string& data_dir, const std::string& timeout_text) {
  auto timeout = core::ParseGoDuration(timeout_text);
  if (!timeout.ok() || timeout->count() <= 0) Fail("--timeout \"" + timeout_text + "\": not a duration such as 60s");
  const int pid = RunningPid(data_dir);
  if (pid == 0) {
    std::cout << "gpufleet is not running with data directory " << data_dir << "\n";
    return 0;
  }
  if (pid < 0 || ::kill(pid, SIGTERM) != 0) {
    Fail("cannot signal the gpufleet holding " + data_dir + "/gpufleet.lock" + (pid > 0 ? " (pid " + std::to_string(pid) + ")" : ""));
  }
  const auto deadline = std::chrono::steady_clock::now() + *timeout;
  while (RunningPid(data_dir) != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      Fail("gpufleet (pid " + std::to_string(pid) + ") did not stop within " + timeout_text);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::cout << "gpufleet stopped (pid " << pid << ")\n";
  return 0;
}

std::string EnvValue(const std::string& env_file, const std::string& name) {
  std::ifstream in(env_file);
  const std::string prefix = "export " + name + "=";
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with(prefix)) return line.substr(prefix.size());
  }
  return "";
}

int StatusCommand(const std::string& data_dir) {
  const int pid = RunningPid(data_dir);
  if (pid == 0) {
    std::cout << "gpufleet is not running (data directory " << data_dir << ")\n";
    return 3;
  }
  const std::string env = data_dir + "/env";
  std::cout << "gpufleet is running (pid " << pid << ", data directory " << data_dir << ")\n"
            << "  kubeconfig    " << EnvValue(env, "KUBECONFIG") << "\n"
            << "  EC2 emulator  " << EnvValue(env, "AWS_ENDPOINT_URL") << " (region " << EnvValue(env, "AWS_REGION") << ")\n";
  auto config = kube::LoadKubeconfig({.paths = {data_dir + "/kubeconfig"}});
  if (!config.ok()) return 0;
  auto transport = kube::Transport::Create(*config, {}, core::RealClock());
  if (!transport.ok()) return 0;
  kube::Client client(**transport);
  auto count = [&](const kube::Gvr& gvr) -> std::string {
    auto list = client.List(gvr, "", {});
    if (!list.ok()) return "?";
    return std::to_string((*list)["items"].size());
  };
  std::cout << "  API server    " << config->server << "\n"
            << "  nodes " << count({"", "v1", "nodes", false}) << ", nodeclaims "
            << count({"karpenter.sh", "v1", "nodeclaims", false}) << ", pods " << count({"", "v1", "pods", true}) << "\n";
  return 0;
}

}  // namespace

void AddCommands(CLI::App& app) {
  auto options = std::make_shared<UpOptions>();
  options->data_dir = "~/.gpufleet";
  CLI::App* up = app.add_subcommand(
      "up", "Run a whole GPU cluster on this machine: API server, EC2 emulator, provisioner, simulated GPU nodes");
  up->add_option("--data-dir", options->data_dir, "State (survives down/up), kubeconfig and env")->capture_default_str();
  up->add_option("--time-scale", options->time_scale, "Run the simulated delays N times faster (boot, pulls, ...)")
      ->capture_default_str();
  up->add_option("--region", options->region, "The emulated AWS region")->capture_default_str();
  up->add_option("--cluster-name", options->cluster_name, "The cluster's name (EKS-style context, discovery tags)")
      ->capture_default_str();
  up->add_option("--api-listen", options->api_listen, "API server address (loopback; port 0 picks one)")
      ->capture_default_str();
  up->add_option("--ec2-listen", options->ec2_listen, "EC2 emulator address (loopback; port 0 picks one)")
      ->capture_default_str();
  up->add_option("--instance-data", options->instance_data, "aws-instance-types.json (default: the bundled one)");
  up->add_option("--gpu-models", options->gpu_models, "gpu-models.json (default: the bundled one)");
  up->callback([options] {
    UpOptions o = *options;
    o.data_dir = ExpandHome(o.data_dir);
    if (int rc = Up(o); rc != 0) throw CLI::RuntimeError(rc);
  });

  auto down_dir = std::make_shared<std::string>("~/.gpufleet");
  auto down_timeout = std::make_shared<std::string>("60s");
  CLI::App* down = app.add_subcommand("down", "Stop the cluster `gpufleet up` runs (its state stays)");
  down->add_option("--data-dir", *down_dir, "The running cluster's data directory")->capture_default_str();
  down->add_option("--timeout", *down_timeout, "How long to wait for it to stop")->capture_default_str();
  down->callback([down_dir, down_timeout] {
    if (int rc = Down(ExpandHome(*down_dir), *down_timeout); rc != 0) throw CLI::RuntimeError(rc);
  });

  auto status_dir = std::make_shared<std::string>("~/.gpufleet");
  CLI::App* status = app.add_subcommand("status", "Is `gpufleet up` running, where, and what it holds (exit 3: not running)");
  status->add_option("--data-dir", *status_dir, "The cluster's data directory")->capture_default_str();
  status->callback([status_dir] {
    if (int rc = StatusCommand(ExpandHome(*status_dir)); rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace gpufleet::sim
