#include "agent/commands.h"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include "agent/agent.h"
#include "core/log.h"
#include "core/time_format.h"
#include "gpu/commands.h"
#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "kube/transport.h"

namespace gpufleet::agent {
namespace {

const core::log::Logger kLog("agent");

struct Flags {
  gpu::BackendOptions backend;
  std::string config_file;
  std::string mig_strategy, device_list_strategy, device_id_strategy, pass_device_specs, fail_on_init_error;
  AgentOptions agent;
  std::string label_interval = "60s", poll_interval = "5s", recovery_quiet = "5m";
  bool no_timestamp = false, no_node_labels = false, plugin_dir_set = false;
  std::string kubeconfig;
};

[[noreturn]] void Fail(std::string_view message) {
  std::cerr << "error: " << message << "\n";
  throw CLI::RuntimeError(2);
}

std::chrono::milliseconds Millis(const std::string& flag, const std::string& text) {
  auto d = core::ParseGoDuration(text);
  if (!d.ok() || *d <= core::Duration::zero()) Fail(flag + ": \"" + text + "\" is not a duration such as 30s");
  return std::chrono::duration_cast<std::chrono::milliseconds>(*d);
}

AgentConfig LoadConfig(const Flags& f) {
  AgentConfig config;
  if (!f.config_file.empty()) {
    std::ifstream in(f.config_file);
    if (!in) Fail("--config-file " + f.config_file + ": cannot be read");
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = ParseConfig(text.str());
    if (!parsed.ok()) Fail(f.config_file + ": " + std::string(parsed.status().message()));
    config = *parsed;
  }
  auto env = ApplyEnvironment(config, [](const char* n) { return std::getenv(n); });
  if (!env.ok()) Fail(env.status().message());
  config = *env;
  // Flags last: flag > environment > file. Each flag answers for its environment variable.
  const std::map<std::string, const std::string*> flag_for = {
      {"MIG_STRATEGY", &f.mig_strategy},           {"DEVICE_LIST_STRATEGY", &f.device_list_strategy},
      {"DEVICE_ID_STRATEGY", &f.device_id_strategy}, {"PASS_DEVICE_SPECS", &f.pass_device_specs},
      {"FAIL_ON_INIT_ERROR", &f.fail_on_init_error}};
  auto flags = [&flag_for](const char* name) -> const char* {
    auto it = flag_for.find(name);
    return it == flag_for.end() ? nullptr : it->second->c_str();
  };
  auto flagged = ApplyEnvironment(config, flags);
  if (!flagged.ok()) Fail(flagged.status().message());
  return *flagged;
}

int Run(Flags f) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  AgentConfig config = LoadConfig(f);
  // The kubelet dials plugins in its own directory: with only --kubelet-socket, serve beside it.
  if (!f.agent.kubelet_socket.empty() && !f.plugin_dir_set) {
    f.agent.plugin_dir = std::filesystem::path(f.agent.kubelet_socket).parent_path().string();
  }
  if (config.driver_root != "/") f.backend.driver_roots.insert(f.backend.driver_roots.begin(), config.driver_root);
  f.agent.label_interval = Millis("--label-interval", f.label_interval);
  f.agent.poll_interval = Millis("--kubelet-poll-interval", f.poll_interval);
  f.agent.health.recovery_quiet = std::chrono::duration_cast<std::chrono::seconds>(Millis("--health-recovery", f.recovery_quiet));
  f.agent.timestamp_label = !f.no_timestamp;
  if (Status s = ApplyHealthEnvironment(f.agent.health, [](const char* n) { return std::getenv(n); }); !s.ok()) Fail(s.message());
  if (f.agent.node_name.empty()) {
    if (const char* n = std::getenv("NODE_NAME")) f.agent.node_name = n;
  }

