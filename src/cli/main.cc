// gpufleet: one binary, one subcommand per job. Every module adds its own subcommands here, in one
// place, so the wiring is explicit (no static registration).
#include <CLI/CLI.hpp>

#include <iostream>

#include "cli/version_command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "gpufleet: GPU infrastructure for LLM inference on Kubernetes.\n"
      "GPU node provisioning (Karpenter-compatible), GPU node agent (NVIDIA device plugin\n"
      "compatible), fast image start (SOCI-compatible) and GPU validation, in one binary.",
      "gpufleet"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  gpufleet::cli::AddVersionCommand(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
