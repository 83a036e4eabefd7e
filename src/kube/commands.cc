#include "kube/commands.h"

#include <signal.h>

#include <iostream>
#include <memory>
#include <thread>

#include "kube/client.h"
#include "kube/kubeconfig.h"
#include "kube/leader_election.h"

namespace gpufleet::kube {
namespace {

struct ElectOptions {
  std::string kubeconfig;
  std::string context;
  LeaderElectionConfig election;
  int64_t lease_duration = 15, renew_deadline = 10, retry_period = 2;
};

// Exit codes: 0 after SIGINT/SIGTERM (the lease released), 1 when leadership was lost (the
// process should be restarted, as client-go controllers are), 2 on bad configuration.
int RunElect(ElectOptions& o) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  KubeconfigOptions ko{.context = o.context};
  if (!o.kubeconfig.empty()) ko.paths = {o.kubeconfig};
  auto config = LoadKubeconfig(ko);
  if (!config.ok()) {
    std::cerr << "error: " << config.status().message() << "\n";
    return 2;
  }
  auto transport = Transport::Create(*config, {}, core::RealClock());
  if (!transport.ok()) {
    std::cerr << "error: " << transport.status().message() << "\n";
    return 2;
  }
  Client client(**transport);
  o.election.lease_duration = std::chrono::seconds(o.lease_duration);
  o.election.renew_deadline = std::chrono::seconds(o.renew_deadline);
  o.election.retry_period = std::chrono::seconds(o.retry_period);
  const std::string identity = o.election.identity;
  o.election.on_started_leading = [identity](std::stop_token) {
    std::cout << "leading as " << identity << std::endl;
  };
  o.election.on_new_leader = [](const std::string& leader) {
    std::cout << "leader is " << leader << std::endl;
  };
  auto elector = LeaderElector::Create(client, o.election, core::RealClock());
  if (!elector.ok()) {
    std::cerr << "error: " << elector.status().message() << "\n";
    return 2;
  }
  std::stop_source stop;
  std::jthread waiter([&](std::stop_token done) {
    // sigwait cannot be interrupted by the stop token: the main thread sends SIGTERM to itself
    // when it is done, which ends this wait too.
    int sig = 0;
    sigwait(&signals, &sig);
    if (!done.stop_requested()) stop.request_stop();
  });
  (*elector)->Run(stop.get_token());
  const bool signalled = stop.stop_requested();
  if (!signalled) {
    std::cout << "lost leadership" << std::endl;
    waiter.request_stop();
    kill(getpid(), SIGTERM);
  }
  waiter.join();
  return signalled ? 0 : 1;
}

}  // namespace

void AddCommands(CLI::App& app) {
  CLI::App* kube = app.add_subcommand("kube", "Kubernetes client tools (kubeconfig, leader election)");
  kube->require_subcommand(1);
  auto o = std::make_shared<ElectOptions>();
  CLI::App* elect = kube->add_subcommand(
      "elect", "Campaign for a coordination.k8s.io/v1 Lease and report leadership until stopped");
  elect->add_option("--kubeconfig", o->kubeconfig, "kubeconfig file (default: KUBECONFIG, ~/.kube/config)");
  elect->add_option("--context", o->context, "kubeconfig context (default: current-context)");
  elect->add_option("--namespace", o->election.lease_namespace, "namespace of the Lease")->capture_default_str();
  elect->add_option("--lease", o->election.lease_name, "name of the Lease")->required();
  elect->add_option("--identity", o->election.identity, "this candidate's unique identity")->required();
  elect->add_option("--lease-duration", o->lease_duration, "seconds")->capture_default_str();
  elect->add_option("--renew-deadline", o->renew_deadline, "seconds")->capture_default_str();
  elect->add_option("--retry-period", o->retry_period, "seconds")->capture_default_str();
  elect->callback([o] {
    int rc = RunElect(*o);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace gpufleet::kube
