// Fault injection for the EC2 emulator, so the provider's failure paths are exercised over the
// real wire: insufficient capacity per (type, zone, capacity type), throttling, server errors and
// slow responses. Read from a YAML/JSON file (`gpufleet ec2-emulator --faults FILE`) or set by
// tests through Emulator::SetFaults.
//
//   insufficientCapacity:            # CreateFleet/RunInstances answer InsufficientInstanceCapacity
//     - {instanceType: g6e.2xlarge, zone: us-west-2a, capacityType: on-demand}   # "" or absent: any
//   throttle: {next: 3}              # the next 3 calls: RequestLimitExceeded (503)
//   throttle: {every: 4}             # or every 4th call
//   serverErrors: {next: 1}          # the next call: InternalError (500)
//   latency: 250ms                   # added to every response
//   actions: [CreateFleet]           # throttle/serverErrors/latency only for these (default: all)
#pragma once

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace gpufleet::cloud::ec2emu {

struct CapacityPool {
  std::string instance_type;  // "" matches any
  std::string zone;
  std::string capacity_type;  // on-demand, spot, reserved, capacity-block
  bool Matches(std::string_view type, std::string_view z, std::string_view capacity) const;
};

struct FaultConfig {
  std::vector<CapacityPool> insufficient_capacity;
  int throttle_next = 0;
  int throttle_every = 0;
  int server_errors_next = 0;
  std::chrono::milliseconds latency{0};
  std::set<std::string, std::less<>> actions;  // empty: every action

  bool AppliesTo(std::string_view action) const { return actions.empty() || actions.contains(action); }
  bool InsufficientCapacity(std::string_view type, std::string_view zone, std::string_view capacity) const;
};

// Parses the file format above. Errors name `source` and the offending field.
Result<FaultConfig> ParseFaultConfig(std::string_view text, std::string_view source);

}  // namespace gpufleet::cloud::ec2emu
