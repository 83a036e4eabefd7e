#include "scheduling/fake_instance_types.h"

#include <string>

namespace gpufleet::scheduling {

InstanceType FakeInstanceType(int index, const FakeTypeOptions& options) {
  const int64_t cpu = index + 1;
  const int64_t memory = 2 * cpu * 1024 * 1024 * 1024;
  InstanceType t;
  t.name = options.name_prefix + std::to_string(index);
  t.capacity.Set("cpu", core::Quantity::FromInt(cpu));
  t.capacity.Set("memory", core::Quantity::FromInt(memory, core::Format::kBinarySI));
  t.capacity.Set("pods", core::Quantity::FromInt(10 * cpu));
  if (options.gpus > 0) t.capacity.Set("nvidia.com/gpu", core::Quantity::FromInt(options.gpus));
  t.Finalize();
  const double price = 0.1 * static_cast<double>(cpu) + 0.1 * static_cast<double>(memory) / 1e9 +
                       static_cast<double>(options.gpus);
  for (const char* zone : {"test-zone-1", "test-zone-2"}) {
    t.offerings.push_back({.zone = zone, .capacity_type = CapacityType::kSpot, .price = price});
  }
  for (const char* zone : {"test-zone-1", "test-zone-2", "test-zone-3"}) {
    t.offerings.push_back({.zone = zone, .capacity_type = CapacityType::kOnDemand, .price = price});
  }
  t.requirements.Add(core::Requirement::In(core::labels::kInstanceType, {t.name}));
  t.requirements.Add(core::Requirement::In(core::labels::kArch, {"amd64"}));
  t.requirements.Add(core::Requirement::In(core::labels::kOs, {"darwin", "linux", "windows"}));
  t.requirements.Add(core::Requirement::In(core::labels::kZone, {"test-zone-1", "test-zone-2", "test-zone-3"}));
  t.requirements.Add(core::Requirement::In(keys::kCapacityType, {"on-demand", "spot"}));
  t.requirements.Add(core::Requirement::In("karpenter.k8s.aws/instance-cpu", {std::to_string(cpu)}));
  if (options.gpus > 0) {
    t.requirements.Add(core::Requirement::In(keys::kGpuCount, {std::to_string(options.gpus)}));
  }
  return t;
}

std::vector<InstanceType> FakeInstanceTypes(int count) {
  std::vector<InstanceType> out;
  out.reserve(count);
  for (int i = 0; i < count; ++i) out.push_back(FakeInstanceType(i));
  return out;
}

}  // namespace gpufleet::scheduling
