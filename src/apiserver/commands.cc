#include "apiserver/commands.h"

#include <signal.h>

#include <iostream>
#include <memory>

#include "apiserver/server.h"
#include "core/log.h"

namespace gpufleet::apiserver {

void AddCommands(CLI::App& app) {
  auto options = std::make_shared<ApiServer::Options>();
  options->data_dir = ".gpufleet/apiserver";
  CLI::App* cmd = app.add_subcommand(
      "apiserver", "Run the embedded Kubernetes-compatible API server (TLS, token auth, SQLite)");
  cmd->add_option("--data-dir", options->data_dir, "State, certificates, tokens and kubeconfig")
      ->capture_default_str();
  cmd->add_option("--listen", options->listen, "host:port to serve on (loopback by default)")
      ->capture_default_str();
  cmd->add_option("--context-name", options->context_name, "Context name in the kubeconfig")
      ->capture_default_str();
  cmd->callback([options] {
    // Block the stop signals before any thread starts so only sigwait sees them.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    core::log::Logger log("apiserver");
    auto server = ApiServer::Start(*options, core::RealClock());
    if (!server.ok()) {
      std::cerr << "error: " << server.status().message() << "\n";
      throw CLI::RuntimeError(1);
    }
    log.Info("serving", {{"url", (*server)->url()},
                         {"kubeconfig", (*server)->kubeconfig_path().string()}});
    std::cout << "gpufleet apiserver ready at " << (*server)->url() << "\n"
              << "export KUBECONFIG=" << std::filesystem::absolute((*server)->kubeconfig_path()).string()
              << std::endl;
    int sig = 0;
    sigwait(&stop, &sig);
    log.Info("stopping", {{"signal", sig}});
    (*server)->Stop();
  });
}

}  // namespace gpufleet::apiserver
