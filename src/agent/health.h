// GPU health: which GPUs the kubelet may hand out.
//
// Inputs: NVML events (critical Xids, double-bit ECC; single-bit ECC is counted, never acted on)
// and a periodic probe (the GPU answers, no remapping failure, no pending row remap). NVIDIA's
// default ignored Xids (13, 31, 43, 45, 68, 109: application errors) never mark a GPU unhealthy;
// DP_DISABLE_HEALTHCHECKS ("all"/"xids", or a list of extra Xids to ignore) and
// DP_ENABLE_HEALTHCHECKS (Xids to act on even if ignored) work as in NVIDIA's plugin.
//
// Unlike NVIDIA's plugin, which never marks a device healthy again (#1014), a GPU comes back:
// once `recovery_quiet` has passed without another critical event *and* `probes_to_recover`
// consecutive probes pass (hysteresis, so a flapping GPU stays out). A lost GPU stays
// unhealthy until it answers again.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <stop_token>
#include <string>

#include "core/clock.h"
#include "gpu/backend.h"

namespace gpufleet::agent {

struct HealthOptions {
  bool disabled = false;              // DP_DISABLE_HEALTHCHECKS=all|xids
  std::set<uint64_t> ignored_xids = {13, 31, 43, 45, 68, 109};
  std::set<uint64_t> forced_xids;     // DP_ENABLE_HEALTHCHECKS
  std::chrono::seconds recovery_quiet{300};
  int probes_to_recover = 3;
  std::chrono::milliseconds probe_interval{std::chrono::seconds(30)};
  std::chrono::milliseconds event_wait{std::chrono::seconds(5)};
};

// Reads DP_DISABLE_HEALTHCHECKS / DP_ENABLE_HEALTHCHECKS into `options`. Errors name the variable
// and the token that is not an Xid.
Status ApplyHealthEnvironment(HealthOptions& options, const std::function<const char*(const char*)>& getenv);

// The decision, without threads or NVML: feed it events and probe results.
class HealthState {
 public:
  explicit HealthState(HealthOptions options) : options_(std::move(options)) {}

  // True when the event made GPU `event.device_index` unhealthy (it was healthy before).
  bool OnEvent(const gpu::GpuEvent& event, core::TimePoint now);
  // A probe of GPU `index`: ok, or why not. True when its health changed.
  bool OnProbe(unsigned index, const Status& probe, core::TimePoint now);

  bool Healthy(unsigned index) const;
  std::string Reason(unsigned index) const;  // why unhealthy ("" when healthy)
  bool IsCriticalXid(uint64_t xid) const;

 private:
  struct Device {
    bool healthy = true;
    std::string reason;
    core::TimePoint last_critical{};
    int good_probes = 0;
  };
  void MarkUnhealthy(Device& d, std::string reason, core::TimePoint now);

  HealthOptions options_;
  std::map<unsigned, Device> devices_;
};

// Checks what a probe checks on GPU `index` (readable, no remapping failure or pending remap).
Status ProbeGpu(gpu::GpuBackend& backend, unsigned index);

// The thread: registers every GPU for events, waits on them, probes every probe_interval, and
// calls `on_change(index, healthy, reason)` whenever a GPU's health changes.
class HealthMonitor {
 public:
  HealthMonitor(gpu::GpuBackend& backend, core::Clock& clock, HealthOptions options,
                std::function<void(unsigned, bool, const std::string&)> on_change);
  void Run(std::stop_token stop);

 private:
  gpu::GpuBackend& backend_;
  core::Clock& clock_;
  HealthOptions options_;
  HealthState state_;
  std::function<void(unsigned, bool, const std::string&)> on_change_;
};

}  // namespace gpufleet::agent
