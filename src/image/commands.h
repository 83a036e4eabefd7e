// `gpufleet image ...`: pull, inspect, index, cat, ls-files, convert, push (docs/image.md).
#pragma once

#include <CLI/CLI.hpp>

namespace gpufleet::image {

void AddCommands(CLI::App& app);

}  // namespace gpufleet::image
