#include "scheduling/instance_type.h"

#include <algorithm>
#include <cmath>

namespace gpufleet::scheduling {
namespace {

using core::Format;
using core::Quantity;

constexpr int64_t kMi = 1024 * 1024;
constexpr int64_t kGi = 1024 * kMi;

// Karpenter's kube-reserved CPU tiers, in millicores of capacity.
int64_t KubeReservedMilliCpu(int64_t milli_cpu) {
  struct Tier {
    int64_t start, end;
    double fraction;
  };
  static constexpr Tier kTiers[] = {{0, 1000, 0.06}, {1000, 2000, 0.01}, {2000, 4000, 0.005}, {4000, INT64_MAX, 0.0025}};
  double reserved = 0;
  for (const Tier& t : kTiers) {
    if (milli_cpu < t.start) break;
    reserved += static_cast<double>(std::min(milli_cpu, t.end) - t.start) * t.fraction;
  }
  return static_cast<int64_t>(reserved);
}

}  // namespace

std::string_view CapacityTypeName(CapacityType t) {
  switch (t) {
    case CapacityType::kOnDemand: return "on-demand";
    case CapacityType::kSpot: return "spot";
    case CapacityType::kReserved: return "reserved";
  }
  return "on-demand";
}

void InstanceType::Finalize() {
  auto alloc = core::Subtract(capacity, overhead);
  allocatable = alloc.ok() ? std::move(alloc).value() : capacity;
}

bool IsAcceleratorResource(std::string_view name) {
  return name == "nvidia.com/gpu" || name == "amd.com/gpu" || name == "aws.amazon.com/neuron" ||
         name == "aws.amazon.com/neuroncore" || name == "habana.ai/gaudi";
}

bool InstanceType::HasAccelerators() const {
  for (const auto& [resource, q] : capacity) {
    if (IsAcceleratorResource(resource) && q.Sign() > 0) return true;
  }
  return false;
}

InstanceType AwsInstanceType(std::string name, const Ec2Shape& shape, const AwsNodeOptions& options) {
  InstanceType t{.name = std::move(name)};
  t.capacity = AwsCapacity(shape, options);
  t.overhead = AwsOverhead(shape, t.capacity);
  t.Finalize();
  return t;
}

core::ResourceList AwsCapacity(const Ec2Shape& shape, const AwsNodeOptions& options) {
  core::ResourceList out;
  out.Set("cpu", Quantity::FromInt(shape.vcpu));
  const auto vm_overhead_mib = static_cast<int64_t>(
      std::ceil(static_cast<double>(shape.memory_mib) * options.vm_memory_overhead_percent));
  const int64_t arch_offset_mib = shape.arch == "arm64" ? options.arm64_memory_offset_mib : 0;
  out.Set("memory", Quantity::FromInt((shape.memory_mib - vm_overhead_mib - arch_offset_mib) * kMi,
                                      Format::kBinarySI));
  out.Set("ephemeral-storage", Quantity::FromInt(options.root_volume_gib * kGi, Format::kBinarySI));
  out.Set("pods", Quantity::FromInt(shape.max_pods));
  for (const auto& [name, count] : shape.extended) out.Set(name, Quantity::FromInt(count));
  return out;
}

core::ResourceList AwsOverhead(const Ec2Shape& shape, const core::ResourceList& capacity) {
  core::ResourceList out;
  out.Set("cpu", Quantity::FromMilli(KubeReservedMilliCpu(shape.vcpu * 1000)));
  // kube-reserved 11Mi per pod + 255Mi, plus the 100Mi memory.available eviction threshold.
  out.Set("memory", Quantity::FromInt((11 * shape.max_pods + 255 + 100) * kMi, Format::kBinarySI));
  // kube-reserved 1Gi, plus nodefs.available 10% of the volume (rounded up to a byte).
  const int64_t storage = capacity.Get("ephemeral-storage").Value();
  out.Set("ephemeral-storage", Quantity::FromInt(kGi + (storage + 9) / 10, Format::kBinarySI));
  return out;
}

}  // namespace gpufleet::scheduling
