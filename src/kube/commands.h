// `gpufleet kube …`: client-side tools on the kube library. `kube elect` runs leader election on
// a Lease (what every gpufleet controller does before acting) and reports leadership on stdout.
#pragma once

#include <CLI/CLI.hpp>

namespace gpufleet::kube {

void AddCommands(CLI::App& app);

}  // namespace gpufleet::kube
