// coordination.k8s.io/v1 Lease, complete: leader election and node heartbeats write it whole.
#pragma once

#include <optional>
#include <string>

#include "kube/types/meta.h"

namespace gpufleet::kube {

struct LeaseSpec {
  std::optional<std::string> holder_identity;
  std::optional<int32_t> lease_duration_seconds;
  std::optional<std::string> acquire_time;  // MicroTime
  std::optional<std::string> renew_time;    // MicroTime
  std::optional<int32_t> lease_transitions;
  std::optional<std::string> strategy;
  std::optional<std::string> preferred_holder;

  friend bool operator==(const LeaseSpec&, const LeaseSpec&) = default;
};

struct Lease {
  static constexpr std::string_view kApiVersion = "coordination.k8s.io/v1";
  static constexpr std::string_view kKind = "Lease";
  static constexpr bool kComplete = true;
  static Gvr Resource() { return {"coordination.k8s.io", "v1", "leases", true}; }

  ObjectMeta metadata;
  LeaseSpec spec;

  friend bool operator==(const Lease&, const Lease&) = default;
};

Status Decode(const nlohmann::json& j, const core::JsonPath& path, LeaseSpec& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, Lease& out);
nlohmann::json Encode(const LeaseSpec& v);
nlohmann::json Encode(const Lease& v);

}  // namespace gpufleet::kube
