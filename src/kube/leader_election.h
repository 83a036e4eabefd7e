// LeaderElector: client-go's leader election on a coordination.k8s.io/v1 Lease.
//
// Candidates read the Lease and take it when it is free, theirs, or expired; the holder renews
// it every RetryPeriod and gives up leadership if it cannot renew within RenewDeadline. Writes
// are PUTs of the object last read, so the Lease's resourceVersion decides races (409 = lost).
// Expiry is judged on the local clock: a candidate notes *when it saw* the record change and
// treats the lease as expired LeaseDuration after that, so clock skew between machines does not
// matter. On shutdown the holder releases the Lease (empty holder, 1 s duration) so a successor
// need not wait for expiry. Defaults 15 s / 10 s / 2 s; LeaseDuration > RenewDeadline >
// 1.2 × RetryPeriod is enforced.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "kube/client.h"

namespace gpufleet::kube {

struct LeaderElectionConfig {
  std::string lease_namespace = "kube-system";
  std::string lease_name;
  std::string identity;  // unique per process, e.g. hostname + "_" + a random suffix
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  bool release_on_cancel = true;
  // Runs (on its own thread) once leadership is acquired; its stop token is requested when
  // leadership is lost or the elector stops. Must return promptly after that.
  std::function<void(std::stop_token)> on_started_leading;
  std::function<void()> on_stopped_leading;
  std::function<void(const std::string& leader)> on_new_leader;  // observed holder changed
};

class LeaderElector {
 public:
  // InvalidArgument when the timings or names are inconsistent.
  static Result<std::unique_ptr<LeaderElector>> Create(Client& client, LeaderElectionConfig config,
                                                       core::Clock& clock);

  // Campaigns, leads while it can renew, and returns when `stop` is requested (releasing the
  // Lease if configured) or leadership was lost (client-go's processes then exit and restart).
  void Run(std::stop_token stop);
  bool IsLeader() const;
  std::string ObservedLeader() const;

 private:
  LeaderElector(Client& client, LeaderElectionConfig config, core::Clock& clock);
  // One attempt to take or renew the Lease. True if this process holds it afterwards.
  bool TryAcquireOrRenew();
  void Release();

  Client& client_;
  const LeaderElectionConfig config_;
  core::Clock& clock_;
  mutable std::mutex mu_;
  std::string observed_holder_;
  std::string observed_record_;    // holder + renewTime as last read: a change restarts expiry
  core::TimePoint observed_time_{};
  bool leader_ = false;
};

}  // namespace gpufleet::kube
