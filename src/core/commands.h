// `gpufleet tools ...`: command-line access to the core parsers, for operators checking what
// gpufleet (and Kubernetes) make of a value: quantity, yaml2json, selector, duration.
#pragma once

#include <CLI/CLI.hpp>

namespace gpufleet::core {

void AddCommands(CLI::App& app);

}  // namespace gpufleet::core
