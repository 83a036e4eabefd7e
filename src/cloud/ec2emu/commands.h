// `gpufleet ec2-emulator`: runs the EC2 + SSM emulator in the foreground (docs/cloud.md).
#pragma once

#include <CLI/CLI.hpp>

namespace gpufleet::cloud::ec2emu {

void AddCommands(CLI::App& app);

// Where data/aws-instance-types.json is when no flag names it: $GPUFLEET_DATA_DIR, then
// <binary>/../data and <binary>/../share/gpufleet (installed layouts), then the source tree the
// binary was built from.
std::string DefaultInstanceData();

}  // namespace gpufleet::cloud::ec2emu
