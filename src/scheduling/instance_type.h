// Instance types and their offerings as the simulator sees them, and the AWS formulas that turn
// an EC2 shape into Kubernetes capacity and allocatable (Karpenter's aws instancetype/types.go).
//
// allocatable = capacity - (kube-reserved + system-reserved + eviction threshold), where for
// AL2023 with Karpenter's defaults:
//   capacity.memory    = MiB - ceil(MiB * 7.5%)          (VM overhead, until the node reports)
//   capacity.ephemeral-storage = the root volume (20Gi without blockDeviceMappings)
//   capacity.pods      = max pods (ENI-limited unless the kubelet config caps it)
//   kube-reserved.cpu  = 6% of the first core, 1% of the second, 0.5% of cores 3-4, 0.25% beyond
//   kube-reserved.memory = 11Mi * max pods + 255Mi;  kube-reserved.ephemeral-storage = 1Gi
//   eviction           = memory.available 100Mi, nodefs.available 10% of ephemeral storage
// These match every type of Karpenter's published instance-type table (tests/scheduling).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/requirements.h"
#include "core/resource_list.h"

namespace gpufleet::scheduling {

// Well-known keys the simulator reads (Karpenter's v1 labels).
namespace keys {
inline constexpr std::string_view kNodePool = "karpenter.sh/nodepool";
inline constexpr std::string_view kCapacityType = "karpenter.sh/capacity-type";
inline constexpr std::string_view kReservationId = "karpenter.k8s.aws/capacity-reservation-id";
inline constexpr std::string_view kGpuCount = "karpenter.k8s.aws/instance-gpu-count";
inline constexpr std::string_view kGpuMemory = "karpenter.k8s.aws/instance-gpu-memory";
inline constexpr std::string_view kGpuName = "karpenter.k8s.aws/instance-gpu-name";
}  // namespace keys

enum class CapacityType { kOnDemand, kSpot, kReserved };
// "on-demand", "spot", "reserved": the karpenter.sh/capacity-type values.
std::string_view CapacityTypeName(CapacityType t);

// One way to buy an instance type: where, how, at what price.
struct Offering {
  std::string zone;
  CapacityType capacity_type = CapacityType::kOnDemand;
  double price = 0;  // $/hour; reserved capacity is nearly free (Karpenter: on-demand / 1e7)
  bool available = true;
  // Reserved offerings only: the reservation and how many more instances it can start.
  std::string reservation_id;
  int reservation_capacity = 0;
  bool capacity_block = false;
};

struct InstanceType {
  std::string name;
  // Its labels as requirements (instance-type, arch, os, zone In <offering zones>, capacity type
  // In <offering types>, GPU labels, ...).
  core::Requirements requirements;
  core::ResourceList capacity;
  core::ResourceList overhead;     // kube-reserved + system-reserved + eviction, summed
  core::ResourceList allocatable;  // capacity - overhead; set by Finalize
  std::vector<Offering> offerings;

  // Computes `allocatable`; call once after filling capacity and overhead.
  void Finalize();
  // Any extended GPU/accelerator resource in capacity (nvidia.com/gpu, amd.com/gpu,
  // aws.amazon.com/neuron): the "exotic" types Karpenter avoids unless a pod needs them.
  bool HasAccelerators() const;
};

// What EC2's DescribeInstanceTypes says about a type, reduced to what capacity depends on.
struct Ec2Shape {
  std::string arch = "amd64";  // kubernetes.io/arch
  int64_t vcpu = 0;
  int64_t memory_mib = 0;
  int64_t max_pods = 0;
  // Extended resources and their counts (nvidia.com/gpu: 8, vpc.amazonaws.com/efa: 32, ...).
  std::vector<std::pair<std::string, int64_t>> extended;
};

// nvidia.com/gpu, amd.com/gpu, aws.amazon.com/neuron[core], habana.ai/gaudi: resources that
// make a type "exotic" (Karpenter avoids such types unless a pod asks for one).
bool IsAcceleratorResource(std::string_view name);

struct AwsNodeOptions {
  double vm_memory_overhead_percent = 0.075;  // Karpenter's VM_MEMORY_OVERHEAD_PERCENT
  int64_t root_volume_gib = 20;               // AL2023 default without blockDeviceMappings
  // Every arm64 row of Karpenter's published table (396 types) has exactly 59Mi less
  // allocatable memory than the formula gives; the amd64 rows (967) match it exactly. The term
  // responsible was not found in Karpenter's source, so the offset is taken from the table and
  // applied to capacity (docs/scheduling.md, Known gaps).
  int64_t arm64_memory_offset_mib = 59;
};

core::ResourceList AwsCapacity(const Ec2Shape& shape, const AwsNodeOptions& options = {});
// An instance type named `name` with AwsCapacity, AwsOverhead and allocatable filled in (no
// requirements or offerings yet).
InstanceType AwsInstanceType(std::string name, const Ec2Shape& shape, const AwsNodeOptions& options = {});
// kube-reserved + eviction threshold for `capacity` (from AwsCapacity).
core::ResourceList AwsOverhead(const Ec2Shape& shape, const core::ResourceList& capacity);

}  // namespace gpufleet::scheduling
