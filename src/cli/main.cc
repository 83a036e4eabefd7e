// gpufleet: one binary, one subcommand per job. Every module adds its own subcommands here, in one
// place, so the wiring is explicit (no static registration).
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "agent/commands.h"
#include "apiserver/commands.h"
#include "cli/version_command.h"
#include "cloud/aws/commands.h"
#include "cloud/ec2emu/commands.h"
#include "core/commands.h"
#include "core/log.h"
#include "gpu/commands.h"
#include "image/commands.h"
#include "kube/commands.h"
#include "provisioner/commands.h"
#include "sim/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "gpufleet: GPU infrastructure for LLM inference on Kubernetes.\n"
      "GPU node provisioning (Karpenter-compatible), GPU node agent (NVIDIA device plugin\n"
      "compatible), fast image start (SOCI-compatible) and GPU validation, in one binary.",
      "gpufleet"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  std::string log_level = "info";
  std::string log_format = "console";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str();
  app.add_option("--log-format", log_format, "console or json")->capture_default_str();
  app.parse_complete_callback([&] {
    auto level = gpufleet::core::log::ParseLevel(log_level);
    auto format = gpufleet::core::log::ParseFormat(log_format);
    if (!level.ok()) throw CLI::ValidationError("--log-level", std::string(level.status().message()));
    if (!format.ok()) throw CLI::ValidationError("--log-format", std::string(format.status().message()));
    gpufleet::core::log::Configure(*level, *format);
  });

  // Each module adds its own subcommands.
  gpufleet::cli::AddVersionCommand(app);
  gpufleet::core::AddCommands(app);
  gpufleet::apiserver::AddCommands(app);
  gpufleet::kube::AddCommands(app);
  gpufleet::cloud::ec2emu::AddCommands(app);
  gpufleet::cloud::aws::AddCommands(app);
  gpufleet::provisioner::AddCommands(app);
  gpufleet::gpu::AddCommands(app);
  gpufleet::agent::AddCommands(app);
  gpufleet::image::AddCommands(app);
  gpufleet::sim::AddCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
