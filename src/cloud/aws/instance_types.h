// EC2 instance types as the scheduling simulator sees them: Karpenter's well-known labels
// (aws labels.go) computed from DescribeInstanceTypes, capacity and allocatable from the AWS
// formulas (scheduling/instance_type.h), and the ENI-limited max pods.
//
// tests/cloud/aws/instance_types_test.cc checks the labels and resources against Karpenter's
// published table (data/aws-instance-types.json) for every type the emulator serves.
#pragma once

#include <string>

#include "cloud/aws/ec2.h"
#include "core/labels.h"
#include "scheduling/instance_type.h"
#include "scheduling/model.h"

namespace gpufleet::cloud::aws {

namespace labels {
inline constexpr std::string_view kInstanceCategory = "karpenter.k8s.aws/instance-category";
inline constexpr std::string_view kInstanceFamily = "karpenter.k8s.aws/instance-family";
inline constexpr std::string_view kInstanceGeneration = "karpenter.k8s.aws/instance-generation";
inline constexpr std::string_view kInstanceSize = "karpenter.k8s.aws/instance-size";
inline constexpr std::string_view kCapacityReservationType = "karpenter.k8s.aws/capacity-reservation-type";
inline constexpr std::string_view kZoneId = "topology.k8s.aws/zone-id";
inline constexpr std::string_view kNodeClass = "karpenter.k8s.aws/ec2nodeclass";
}  // namespace labels

// ENI-limited pods: ENIs of the default network card x (IPv4 addresses per ENI - 1) + 2.
int64_t EniLimitedPods(const Ec2InstanceType& type);

// The type's labels (node.kubernetes.io/instance-type, kubernetes.io/arch and os, and the
// karpenter.k8s.aws/instance-* family), without zone or capacity type.
core::Labels InstanceTypeLabels(const Ec2InstanceType& type);

// The type as the simulator needs it: labels as single-value requirements, capacity and overhead
// from the AWS formulas; offerings are left to the caller.
scheduling::InstanceType ToSchedulingType(const Ec2InstanceType& type, const scheduling::AwsNodeOptions& node = {});

}  // namespace gpufleet::cloud::aws
