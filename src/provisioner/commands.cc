#include "provisioner/commands.h"

#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <random>
#include <thread>

#include "apiserver/http_server.h"
#include "cloud/aws/provider.h"
#include "cloud/aws/session.h"
#include "core/data_files.h"
#include "core/log.h"
#include "core/time_format.h"
#include "kube/encoding.h"
#include "kube/kubeconfig.h"
#include "kube/leader_election.h"
#include "kube/transport.h"
#include "provisioner/controller.h"

namespace gpufleet::provisioner {
namespace {

const core::log::Logger kLog("controller");

struct Flags {
  std::string kubeconfig, context;
  std::string region, aws_endpoint, profile;
  std::string cluster_name = "gpufleet";
  std::string cluster_endpoint;  // written into nodes' user data; default: the kubeconfig's server
  std::string kubernetes_version = "1.32";
  std::string instance_data = core::DefaultDataFile("aws-instance-types.json");
  std::string batch_idle = "1s", batch_max = "10s";
  std::string launch_timeout = "5m", registration_timeout = "15m";
  std::string pending_pods = "unbound";
  std::string metrics_listen = "127.0.0.1:8080", health_listen = "127.0.0.1:8081";
  bool leader_elect = true;
  std::string lease_namespace = "kube-system", lease_name = "karpenter-leader-election";
  int lifecycle_workers = 4;
  std::string gc_interval = "2m";
};

[[noreturn]] void Fail(std::string_view message) {
  std::cerr << "error: " << message << "\n";
  throw CLI::RuntimeError(2);
}

core::Duration ParseDuration(const std::string& flag, const std::string& text) {
  auto d = core::ParseGoDuration(text);
  if (!d.ok() || *d < core::Duration::zero()) Fail(flag + ": \"" + text + "\" is not a duration such as 1s or 15m");
  return *d;
}

std::string Identity() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  std::random_device rd;
  return std::string(host) + "_" + std::to_string(rd() % 100000);
}

// /metrics on one loopback listener, /healthz and /readyz on another (Karpenter's 8080 / 8081).
std::unique_ptr<apiserver::HttpServer> Serve(const std::string& listen, apiserver::Handler handler) {
  if (listen.empty()) return nullptr;
  apiserver::HttpServer::Options o;
  o.listen = listen;
  o.plain_http = true;
  auto server = apiserver::HttpServer::Start(o, std::move(handler),
                                             [](const apiserver::HttpRequest&, X509*) -> Result<std::string> {
                                               return std::string("anonymous");
                                             });
  if (!server.ok()) Fail(listen + ": " + std::string(server.status().message()));
  std::string host = listen.substr(0, listen.rfind(':'));
  kLog.Info("serving", {{"url", "http://" + host + ":" + std::to_string((*server)->port())}});
  return std::move(*server);
}

int Run(const Flags& f) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ControllerOptions options;
  options.cluster_name = f.cluster_name;
  options.batch_idle = std::chrono::duration_cast<std::chrono::milliseconds>(ParseDuration("--batch-idle-duration", f.batch_idle));
  options.batch_max = std::chrono::duration_cast<std::chrono::milliseconds>(ParseDuration("--batch-max-duration", f.batch_max));
  options.lifecycle.launch_timeout =
      std::chrono::duration_cast<std::chrono::seconds>(ParseDuration("--launch-timeout", f.launch_timeout));
  options.lifecycle.registration_timeout =
      std::chrono::duration_cast<std::chrono::seconds>(ParseDuration("--registration-timeout", f.registration_timeout));
  options.lifecycle_workers = f.lifecycle_workers;
  options.gc_interval = std::chrono::duration_cast<std::chrono::seconds>(ParseDuration("--gc-interval", f.gc_interval));
  if (options.gc_interval < std::chrono::seconds(1)) Fail("--gc-interval: must be at least 1s");
  if (f.pending_pods == "unbound") {
    options.provisioner.pending_pods = PendingPodPolicy::kUnbound;
  } else if (f.pending_pods == "unschedulable") {
    options.provisioner.pending_pods = PendingPodPolicy::kUnschedulable;
  } else {
    Fail("--pending-pods: \"" + f.pending_pods + "\" must be unbound or unschedulable");
  }

