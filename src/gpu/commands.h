// `gpufleet smi`: the nvidia-smi compatible report (smi.h) from NVML, the mock or nothing.
#pragma once

#include <CLI/CLI.hpp>

#include "gpu/backend.h"

namespace gpufleet::gpu {

// Adds --gpu-backend, --driver-root, --mock-machine, --mock-seed and --gpu-models to `cmd`
// (defaults from GPUFLEET_GPU_BACKEND, GPUFLEET_MOCK_MACHINE, GPUFLEET_MOCK_SEED), for every
// command that opens a GpuBackend.
void AddBackendFlags(CLI::App* cmd, BackendOptions& options);

void AddCommands(CLI::App& app);

}  // namespace gpufleet::gpu
