// The agent's configuration: NVIDIA k8s-device-plugin's config file format (version v1), accepted
// as is, so a ConfigMap written for the NVIDIA plugin works unchanged:
//
//   version: v1
//   flags:
//     migStrategy: none | single | mixed
//     failOnInitError: true
//     nvidiaDriverRoot: /
//     plugin:
//       passDeviceSpecs: false
//       deviceListStrategy: envvar | volume-mounts | cdi-annotations | cdi-cri  (or a list)
//       deviceIDStrategy: uuid | index
//   sharing:
//     timeSlicing:            # or mps: (the two are mutually exclusive)
//       renameByDefault: false
//       failRequestsGreaterThanOne: false
//       resources:
//       - name: nvidia.com/gpu
//         replicas: 10
//
// Precedence, as NVIDIA's: command-line flag > environment variable > file > default.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace gpufleet::agent {

enum class MigStrategy { kNone, kSingle, kMixed };
enum class SharingStrategy { kNone, kTimeSlicing, kMps };

struct ReplicatedResource {
  std::string name;  // nvidia.com/gpu, or a MIG resource
  int replicas = 1;
};

struct AgentConfig {
  MigStrategy mig_strategy = MigStrategy::kNone;
  bool fail_on_init_error = true;
  std::string driver_root = "/";
  bool pass_device_specs = false;
  // Any of envvar, volume-mounts, cdi-annotations, cdi-cri (combinable).
  std::vector<std::string> device_list_strategy = {"envvar"};
  std::string device_id_strategy = "uuid";  // uuid | index
  SharingStrategy sharing = SharingStrategy::kNone;
  bool rename_by_default = false;
  bool fail_requests_greater_than_one = false;
  std::vector<ReplicatedResource> replicated;
  std::string cdi_annotation_prefix = "cdi.k8s.io/";
  std::string mps_root;  // --mps-root (MPS only)

  // Replicas configured for `resource` (1 when not shared).
  int ReplicasFor(const std::string& resource) const;
};

// Parses a v1 config file (YAML or JSON) over `base`. Errors name the field and the value:
// 'sharing.timeSlicing.resources[0].replicas: must be at least 1, got 0'.
Result<AgentConfig> ParseConfig(std::string_view text, AgentConfig base = {});

// The environment variables NVIDIA's plugin reads (MIG_STRATEGY, FAIL_ON_INIT_ERROR,
// NVIDIA_DRIVER_ROOT, PASS_DEVICE_SPECS, DEVICE_LIST_STRATEGY, DEVICE_ID_STRATEGY), applied over
// `config`. `getenv` is injectable for tests.
Result<AgentConfig> ApplyEnvironment(AgentConfig config, const std::function<const char*(const char*)>& getenv);

// Checks the combination (e.g. MPS with mixed MIG is refused, as NVIDIA's plugin refuses it).
Status Validate(const AgentConfig& config);

std::string_view MigStrategyName(MigStrategy s);
std::string_view SharingStrategyName(SharingStrategy s);  // none | time-slicing | mps

}  // namespace gpufleet::agent
