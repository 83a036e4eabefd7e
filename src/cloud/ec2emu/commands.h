// `gpufleet ec2-emulator`: runs the EC2 + SSM emulator in the foreground (docs/cloud.md).
#pragma once

#include <CLI/CLI.hpp>

namespace gpufleet::cloud::ec2emu {

void AddCommands(CLI::App& app);

}  // namespace gpufleet::cloud::ec2emu
