// `gpufleet controller`: the Karpenter-compatible provisioner against a Kubernetes API server
// and EC2 (or the EC2 emulator). See docs/provisioner.md.
#pragma once

#include <CLI/CLI.hpp>

namespace gpufleet::provisioner {

void AddCommands(CLI::App& app);

}  // namespace gpufleet::provisioner
