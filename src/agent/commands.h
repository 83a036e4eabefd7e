// `gpufleet agent`: the GPU node agent (agent.h) as a process: NVIDIA device plugin flags and
// environment variables, the v1 config file, SIGTERM/SIGINT to stop, SIGHUP to serve and register
// again (re-reading the config file).
#pragma once

#include <CLI/CLI.hpp>

namespace gpufleet::agent {

void AddCommands(CLI::App& app);

}  // namespace gpufleet::agent
