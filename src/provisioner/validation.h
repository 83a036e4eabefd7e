// The controller's own validation of NodePools and EC2NodeClasses: Karpenter v1's CRD rules
// (OpenAPI patterns, enums, limits and the CEL x-kubernetes-validations) plus the checks
// Karpenter's controllers make at runtime. The embedded API server stores custom resources
// without evaluating their schema, and a real cluster may run an older CRD, so the controller
// re-checks everything it relies on: an invalid object gets ValidationSucceeded=False with
// these messages and is skipped, never stopping the controller.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kube/types/karpenter.h"

namespace gpufleet::provisioner {

// Every problem, each naming its field path ("spec.template.spec.requirements[1].values: ...").
// Empty when valid.
std::vector<std::string> ValidateNodePool(const kube::NodePool& pool);
std::vector<std::string> ValidateEC2NodeClass(const kube::EC2NodeClass& node_class);

// "a; b; c" (at most `max` problems, then "and N more").
std::string JoinProblems(const std::vector<std::string>& problems, size_t max = 5);

// Karpenter's defaults for fields a NodePool may leave out (the CRD's OpenAPI defaults), so a
// NodePool read from an API server that does not apply schema defaults behaves the same.
kube::NodePool WithDefaults(kube::NodePool pool);

// The karpenter.sh/nodepool-hash annotation: a hash of the template without its requirements
// (Karpenter's v3 inputs), as a decimal uint64. NodeClaims carry the hash they were made from, so
// a changed template shows as drift.
std::string NodePoolHash(const kube::NodePool& pool);
// The annotations that carry it, on NodePools and on the NodeClaims created from them.
inline constexpr std::string_view kNodePoolHashAnnotation = "karpenter.sh/nodepool-hash";
inline constexpr std::string_view kNodePoolHashVersionAnnotation = "karpenter.sh/nodepool-hash-version";
inline constexpr std::string_view kNodePoolHashVersion = "v3";

// 64-bit FNV-1a of `text`: stable across runs and builds (std::hash is not), for names and hashes
// written into objects.
uint64_t Fnv1a64(std::string_view text);

}  // namespace gpufleet::provisioner
