// Helpers for the agent tests: mock machines from the GPU catalogue and their device lists.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "agent/resources.h"
#include "gpu/mock_backend.h"

namespace gpufleet::agent::testing {

inline std::unique_ptr<gpu::MockGpuBackend> MockMachine(const std::string& profile_or_json, const std::string& seed = "node") {
  auto catalog = gpu::LoadGpuCatalog(std::string(GPUFLEET_DATA_DIR) + "/gpu-models.json");
  EXPECT_TRUE(catalog.ok()) << catalog.status();
  auto spec = profile_or_json.starts_with("{") ? gpu::ParseMockMachine(*catalog, profile_or_json)
                                               : gpu::ResolveMockMachine(*catalog, profile_or_json);
  EXPECT_TRUE(spec.ok()) << spec.status();
  return std::make_unique<gpu::MockGpuBackend>(spec.ok() ? *spec : gpu::MockMachineSpec{}, seed);
}

inline std::vector<gpu::DeviceInfo> Gpus(gpu::GpuBackend& backend) {
  std::vector<gpu::DeviceInfo> out;
  for (unsigned i = 0; i < *backend.DeviceCount(); ++i) out.push_back(*backend.Device(i));
  return out;
}

inline MigMap Mig(gpu::GpuBackend& backend) {
  MigMap out;
  for (unsigned i = 0; i < *backend.DeviceCount(); ++i) {
    auto m = backend.MigDevices(i);
    if (m.ok() && !m->empty()) out[i] = *m;
  }
  return out;
}

}  // namespace gpufleet::agent::testing
