// The solver's working state: existing nodes taking pods, and NodeClaims being built from a
// NodePool's template (Karpenter's ExistingNode, NodeClaimTemplate and NodeClaim). Internal to
// scheduling/: Solve is the interface.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "scheduling/model.h"
#include "scheduling/resource_vector.h"
#include "scheduling/topology.h"

namespace gpufleet::scheduling {

// True when a port of `wanted` clashes with one of `used` (same port and protocol, and either
// address is a wildcard or both are equal): kube-scheduler's NodePorts filter.
bool HostPortConflict(const std::vector<HostPort>& used, const std::vector<HostPort>& wanted);

// The cheapest available offering of `type` allowed by `reqs` (zone, capacity type,
// reservation); nullptr when none.
const Offering* CheapestOffering(const InstanceType& type, const core::Requirements& reqs);

// Everything a solve precomputes once: dense resource vectors of pods and instance types, and
// offering bitmasks so that narrowing a claim's zone or capacity type is a bit test per type.
// How many more instances each capacity reservation can start in this solve, and which claims
// (by placeholder hostname) hold which reservations (Karpenter's ReservationManager).
class ReservationLedger {
 public:
  explicit ReservationLedger(const Input& in);
  bool Any() const { return !remaining_.empty(); }
  // Takes one instance of `id` for `claim`, or confirms it already holds one.
  bool Reserve(const std::string& claim, const std::string& id);
  void Release(const std::string& claim, const std::string& id);
  bool Holds(const std::string& claim, const std::string& id) const;
  std::vector<std::string> Held(const std::string& claim) const;
  // How many more instances `id` can start (0 for an unknown reservation).
  int64_t Remaining(const std::string& id) const;

 private:
  std::unordered_map<std::string, int64_t> remaining_;
  std::unordered_map<std::string, std::set<std::string>> held_;
};

class SolveContext {
 public:
  SolveContext(const Input& in, const Options& options);

  const Input& in;
  const Options& options;
  ResourceIndex resources;
  std::vector<ResourceVector> pod_requests;    // with one "pods" each
  std::vector<ResourceVector> type_allocatable;
  std::vector<ResourceVector> type_capacity;
  // Types with at least one reserved offering (scanned when claims reserve capacity).
  std::vector<bool> type_has_reserved;
  // Mutable during the solve: claims take and release reservations as pods are added.
  mutable ReservationLedger reservations;

  // One bit per (zone, capacity type) that `reqs` allow; nullopt when the mask cannot answer
  // (a reservation id is constrained, or there are more than 21 zones): use CheapestOffering.
  std::optional<uint64_t> AllowedOfferings(const core::Requirements& reqs) const;
  // The (zone, capacity type) bits of the type's available offerings.
  uint64_t OfferingMask(size_t type) const { return masks_[type]; }
  // The lowest price among the type's available offerings in `allowed` (a mask from
  // AllowedOfferings); infinity when none.
  double CheapestPrice(size_t type, uint64_t allowed) const;
  // Whether any instance type's requirements constrain `key`.
  bool TypesDefine(std::string_view key) const;
  // Largest first (cpu, then memory): the order claims keep their candidates in.
  bool Larger(size_t a, size_t b) const;

 private:
  std::vector<std::string> zones_;  // sorted
  std::vector<uint64_t> masks_;
  std::vector<std::vector<uint64_t>> offering_bits_;  // per type, per offering (0: unavailable)
  mutable std::map<std::string, bool, std::less<>> types_define_;  // TypesDefine's answers so far
  size_t cpu_ = 0, memory_ = 0;
};

// An existing node or in-flight NodeClaim during a solve.
class NodeState {
 public:
  NodeState(const SolveContext& ctx, const ExistingNode& node);
  // Adds the pod when its taints are tolerated, its labels satisfy `reqs` and the pod's
  // topology, its host ports are free and the pod fits next to what is already requested.
  bool TryAdd(const SolveContext& ctx, size_t pod_index, const core::Requirements& reqs, Topology& topology,
              const Relaxation& relax);

 private:
  core::Requirements requirements_;  // its labels (and its hostname)
  std::vector<core::Taint> taints_;  // ephemeral taints dropped while not initialized
  ResourceVector allocatable_;
  ResourceVector requested_;
  std::vector<HostPort> host_ports_;
};

class Claim;

// What a NodePool's nodes of each instance type have left for pods once the DaemonSets that
// would run there are counted (their requests, and one "pods" each). Shared by a template and
// its claims; indexed by instance type (types outside the pool are empty).
struct DaemonRoom {
  std::vector<ResourceVector> room;             // allocatable minus overhead
  std::vector<core::ResourceList> overhead;     // the DaemonSet pods' requests
};

// A NodePool's template: its requirements (with its labels and the pool's own label), the
// DaemonSet overhead its nodes pay per instance type, and the types still within its limits.
class ClaimTemplate {
 public:
  static ClaimTemplate Build(const SolveContext& ctx, size_t nodepool);
  // A NodeClaim with no pods yet, over the instance types that fit the remaining limits; its
  // requirements pin kubernetes.io/hostname to `hostname`, a placeholder of this solve.
  Claim NewClaim(const SolveContext& ctx, const std::string& hostname) const;
  // Charges a claim created from this template against the pool's limits: the largest
  // capacity among its instance types, per resource (Karpenter's rule).
  void Consume(const SolveContext& ctx, const Claim& claim);
  const core::Requirements& requirements() const { return requirements_; }
  const DaemonRoom& daemon_room() const { return *daemon_; }
  const std::vector<size_t>& instance_types() const { return instance_types_; }
  bool limited() const { return !limited_.empty(); }

