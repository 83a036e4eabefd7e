// Fuzzes Solve with arbitrary small clusters decoded from the input bytes: contradictory pod and
// NodePool requirements, every operator, taints, limits, negative and absurd quantities, host
// ports, topology. Checks what users rely on: it returns (no crash, no endless loop), every pod
// gets a placement, every unplaced pod says why, and claims reference real pods and types.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "scheduling/fake_instance_types.h"
#include "scheduling/scheduler.h"

namespace {

using namespace gpufleet;

class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t Next() { return pos_ < size_ ? data_[pos_++] : 0; }
  bool Done() const { return pos_ >= size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

const char* kKeys[] = {"topology.kubernetes.io/zone", "karpenter.sh/capacity-type", "karpenter.k8s.aws/instance-cpu",
                       "node.kubernetes.io/instance-type", "example.com/team", "kubernetes.io/hostname"};
const char* kValues[] = {"test-zone-1", "test-zone-2", "spot", "on-demand", "4", "fake-it-3", "a", "-1"};
const char* kQuantities[] = {"0", "100m", "1", "3", "64", "-1", "9Ei", "1e20", "1.5Gi", "170141183460469231731687303715884105727n"};
const core::Operator kOps[] = {core::Operator::kIn, core::Operator::kNotIn, core::Operator::kExists,
                               core::Operator::kDoesNotExist, core::Operator::kGt, core::Operator::kLt,
                               core::Operator::kGte, core::Operator::kLte};

core::Quantity Quantity(Bytes& in) {
  auto q = core::Quantity::Parse(kQuantities[in.Next() % std::size(kQuantities)]);
  return q.ok() ? *q : core::Quantity();
}

core::Requirements Reqs(Bytes& in) {
  core::Requirements out;
  const int n = in.Next() % 4;
  for (int i = 0; i < n; ++i) {
    core::NodeSelectorRequirement wire;
    wire.key = kKeys[in.Next() % std::size(kKeys)];
    wire.op = kOps[in.Next() % std::size(kOps)];
    const int values = in.Next() % 3;
    for (int v = 0; v < values; ++v) wire.values.push_back(kValues[in.Next() % std::size(kValues)]);
    auto r = core::Requirement::Create(wire);
    if (r.ok()) out.Add(*r);  // malformed ones are refused upstream of the solver
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bytes in(data, size);
  scheduling::Input input;
  input.instance_types = scheduling::FakeInstanceTypes(1 + in.Next() % 6);
  if (in.Next() % 3 == 0) {  // a reservation on the largest type
    scheduling::InstanceType& t = input.instance_types.back();
    t.offerings.push_back({.zone = "test-zone-1", .capacity_type = scheduling::CapacityType::kReserved, .price = 1e-7,
                           .reservation_id = "cr-1", .reservation_capacity = in.Next() % 3});
    t.requirements.Add(core::Requirement::In(scheduling::keys::kCapacityType, {"on-demand", "reserved", "spot"}));
  }
  if (in.Next() % 4 == 0) {  // a GPU type, for the cost re-pack
    input.instance_types.push_back(scheduling::FakeInstanceType(3, {.gpus = 1 + in.Next() % 8, .name_prefix = "gpu-"}));
  }
  const int pools = in.Next() % 3;
  for (int p = 0; p < pools; ++p) {
    scheduling::NodePool pool{.name = "pool-" + std::to_string(p), .weight = in.Next() % 3};
    pool.requirements = Reqs(in);
    for (size_t t = 0; t < input.instance_types.size(); ++t) {
      if (in.Next() % 4 != 0) pool.instance_types.push_back(t);
    }
    if (in.Next() % 3 == 0) {
      pool.taints = {{.key = "team", .effect = in.Next() % 2 ? core::TaintEffect::kNoSchedule : core::TaintEffect::kPreferNoSchedule}};
    }
    if (in.Next() % 3 == 0) pool.limits.Set("cpu", Quantity(in));
    input.nodepools.push_back(std::move(pool));
  }
  if (in.Next() % 2 == 0) {
    scheduling::ExistingNode node{.name = "n", .labels = {{"topology.kubernetes.io/zone", "test-zone-1"}}};
    node.allocatable.Set("cpu", Quantity(in));
    node.allocatable.Set("pods", core::Quantity::FromInt(110));
    input.nodes.push_back(std::move(node));
  }
  const int pods = in.Next() % 12;
  for (int i = 0; i < pods && !in.Done(); ++i) {
    scheduling::Pod pod{.key = "ns/p" + std::to_string(i), .ns = "ns", .uid = std::to_string(i)};
    pod.labels = {{"app", kValues[in.Next() % std::size(kValues)]}};
    pod.requests.Set("cpu", Quantity(in));
    pod.requests.Set("memory", Quantity(in));
    if (in.Next() % 4 == 0) pod.requests.Set("nvidia.com/gpu", Quantity(in));
    pod.requirements = Reqs(in);
    if (in.Next() % 3 == 0) pod.alternative_requirements = {Reqs(in)};
    if (in.Next() % 3 == 0) pod.tolerations = {{.key = "team", .op = core::TolerationOperator::kExists}};
    if (in.Next() % 4 == 0) pod.host_ports = {{.port = 80}};
    const uint8_t topo = in.Next() % 5;
    const std::string key = kKeys[in.Next() % 2 == 0 ? 0 : 5];
    const core::LabelSelector sel = *core::LabelSelector::Parse("app");
    if (topo == 1) {
      pod.topology_spread = {{.max_skew = 1 + in.Next() % 2, .topology_key = key, .selector = sel,
                              .schedule_anyway = in.Next() % 2 == 0}};
    }
    if (topo == 2) pod.affinity = {{.topology_key = key, .selector = sel}};
    if (topo == 3) pod.anti_affinity = {{.topology_key = key, .selector = sel}};
    if (topo == 4) {
      pod.preferred_affinity = {{.weight = in.Next() % 100, .term = {.topology_key = key, .selector = sel}}};
      pod.preferred_anti_affinity = {{.weight = in.Next() % 100, .term = {.topology_key = key, .selector = sel}}};
      pod.preferred_node_affinity = {{.weight = in.Next() % 100, .requirements = Reqs(in)}};
    }
    input.pods.push_back(std::move(pod));
  }
  scheduling::Options options;
  options.exhaustive_claim_scan = in.Next() % 2 == 0;
  options.ignore_preferences = in.Next() % 4 == 0;
  options.tolerate_prefer_no_schedule = in.Next() % 2 == 0;
  options.strict_reservations = in.Next() % 2 == 0;
  const scheduling::Result r = scheduling::Solve(input, options);
  if (r.placements.size() != input.pods.size()) __builtin_trap();
  for (const scheduling::Placement& p : r.placements) {
    if (p.kind == scheduling::Placement::Kind::kUnplaced && p.error.empty()) __builtin_trap();
    if (p.kind == scheduling::Placement::Kind::kNewNodeClaim && p.index >= r.new_claims.size()) __builtin_trap();
    if (p.kind == scheduling::Placement::Kind::kExistingNode && p.index >= input.nodes.size()) __builtin_trap();
  }
  for (const scheduling::NewNodeClaim& c : r.new_claims) {
    for (size_t pod : c.pods) {
      if (pod >= input.pods.size()) __builtin_trap();
    }
    for (size_t t : c.instance_types) {
      if (t >= input.instance_types.size()) __builtin_trap();
    }
  }
  return 0;
}
