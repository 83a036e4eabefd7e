// `gpufleet aws ...`: what the provider sees, for the engineer on call. Each subcommand uses the
// same session, resolver and instance-type code as the controller.
//   gpufleet aws whoami                               region, endpoints, credentials source
//   gpufleet aws resolve --nodeclass FILE             the EC2NodeClass status its selectors give
//   gpufleet aws instance-types --nodeclass FILE      types with offerings, prices, availability
#pragma once

#include <CLI/CLI.hpp>

namespace gpufleet::cloud::aws {

void AddCommands(CLI::App& app);

}  // namespace gpufleet::cloud::aws