 private:
  size_t nodepool_ = 0;
  core::Requirements requirements_;
  std::shared_ptr<const DaemonRoom> daemon_;
  std::vector<size_t> instance_types_;  // largest first
  // The same list, shared by new claims while the pool has no limits (most claims never
  // narrow it, so copying 400 indexes per claim would be wasted).
  std::shared_ptr<const std::vector<size_t>> shared_types_;
  std::vector<size_t> limited_;         // resource indexes the pool limits
  ResourceVector remaining_;            // limits minus use, for those indexes
};

class Claim {
 public:
  Claim(const SolveContext& ctx, size_t nodepool, std::string hostname, core::Requirements reqs,
        std::shared_ptr<const DaemonRoom> daemon, std::shared_ptr<const std::vector<size_t>> types,
        std::string limit_note);
  // Adds the pod if some instance type can still hold every pod of the claim; otherwise says
  // why (FailedPrecondition) and leaves the claim unchanged.
  // Without `explain` a refusal's Status has no useful message (cheaper for scans). A refusal
  // because compatible reservations are used up (strict mode) is kResourceExhausted.
  Status TryAdd(const SolveContext& ctx, size_t pod_index, const core::Requirements& reqs, Topology& topology,
                bool explain, const Relaxation& relax);
  const std::vector<size_t>& pods() const { return pods_; }
  const std::vector<size_t>& instance_types() const { return *types_; }
  // The placeholder hostname: the claim's name in the ReservationLedger.
  const std::string& hostname() const { return hostname_; }
  // Whether the type can hold everything the claim holds now.
  bool FitsType(size_t type) const;
  // The one zone the claim's requirements allow, or "" when they allow several.
  std::string PinnedZone() const;
  // Orders instance types cheapest first, drops accelerator types nobody needs, truncates; the
  // placeholder hostname is left out of the requirements.
  NewNodeClaim Finalize(const SolveContext& ctx) const;

 private:
  // Some candidate can hold `extra` on top of what is requested: max_allocatable_ rules most
  // claims out at once, then the largest-first candidates are scanned.
  bool AnyFits(const ResourceVector& extra) const;
  // The candidates compatible with `merged` (only `changed_keys` need checking) that fit;
  // nullopt when every candidate passes (the list is kept as it is).
  std::optional<std::vector<size_t>> Filter(const SolveContext& ctx, const core::Requirements& merged,
                                            const std::vector<std::string>& changed_keys,
                                            const ResourceVector& extra) const;
  Status NoTypeError(const SolveContext& ctx, const core::Requirements& merged, size_t pod_index) const;
  void RecomputeMax(const SolveContext& ctx);
  // Karpenter's minValues: each requirement with minValues N needs N distinct values of its key
  // among the types that can hold the claim plus `extra`.
  Status CheckMinValues(const SolveContext& ctx, const core::Requirements& reqs, const std::vector<size_t>& types,
                        const ResourceVector& extra, bool explain) const;
  // Karpenter's reserveOfferings for the claim's candidates under `reqs` once `extra` is added:
  // holds one instance of every compatible reservation it can; in strict mode refuses
  // (kResourceExhausted) when some are compatible but none could be held.
  Status ReserveOfferings(const SolveContext& ctx, const core::Requirements& reqs, const std::vector<size_t>& types,
                          const ResourceVector& extra, bool explain);

  size_t nodepool_;
  const ResourceVector& Room(size_t type) const { return daemon_->room[type]; }

  std::string hostname_;  // placeholder: the claim's identity for reservations
  core::Requirements requirements_;
  bool has_min_values_ = false;  // the pool's requirements carry minValues (pods' never do)
  std::shared_ptr<const DaemonRoom> daemon_;  // per type: room left by DaemonSets
  ResourceVector requested_;     // the pods'
  // Compatible with requirements_ and offered, largest first; filtered by fit lazily (requests
  // only grow, so a type that stopped fitting never fits again): Finalize drops those. Shared
  // with the template (and other claims) until this claim narrows it.
  std::shared_ptr<const std::vector<size_t>> types_;
  ResourceVector max_allocatable_;
  std::vector<size_t> pods_;
  std::vector<HostPort> host_ports_;
  bool needs_accelerators_ = false;
  std::string limit_note_;  // why the template had no instance types left, if so
};

}  // namespace gpufleet::scheduling
