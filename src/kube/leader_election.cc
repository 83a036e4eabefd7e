#include "kube/leader_election.h"

#include <random>
#include <thread>

#include "core/log.h"
#include "core/time_format.h"

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;
const core::log::Logger kLog("kube.leader");
const Gvr kLeases{"coordination.k8s.io", "v1", "leases", true};

core::Duration Jittered(std::chrono::seconds d) {
  thread_local std::mt19937 rng{std::random_device{}()};
  std::uniform_real_distribution<double> factor(1.0, 1.2);  // client-go's JitterFactor 1.2
  return std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(d) * factor(rng));
}

}  // namespace

Result<std::unique_ptr<LeaderElector>> LeaderElector::Create(Client& client, LeaderElectionConfig config,
                                                             core::Clock& clock) {
  if (config.lease_name.empty()) return InvalidArgumentError("leader election: lease name is required");
  if (config.identity.empty()) return InvalidArgumentError("leader election: identity is required");
  if (config.lease_duration <= config.renew_deadline) {
    return InvalidArgumentError("leader election: lease duration must be greater than the renew deadline");
  }
  if (std::chrono::duration<double>(config.renew_deadline) <= 1.2 * std::chrono::duration<double>(config.retry_period)) {
    return InvalidArgumentError("leader election: renew deadline must be greater than 1.2 × the retry period");
  }
  if (!config.on_started_leading) return InvalidArgumentError("leader election: on_started_leading is required");
  return std::unique_ptr<LeaderElector>(new LeaderElector(client, std::move(config), clock));
}

LeaderElector::LeaderElector(Client& client, LeaderElectionConfig config, core::Clock& clock)
    : client_(client), config_(std::move(config)), clock_(clock) {}

bool LeaderElector::IsLeader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

std::string LeaderElector::ObservedLeader() const {
  std::lock_guard lock(mu_);
  return observed_holder_;
}

bool LeaderElector::TryAcquireOrRenew() {
  const core::TimePoint now = clock_.Now();
  const std::string now_text = core::FormatRfc3339Micro(now);
  auto current = client_.Get(kLeases, config_.lease_namespace, config_.lease_name);
  if (!current.ok()) {
    if (current.status().code() != StatusCode::kNotFound) {
      kLog.Warn("reading the lease failed", {{"lease", config_.lease_name}, {"error", current.status().ToString()}});
      return false;
    }
    json lease = {{"apiVersion", "coordination.k8s.io/v1"}, {"kind", "Lease"},
                  {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
                  {"spec", {{"holderIdentity", config_.identity},
                            {"leaseDurationSeconds", config_.lease_duration.count()},
                            {"acquireTime", now_text}, {"renewTime", now_text}, {"leaseTransitions", 0}}}};
    if (!client_.Create(kLeases, config_.lease_namespace, lease).ok()) return false;  // lost the race
    std::lock_guard lock(mu_);
    observed_holder_ = config_.identity;
    observed_record_ = config_.identity + "@" + now_text;
    observed_time_ = now;
    return true;
  }
  json lease = std::move(*current);
  json& spec = lease["spec"];
  if (!spec.is_object()) spec = json::object();
  const std::string holder = spec.value("holderIdentity", "");
  const std::string record = holder + "@" + spec.value("renewTime", "");
  {
    std::lock_guard lock(mu_);
    if (record != observed_record_) {
      observed_record_ = record;
      observed_time_ = now;  // local time of the observed change, not the record's own time
      if (holder != observed_holder_) {
        observed_holder_ = holder;
        if (config_.on_new_leader && !holder.empty()) config_.on_new_leader(holder);
      }
    }
    const auto duration = std::chrono::seconds(spec.value("leaseDurationSeconds", int64_t{0}));
    const bool expired = observed_time_ + duration <= now;
    if (!holder.empty() && holder != config_.identity && !expired) return false;
  }
  if (holder != config_.identity) {
    spec["acquireTime"] = now_text;
    spec["leaseTransitions"] = spec.value("leaseTransitions", int64_t{0}) + (holder.empty() ? 0 : 1);
  }
  spec["holderIdentity"] = config_.identity;
  spec["leaseDurationSeconds"] = config_.lease_duration.count();
  spec["renewTime"] = now_text;
  if (!client_.Update(kLeases, config_.lease_namespace, lease).ok()) return false;  // 409: someone else wrote
  std::lock_guard lock(mu_);
  observed_holder_ = config_.identity;
  observed_record_ = config_.identity + "@" + now_text;
  observed_time_ = now;
  return true;
}

void LeaderElector::Release() {
  auto current = client_.Get(kLeases, config_.lease_namespace, config_.lease_name);
  if (!current.ok() || (*current)["spec"].value("holderIdentity", "") != config_.identity) return;
  json lease = std::move(*current);
  const std::string now_text = core::FormatRfc3339Micro(clock_.Now());
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = now_text;
  lease["spec"]["acquireTime"] = now_text;
  if (!client_.Update(kLeases, config_.lease_namespace, lease).ok()) {
    kLog.Warn("releasing the lease failed", {{"lease", config_.lease_name}});
  }
}

void LeaderElector::Run(std::stop_token stop) {
  // Campaign.
  while (!TryAcquireOrRenew()) {
    if (!clock_.SleepFor(Jittered(config_.retry_period), stop)) return;
  }
  {
    std::lock_guard lock(mu_);
    leader_ = true;
  }
  kLog.Info("became leader", {{"lease", config_.lease_name}, {"identity", config_.identity}});
  std::stop_source leading;
  std::jthread work([&, token = leading.get_token()] { config_.on_started_leading(token); });
  // Renew every retry period; give up when no renewal succeeded within the renew deadline.
  core::TimePoint last_renew = clock_.Now();
  while (!stop.stop_requested()) {
    if (!clock_.SleepFor(config_.retry_period, stop)) break;
    if (TryAcquireOrRenew()) {
      last_renew = clock_.Now();
    } else if (clock_.Now() - last_renew >= config_.renew_deadline) {
      kLog.Warn("lost leadership: could not renew the lease", {{"lease", config_.lease_name}});
      break;
    }
  }
  leading.request_stop();
  work.join();
  {
    std::lock_guard lock(mu_);
    leader_ = false;
  }
  if (stop.stop_requested() && config_.release_on_cancel) Release();
  if (config_.on_stopped_leading) config_.on_stopped_leading();
}

}  // namespace gpufleet::kube
