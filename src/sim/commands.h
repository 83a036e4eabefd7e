// `gpufleet up`, `gpufleet down` and `gpufleet status`: the embedded cluster (docs/up.md).
#pragma once

#include <CLI/CLI.hpp>

namespace gpufleet::sim {

void AddCommands(CLI::App& app);

}  // namespace gpufleet::sim