  kube::KubeconfigOptions ko{.context = f.context};
  if (!f.kubeconfig.empty()) ko.paths = {f.kubeconfig};
  auto config = kube::LoadKubeconfig(ko);
  if (!config.ok()) Fail(config.status().message());
  auto transport = kube::Transport::Create(*config, {}, core::RealClock());
  if (!transport.ok()) Fail(transport.status().message());
  kube::Client client(**transport);

  auto session = cloud::aws::NewSession({.region = f.region, .endpoint = f.aws_endpoint, .profile = f.profile});
  if (!session.ok()) Fail(session.status().message());
  auto prices = cloud::aws::LoadOnDemandPrices(f.instance_data, (*session)->region);
  if (!prices.ok()) Fail(prices.status().message());

  // The provider reads EC2NodeClasses from the controller's cache; the controller is built next.
  Controller* controller_ptr = nullptr;
  cloud::aws::AwsCloudProvider provider(
      *(*session)->ec2, *(*session)->ssm,
      cloud::aws::AwsProviderOptions{
          .cluster = {.name = f.cluster_name,
                      .endpoint = f.cluster_endpoint.empty() ? config->server : f.cluster_endpoint,
                      .certificate_authority = kube::Base64Encode(config->ca_pem),
                      .kubernetes_version = f.kubernetes_version},
          .region = (*session)->region,
          .node_classes = [&controller_ptr](std::string_view name) -> Result<kube::EC2NodeClass> {
            auto nc = controller_ptr->cluster().nodeclasses.Get(std::string(name));
            if (nc == nullptr) return NotFoundError("EC2NodeClass \"" + std::string(name) + "\" not found");
            return *nc;
          },
          .on_demand_prices = *prices});
  Controller controller(
      client, provider, [&provider](const kube::EC2NodeClassSpec& spec) { return provider.Resolve(spec); },
      core::RealClock(), options);
  controller_ptr = &controller;

  std::atomic<bool> leading{!f.leader_elect};
  auto metrics_server = Serve(f.metrics_listen, [&](apiserver::HttpRequest& r) {
    apiserver::HttpResponse out;
    if (r.path != "/metrics") return apiserver::HttpResponse{.status = 404, .content_type = "text/plain", .body = "not found\n"};
    out.content_type = "text/plain; version=0.0.4";
    out.body = controller.metrics().Render();
    return out;
  });
  auto health_server = Serve(f.health_listen, [&](apiserver::HttpRequest& r) {
    if (r.path == "/healthz" || r.path == "/livez") {
      return apiserver::HttpResponse{.status = 200, .content_type = "text/plain", .body = "ok\n"};
    }
    if (r.path == "/readyz") {
      // A standby replica is ready (it serves health and waits for the lease); the leader once
      // its caches have synced.
      bool ready = !leading.load() || controller.Ready();
      return apiserver::HttpResponse{.status = ready ? 200 : 503, .content_type = "text/plain",
                                     .body = ready ? "ok\n" : "caches not synced\n"};
    }
    return apiserver::HttpResponse{.status = 404, .content_type = "text/plain", .body = "not found\n"};
  });

