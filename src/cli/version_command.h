// `gpufleet version`: prints the version, git commit and build type.
#pragma once

#include <CLI/CLI.hpp>

namespace gpufleet::cli {

void AddVersionCommand(CLI::App& app);

}  // namespace gpufleet::cli
