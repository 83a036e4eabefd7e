#include "karpenter_shape.h"

#include <random>
#include <string>

#include "scheduling/fake_instance_types.h"

namespace gpufleet::bench {

using scheduling::AffinityTerm;
using scheduling::Pod;
using scheduling::TopologySpread;

scheduling::Input KarpenterShape(int pods, int instance_types) {
  scheduling::Input in;
  in.instance_types = scheduling::FakeInstanceTypes(instance_types);
  scheduling::NodePool pool{.name = "default"};
  pool.limits.Set("cpu", core::Quantity::FromInt(10'000'000));
  pool.limits.Set("memory", *core::Quantity::Parse("10000000Gi"));
  for (size_t i = 0; i < in.instance_types.size(); ++i) pool.instance_types.push_back(i);
  in.nodepools.push_back(std::move(pool));

  std::mt19937 rng(42);
  static const char* kCpu[] = {"100m", "250m", "500m", "1000m", "1500m"};
  static const char* kMemory[] = {"100Mi", "256Mi", "512Mi", "1Gi", "2Gi", "4Gi"};
  static const char* kValues[] = {"a", "b", "c", "d", "e", "f", "g"};
  auto value = [&] { return std::string(kValues[rng() % 7]); };
  auto make = [&](int i) {
    Pod p{.key = "default/pod-" + std::to_string(i), .ns = "default", .uid = std::to_string(i), .created = i};
    p.requests.Set("cpu", *core::Quantity::Parse(kCpu[rng() % 5]));
    p.requests.Set("memory", *core::Quantity::Parse(kMemory[rng() % 6]));
    return p;
  };
  auto selector = [](const std::string& key, const std::string& v) {
    return *core::LabelSelector::Parse(key + "=" + v);
  };
  const int per_class = pods / 5;
  int index = 0;
  for (int i = 0; i < per_class + pods % 5; ++i) {  // generic, with the remainder
    Pod p = make(index++);
    p.labels = {{"my-label", value()}};
    in.pods.push_back(std::move(p));
  }
  for (const char* key : {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}) {  // spread
    for (int i = 0; i < per_class; ++i) {
      Pod p = make(index++);
      p.labels = {{"my-label", value()}};
      p.topology_spread = {TopologySpread{.max_skew = 1, .topology_key = key, .selector = selector("my-label", value())}};
      in.pods.push_back(std::move(p));
    }
  }
  for (int i = 0; i < per_class; ++i) {  // zonal self-affinity
    Pod p = make(index++);
    const std::string v = value();
    p.labels = {{"my-affininity", v}};
    p.affinity = {AffinityTerm{.topology_key = "topology.kubernetes.io/zone", .selector = selector("my-affininity", v)}};
    in.pods.push_back(std::move(p));
  }
  for (int i = 0; i < per_class; ++i) {  // hostname anti-affinity
    Pod p = make(index++);
    p.labels = {{"app", "nginx"}};
    p.anti_affinity = {AffinityTerm{.topology_key = "kubernetes.io/hostname", .selector = selector("app", "nginx")}};
    in.pods.push_back(std::move(p));
  }
  return in;
}

scheduling::Input PreferenceShape(int pods, int instance_types) {
  scheduling::Input in = KarpenterShape(0, instance_types);
  std::mt19937 rng(42);
  static const char* kCpu[] = {"100m", "250m", "500m", "1000m", "1500m"};
  static const char* kMemory[] = {"100Mi", "256Mi", "512Mi", "1Gi", "2Gi", "4Gi"};
  const core::LabelSelector nginx = *core::LabelSelector::Parse("app=nginx");
  for (int i = 0; i < pods; ++i) {
    Pod p{.key = "default/pref-" + std::to_string(i), .ns = "default", .uid = std::to_string(i), .created = i};
    p.requests.Set("cpu", *core::Quantity::Parse(kCpu[rng() % 5]));
    p.requests.Set("memory", *core::Quantity::Parse(kMemory[rng() % 6]));
    p.labels = {{"app", "nginx"}};
    scheduling::WeightedRequirements zone{.weight = 1};
    zone.requirements.Add(core::Requirement::In(core::labels::kZone, {"test-zone-1"}));
    p.preferred_node_affinity = {zone};
    p.preferred_anti_affinity = {
        {.weight = 10, .term = AffinityTerm{.topology_key = "topology.kubernetes.io/zone", .selector = nginx}},
        {.weight = 1, .term = AffinityTerm{.topology_key = "kubernetes.io/hostname", .selector = nginx}}};
    in.pods.push_back(std::move(p));
  }
  return in;
}

}  // namespace gpufleet::bench