  auto backend = gpu::OpenBackend(f.backend);
  if (!backend.ok()) {
    if (config.fail_on_init_error) Fail(backend.status().message());
    kLog.Error("no GPU backend; running without GPUs (failOnInitError=false)", {{"error", backend.status()}});
    backend = gpu::NewNoGpuBackend();
  }
  std::unique_ptr<kube::Transport> transport;
  std::unique_ptr<kube::Client> client;
  if (!f.no_node_labels && !f.agent.node_name.empty()) {
    kube::KubeconfigOptions ko;
    if (!f.kubeconfig.empty()) ko.paths = {f.kubeconfig};
    auto kubeconfig = kube::LoadKubeconfig(ko);
    if (kubeconfig.ok()) {
      auto t = kube::Transport::Create(*kubeconfig, {}, core::RealClock());
      if (!t.ok()) Fail(t.status().message());
      transport = std::move(*t);
      client = std::make_unique<kube::Client>(*transport);
    } else if (!f.kubeconfig.empty()) {
      Fail(kubeconfig.status().message());
    } else {
      // No cluster credentials (not in a pod, no $KUBECONFIG): the device plugin still works.
      kLog.Warn("no Kubernetes credentials; the Node is not labelled", {{"error", kubeconfig.status()}});
    }
  }
  // A mock machine named after an instance type stands for that instance: DMI would name the host.
  if (f.agent.machine.empty() && (*backend)->Kind() == "mock" && f.backend.mock_machine.find('/') == std::string::npos) {
    f.agent.machine = f.backend.mock_machine;
  }
  std::atomic<bool> restart{false};
  f.agent.restart_requested = &restart;
  Agent agent(**backend, config, f.agent, client.get(), core::RealClock());
  if (Status s = agent.Init(); !s.ok()) {
    if (config.fail_on_init_error) Fail(s.message());
    kLog.Error("initialisation failed; advertising nothing (failOnInitError=false)", {{"error", s}});
  }
  kLog.Info("agent starting", {{"backend", std::string((*backend)->Kind())},
                               {"migStrategy", std::string(MigStrategyName(config.mig_strategy))},
                               {"sharing", std::string(SharingStrategyName(config.sharing))},
                               {"pluginDir", f.agent.plugin_dir}});
  std::jthread runner([&](std::stop_token stop) { agent.Run(stop); });
  while (true) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      kLog.Info("SIGHUP: serving and registering again");
      restart = true;
      continue;
    }
    kLog.Info("stopping", {{"signal", sig}});
    break;
  }
  runner.request_stop();
  runner.join();
  return 0;
}

}  // namespace

void AddCommands(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand("agent", "GPU node agent: kubelet device plugin (nvidia.com/gpu), health, GPU labels");
  gpu::AddBackendFlags(cmd, f->backend);
  cmd->add_option("--config-file", f->config_file, "NVIDIA device plugin config file (version v1)");
  cmd->add_option("--mig-strategy", f->mig_strategy, "none, single or mixed (env MIG_STRATEGY)");
  cmd->add_option("--fail-on-init-error", f->fail_on_init_error, "true or false (env FAIL_ON_INIT_ERROR)");
  cmd->add_option("--pass-device-specs", f->pass_device_specs, "true or false (env PASS_DEVICE_SPECS)");
  cmd->add_option("--device-list-strategy", f->device_list_strategy,
                  "envvar, volume-mounts, cdi-annotations, cdi-cri; comma-separated (env DEVICE_LIST_STRATEGY)");
  cmd->add_option("--device-id-strategy", f->device_id_strategy, "uuid or index (env DEVICE_ID_STRATEGY)");
  cmd->add_option_function<std::string>(
         "--device-plugin-path",
         [f](const std::string& dir) {
           f->agent.plugin_dir = dir;
           f->plugin_dir_set = true;
         },
         "The kubelet's device-plugins directory (default /var/lib/kubelet/device-plugins, or the directory of "
         "--kubelet-socket)");
  cmd->add_option("--kubelet-socket", f->agent.kubelet_socket, "Default: DEVICE_PLUGIN_PATH/kubelet.sock");
  cmd->add_option("--dev-root", f->agent.dev_root, "Where /dev/nvidia* are (for --pass-device-specs)")->capture_default_str();
  cmd->add_option("--node-name", f->agent.node_name, "Node to label (env NODE_NAME)");
  cmd->add_option("--machine", f->agent.machine, "nvidia.com/gpu.machine (default: /sys/class/dmi/id/product_name)");
  cmd->add_option("--kubeconfig", f->kubeconfig, "For node labels; default: in-cluster or $KUBECONFIG");
  cmd->add_flag("--no-node-labels", f->no_node_labels, "Do not label the Node");
  cmd->add_option("--features-file", f->agent.features_file, "Also write the labels as an NFD features.d file");
  cmd->add_flag("--no-timestamp", f->no_timestamp, "Leave out nvidia.com/gfd.timestamp");
  cmd->add_option("--label-interval", f->label_interval, "How often labels are applied")->capture_default_str();
  cmd->add_option("--kubelet-poll-interval", f->poll_interval, "Polling fallback for kubelet restarts")->capture_default_str();
  cmd->add_option("--health-recovery", f->recovery_quiet, "Quiet time before an unhealthy GPU may return")->capture_default_str();
  cmd->callback([f] {
    int rc = Run(*f);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace gpufleet::agent
