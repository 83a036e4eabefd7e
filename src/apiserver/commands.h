// `gpufleet apiserver`: runs the embedded Kubernetes-compatible API server in the foreground.
#pragma once

#include <CLI/CLI.hpp>

namespace gpufleet::apiserver {

void AddCommands(CLI::App& app);

}  // namespace gpufleet::apiserver
