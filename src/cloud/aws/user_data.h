// AL2023 user data: the MIME multi-part document nodeadm reads, as Karpenter builds it. The
// EC2NodeClass's own userData (a MIME document, a bare NodeConfig, or a shell script) comes first,
// so its settings (the seed's SOCI parallel pull, featureGates.FastImagePull) reach nodeadm, and
// gpufleet's NodeConfig part follows with the cluster, max pods, node labels and taints. nodeadm
// merges NodeConfig parts in order, so the NodePool's labels and taints are never lost.
//
// ParseAl2023UserData reads such a document back (the simulated kubelet uses it to learn what a
// real node would register with).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/status.h"
#include "core/taints.h"

namespace gpufleet::cloud::aws {

struct NodeadmInput {
  std::string cluster_name;
  std::string api_server_endpoint;
  std::string certificate_authority;  // base64 PEM, as EKS hands it out
  std::string service_cidr;           // e.g. 10.100.0.0/16
  std::vector<std::string> cluster_dns;
  std::optional<int64_t> max_pods;
  core::Labels labels;
  std::vector<core::Taint> taints;  // NodePool taints and startup taints, registered together
  std::string custom;               // EC2NodeClass spec.userData
};

// The MIME document (not yet base64). kInvalidArgument naming the problem when `custom` is a
// MIME document that cannot be split (no boundary, no closing delimiter).
Result<std::string> Al2023UserData(const NodeadmInput& input);

struct MimePart {
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string content_type() const;
};
// Splits a multipart/mixed document (or wraps a single NodeConfig or script as one part).
Result<std::vector<MimePart>> SplitUserData(std::string_view text);

struct NodeConfigSummary {
  std::string cluster_name, api_server_endpoint;
  std::optional<int64_t> max_pods;
  std::map<std::string, bool> feature_gates;  // FastImagePull, ...
  core::Labels labels;                         // --node-labels
  std::vector<core::Taint> taints;             // --register-with-taints
  int scripts = 0;                             // shell-script parts
};
// Reads the NodeConfig parts of an AL2023 user data document, merged in order.
Result<NodeConfigSummary> ParseAl2023UserData(std::string_view text);

}  // namespace gpufleet::cloud::aws
