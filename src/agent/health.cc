#include "agent/health.h"

#include <cstdlib>
#include <sstream>

#include "core/log.h"

namespace gpufleet::agent {
namespace {

const core::log::Logger kLog("agent.health");

Result<std::set<uint64_t>> ParseXids(const std::string& text, const char* variable) {
  std::set<uint64_t> out;
  std::stringstream in(text);
  for (std::string token; std::getline(in, token, ',');) {
    while (!token.empty() && token.front() == ' ') token.erase(token.begin());
    while (!token.empty() && token.back() == ' ') token.pop_back();
    if (token.empty()) continue;
    char* end = nullptr;
    unsigned long long v = std::strtoull(token.c_str(), &end, 10);
    if (*end != '\0') return InvalidArgumentError(std::string(variable) + ": \"" + token + "\" is not an Xid number");
    out.insert(v);
  }
  return out;
}

std::string Describe(const gpu::GpuEvent& e) {
  switch (e.kind) {
    case gpu::GpuEvent::Kind::kDoubleBitEcc: return "double-bit ECC error";
    case gpu::GpuEvent::Kind::kSingleBitEcc: return "single-bit ECC error";
    case gpu::GpuEvent::Kind::kXid: return "Xid " + std::to_string(e.xid);
  }
  return "event";
}

}  // namespace

Status ApplyHealthEnvironment(HealthOptions& options, const std::function<const char*(const char*)>& getenv) {
  if (const char* v = getenv("DP_DISABLE_HEALTHCHECKS"); v != nullptr && *v != '\0') {
    const std::string text(v);
    if (text == "all" || text == "xids") {
      options.disabled = true;
    } else {
      GF_ASSIGN_OR_RETURN(auto extra, ParseXids(text, "DP_DISABLE_HEALTHCHECKS"));
      options.ignored_xids.insert(extra.begin(), extra.end());
    }
  }
  if (const char* v = getenv("DP_ENABLE_HEALTHCHECKS"); v != nullptr && *v != '\0') {
    GF_ASSIGN_OR_RETURN(options.forced_xids, ParseXids(v, "DP_ENABLE_HEALTHCHECKS"));
  }
  return OkStatus();
}

bool HealthState::IsCriticalXid(uint64_t xid) const {
  if (options_.forced_xids.contains(xid)) return true;
  return !options_.ignored_xids.contains(xid);
}

void HealthState::MarkUnhealthy(Device& d, std::string reason, core::TimePoint now) {
  d.healthy = false;
  d.reason = std::move(reason);
  d.last_critical = now;
  d.good_probes = 0;
}

bool HealthState::OnEvent(const gpu::GpuEvent& event, core::TimePoint now) {
  if (options_.disabled) return false;
  Device& d = devices_[event.device_index];
  bool critical = false;
  switch (event.kind) {
    case gpu::GpuEvent::Kind::kXid: critical = IsCriticalXid(event.xid); break;
    case gpu::GpuEvent::Kind::kDoubleBitEcc: critical = true; break;
    case gpu::GpuEvent::Kind::kSingleBitEcc: critical = false; break;  // corrected: counted only
  }
  if (!critical) return false;
  const bool was_healthy = d.healthy;
  MarkUnhealthy(d, Describe(event), now);  // a new critical event restarts the quiet period
  return was_healthy;
}

bool HealthState::OnProbe(unsigned index, const Status& probe, core::TimePoint now) {
  Device& d = devices_[index];
  if (!probe.ok()) {
    if (options_.disabled && probe.code() != StatusCode::kUnavailable) return false;
    const bool was_healthy = d.healthy;
    MarkUnhealthy(d, std::string(probe.message()), now);  // recovery counts from the last failure
    return was_healthy;
  }
  if (d.healthy) return false;
  ++d.good_probes;
  if (now - d.last_critical < options_.recovery_quiet || d.good_probes < options_.probes_to_recover) return false;
  d.healthy = true;
  d.reason.clear();
  d.good_probes = 0;
  return true;
}

bool HealthState::Healthy(unsigned index) const {
  auto it = devices_.find(index);
  return it == devices_.end() || it->second.healthy;
}

std::string HealthState::Reason(unsigned index) const {
  auto it = devices_.find(index);
  return it == devices_.end() ? "" : it->second.reason;
}

Status ProbeGpu(gpu::GpuBackend& backend, unsigned index) {
  GF_ASSIGN_OR_RETURN(gpu::DeviceInfo d, backend.Device(index));
  if (d.remapped_rows && d.remapped_rows->failure) return FailedPreconditionError("row remapping failed (needs RMA)");
  if (d.remapped_rows && d.remapped_rows->pending) return FailedPreconditionError("row remap pending (needs a GPU reset)");
  return OkStatus();
}

HealthMonitor::HealthMonitor(gpu::GpuBackend& backend, core::Clock& clock, HealthOptions options,
                             std::function<void(unsigned, bool, const std::string&)> on_change)
    : backend_(backend), clock_(clock), options_(options), state_(options), on_change_(std::move(on_change)) {}

void HealthMonitor::Run(std::stop_token stop) {
  auto count = backend_.DeviceCount();
  if (!count.ok()) {
    kLog.Error("cannot count GPUs; health checks off", {{"error", count.status()}});
    return;
  }
  bool events = false;
  for (unsigned i = 0; i < *count; ++i) {
    Status s = backend_.Watch(i);
    if (s.ok()) {
      events = true;
    } else if (s.code() == StatusCode::kNotFound) {
      kLog.Info("GPU has no event support; probing only", {{"gpu", i}, {"reason", s}});
    } else if (state_.OnProbe(i, s, clock_.Now())) {
      on_change_(i, false, state_.Reason(i));  // e.g. lost before we started
    }
  }
  core::TimePoint next_probe = clock_.Now() + options_.probe_interval;
  while (!stop.stop_requested()) {
    if (events) {
      auto e = backend_.WaitEvent(options_.event_wait);
      if (!e.ok()) {
        // NVIDIA's plugin marks every GPU unhealthy when the wait itself fails; we probe instead,
        // so one broken event channel does not take healthy GPUs away.
        kLog.Warn("waiting for GPU events failed; probing", {{"error", e.status()}});
        next_probe = clock_.Now();
        if (!clock_.SleepFor(std::chrono::seconds(1), stop)) return;
      } else if (e->has_value()) {
        const gpu::GpuEvent& event = **e;
        const bool changed = state_.OnEvent(event, clock_.Now());
        kLog.Info("GPU event", {{"gpu", event.device_index}, {"event", Describe(event)},
                                {"critical", !state_.Healthy(event.device_index)}});
        if (changed) on_change_(event.device_index, false, state_.Reason(event.device_index));
      }
    } else if (!clock_.SleepUntil(next_probe, stop)) {
      return;
    }
    if (clock_.Now() < next_probe) continue;
    next_probe = clock_.Now() + options_.probe_interval;
    for (unsigned i = 0; i < *count; ++i) {
      if (state_.OnProbe(i, ProbeGpu(backend_, i), clock_.Now())) {
        on_change_(i, state_.Healthy(i), state_.Reason(i));
      }
    }
  }
}

}  // namespace gpufleet::agent
