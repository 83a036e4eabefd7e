#include "cloud/aws/unavailable_offerings.h"

namespace gpufleet::cloud::aws {

void UnavailableOfferings::MarkUnavailable(const std::string& instance_type, const std::string& zone,
                                           const std::string& capacity_type) {
  std::lock_guard lock(mu_);
  offerings_[{instance_type, zone, capacity_type}] = clock_.Now() + ttl_;
}

void UnavailableOfferings::MarkReservationExhausted(const std::string& reservation_id) {
  std::lock_guard lock(mu_);
  reservations_[reservation_id] = clock_.Now() + ttl_;
}

bool UnavailableOfferings::IsUnavailable(const std::string& instance_type, const std::string& zone,
                                         const std::string& capacity_type) const {
  std::lock_guard lock(mu_);
  auto it = offerings_.find({instance_type, zone, capacity_type});
  return it != offerings_.end() && clock_.Now() < it->second;
}

bool UnavailableOfferings::IsReservationExhausted(const std::string& reservation_id) const {
  std::lock_guard lock(mu_);
  auto it = reservations_.find(reservation_id);
  return it != reservations_.end() && clock_.Now() < it->second;
}

size_t UnavailableOfferings::size() const {
  std::lock_guard lock(mu_);
  const auto now = clock_.Now();
  size_t n = 0;
  for (const auto& [k, until] : offerings_) n += now < until;
  for (const auto& [k, until] : reservations_) n += now < until;
  return n;
}

}  // namespace gpufleet::cloud::aws
