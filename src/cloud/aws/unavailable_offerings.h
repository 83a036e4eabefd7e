// UnavailableOfferings: Karpenter's insufficient-capacity cache. An offering (type, zone,
// capacity type) that EC2 refused for capacity is skipped for 3 minutes, so the next solve falls
// back to another type, zone or NodePool instead of asking EC2 again; an exhausted reservation is
// skipped the same way. Thread-safe; time from the injected clock.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "core/clock.h"
#include "core/thread_annotations.h"

namespace gpufleet::cloud::aws {

class UnavailableOfferings {
 public:
  explicit UnavailableOfferings(core::Clock& clock, std::chrono::seconds ttl = std::chrono::minutes(3))
      : clock_(clock), ttl_(ttl) {}

  void MarkUnavailable(const std::string& instance_type, const std::string& zone, const std::string& capacity_type);
  void MarkReservationExhausted(const std::string& reservation_id);
  bool IsUnavailable(const std::string& instance_type, const std::string& zone, const std::string& capacity_type) const;
  bool IsReservationExhausted(const std::string& reservation_id) const;
  // Entries still in force (for metrics and tests).
  size_t size() const;

 private:
  core::Clock& clock_;
  const std::chrono::seconds ttl_;
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string>, core::TimePoint> offerings_ GF_GUARDED_BY(mu_);
  std::map<std::string, core::TimePoint> reservations_ GF_GUARDED_BY(mu_);
};

}  // namespace gpufleet::cloud::aws