  std::stop_source stop;
  std::jthread waiter([&](std::stop_token done) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (!done.stop_requested()) {
      kLog.Info("shutting down", {{"signal", sig}});
      stop.request_stop();
    }
  });
  kLog.Info("starting", {{"cluster", f.cluster_name}, {"region", (*session)->region},
                         {"ec2", (*session)->ec2_endpoint}, {"api-server", config->server}});
  int rc = 0;
  if (!f.leader_elect) {
    controller.Run(stop.get_token());
  } else {
    kube::LeaderElectionConfig election;
    election.lease_namespace = f.lease_namespace;
    election.lease_name = f.lease_name;
    election.identity = Identity();
    election.on_started_leading = [&](std::stop_token s) {
      kLog.Info("leading", {{"identity", election.identity}});
      leading = true;
      controller.Run(s);
    };
    election.on_new_leader = [](const std::string& leader) { kLog.Info("leader elected", {{"leader", leader}}); };
    auto elector = kube::LeaderElector::Create(client, election, core::RealClock());
    if (!elector.ok()) Fail(elector.status().message());
    (*elector)->Run(stop.get_token());
    if (!stop.stop_requested()) {
      kLog.Error("lost leadership; exiting so a restart campaigns again");
      rc = 1;
    }
  }
  if (!stop.stop_requested()) {
    waiter.request_stop();
    kill(getpid(), SIGTERM);
  }
  waiter.join();
  return rc;
}

}  // namespace

void AddCommands(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "controller", "Run the Karpenter-compatible provisioner (NodePool, NodeClaim, EC2NodeClass) against a cluster");
  cmd->add_option("--kubeconfig", f->kubeconfig, "kubeconfig file (default: KUBECONFIG, ~/.kube/config)");
  cmd->add_option("--context", f->context, "kubeconfig context");
  cmd->add_option("--region", f->region, "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile)");
  cmd->add_option("--aws-endpoint", f->aws_endpoint, "EC2 and SSM endpoint URL (e.g. the ec2-emulator's)");
  cmd->add_option("--profile", f->profile, "AWS shared config profile");
  cmd->add_option("--cluster-name", f->cluster_name, "Cluster name: instance tags, discovery")->capture_default_str();
  cmd->add_option("--cluster-endpoint", f->cluster_endpoint, "API server URL for nodes (default: the kubeconfig's)");
  cmd->add_option("--kubernetes-version", f->kubernetes_version, "Picks the AMI alias's SSM parameters")
      ->capture_default_str();
  cmd->add_option("--instance-data", f->instance_data, "On-demand price table")->capture_default_str();
  cmd->add_option("--batch-idle-duration", f->batch_idle, "Close a batch after this long without new pods")
      ->capture_default_str();
  cmd->add_option("--batch-max-duration", f->batch_max, "Close a batch this long after it opened")->capture_default_str();
  cmd->add_option("--launch-timeout", f->launch_timeout, "Delete a NodeClaim not launched within this")
      ->capture_default_str();
  cmd->add_option("--registration-timeout", f->registration_timeout,
                  "Delete a NodeClaim whose Node has not registered this long after launch")
      ->capture_default_str();
  cmd->add_option("--pending-pods", f->pending_pods,
                  "unschedulable: only pods kube-scheduler marked Unschedulable (Karpenter); unbound: also unbound pods "
                  "no scheduler has looked at (clusters without kube-scheduler)")
      ->capture_default_str();
  cmd->add_option("--metrics-listen", f->metrics_listen, "Loopback address for /metrics (empty: off)")
      ->capture_default_str();
  cmd->add_option("--health-listen", f->health_listen, "Loopback address for /healthz and /readyz (empty: off)")
      ->capture_default_str();
  cmd->add_option("--leader-elect", f->leader_elect, "Campaign for a Lease before running")->capture_default_str();
  cmd->add_option("--lease-namespace", f->lease_namespace, "Namespace of the leader election Lease")
      ->capture_default_str();
  cmd->add_option("--lease-name", f->lease_name, "Name of the leader election Lease")->capture_default_str();
  cmd->add_option("--gc-interval", f->gc_interval, "How often leaked instances and orphaned NodeClaims are collected")
      ->capture_default_str();
  cmd->add_option("--lifecycle-workers", f->lifecycle_workers, "Concurrent NodeClaim reconciles")->capture_default_str();
  cmd->callback([f] {
    int rc = Run(*f);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace gpufleet::provisioner
