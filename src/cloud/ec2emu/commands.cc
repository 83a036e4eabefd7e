#include "cloud/ec2emu/commands.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>

#include "cloud/aws/aws_config.h"
#include "core/data_files.h"
#include "cloud/ec2emu/emulator.h"
#include "core/log.h"
#include "core/time_format.h"

namespace gpufleet::cloud::ec2emu {

void AddCommands(CLI::App& app) {
  struct Flags {
    std::string data_dir = "~/.gpufleet/ec2";
    std::string listen = "127.0.0.1:4566";
    std::string region = "us-west-2";
    std::string instance_data;
    std::string boot_delay = "10s";
    std::string faults;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "ec2-emulator",
      "Run an EC2 + SSM endpoint on loopback (Query API, SigV4, SQLite state) for the aws CLI, boto3 and gpufleet");
  cmd->add_option("--data-dir", flags->data_dir, "State (ec2.db) and the credentials file")->capture_default_str();
  cmd->add_option("--listen", flags->listen, "host:port on a loopback address; port 0 picks one")->capture_default_str();
  cmd->add_option("--region", flags->region, "The region this endpoint serves")->capture_default_str();
  cmd->add_option("--instance-data", flags->instance_data,
                  "aws-instance-types.json (default: found next to the binary or in the source tree)");
  cmd->add_option("--boot-delay", flags->boot_delay, "How long instances stay pending")->capture_default_str();
  cmd->add_option("--faults", flags->faults, "Fault injection file (YAML; see docs/cloud.md)");
  cmd->callback([flags] {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    auto fail = [](std::string_view message) {
      std::cerr << "error: " << message << "\n";
      throw CLI::RuntimeError(1);
    };
    EmulatorOptions options;
    options.data_dir = aws::Environment().ExpandHome(flags->data_dir);
    options.listen = flags->listen;
    options.region = flags->region;
    options.instance_data = flags->instance_data.empty() ? core::DefaultDataFile("aws-instance-types.json") : flags->instance_data;
    auto delay = core::ParseGoDuration(flags->boot_delay);
    if (!delay.ok() || delay->count() < 0) fail("--boot-delay \"" + flags->boot_delay + "\": not a duration such as 10s");
    options.service.boot_delay = std::chrono::duration_cast<std::chrono::milliseconds>(*delay);
    if (!flags->faults.empty()) {
      auto text = aws::ReadOptionalFile(flags->faults);
      if (!text.ok()) fail(text.status().message());
      if (!*text) fail("--faults \"" + flags->faults + "\": no such file");
      auto faults = ParseFaultConfig(**text, flags->faults);
      if (!faults.ok()) fail(faults.status().message());
      options.faults = *faults;
    }
    auto emulator = Emulator::Start(std::move(options));
    if (!emulator.ok()) fail(emulator.status().message());
    std::cout << "gpufleet ec2-emulator ready at " << (*emulator)->endpoint() << " (region " << (*emulator)->region()
              << ")\n"
              << "export AWS_ENDPOINT_URL=" << (*emulator)->endpoint() << "\n"
              << "export AWS_SHARED_CREDENTIALS_FILE=" << (*emulator)->credentials_file() << "\n"
              << "export AWS_REGION=" << (*emulator)->region() << std::endl;
    int sig = 0;
    sigwait(&stop, &sig);
    core::log::Logger("ec2emu").Info("stopping", {{"signal", sig}});
    (*emulator)->Stop();
  });
}

}  // namespace gpufleet::cloud::ec2emu
