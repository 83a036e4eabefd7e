// Node labels: GPU Feature Discovery's label set, computed from what the backend reports and the
// agent's config, plus nvidia.com/gpu.present=true (the seed's pods select it; GFD itself does not
// set it). Delivered to the Node by server-side apply under the field manager "gpufleet-agent"
// (labels the agent no longer sets are removed by the API server, others' labels are untouched)
// and, optionally, written as NFD's local features file (features.d/gfd), atomically.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/config.h"
#include "agent/resources.h"
#include "core/status.h"
#include "gpu/device.h"

namespace gpufleet::kube {
class Client;
}

namespace gpufleet::agent {

using LabelMap = std::map<std::string, std::string>;

struct LabelInputs {
  gpu::SystemInfo system;
  std::vector<gpu::DeviceInfo> gpus;
  MigMap mig;
  std::string machine;  // /sys/class/dmi/id/product_name (the instance type on EC2)
  std::optional<int64_t> timestamp;  // nvidia.com/gfd.timestamp; none with --no-timestamp
};

LabelMap GfdLabels(const AgentConfig& config, const LabelInputs& in);

// "NVIDIA H100 80GB HBM3" -> "NVIDIA-H100-80GB-HBM3" (GFD's sanitising).
std::string SanitizeLabelValue(const std::string& text);
// "hopper", "ada-lovelace", ... from the compute capability.
std::string GpuFamily(int major, int minor);

// Server-side apply of `labels` to Node `node` (field manager gpufleet-agent, forced).
Status ApplyNodeLabels(kube::Client& client, const std::string& node, const LabelMap& labels);

// NFD's local feature file: one "key=value" per line, written to a temporary file and renamed.
Status WriteFeatureFile(const std::string& path, const LabelMap& labels);

}  // namespace gpufleet::agent
