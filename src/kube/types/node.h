// core/v1 Node as the provisioner, the agent and the scheduler read it: providerID, taints,
// capacity and allocatable (nvidia.com/gpu among them), conditions, addresses and node info.
// Not complete (kComplete = false): write nodes with Patch (or Create for a new Node).
#pragma once

#include <string>
#include <vector>

#include "core/resource_list.h"
#include "core/taints.h"
#include "kube/types/meta.h"

namespace gpufleet::kube {

struct NodeSpec {
  std::string pod_cidr;
  std::vector<std::string> pod_cidrs;
  std::string provider_id;
  bool unschedulable = false;
  std::vector<core::Taint> taints;

  friend bool operator==(const NodeSpec&, const NodeSpec&) = default;
};

struct NodeCondition {
  std::string type;    // Ready, MemoryPressure, ...
  std::string status;  // True | False | Unknown
  std::string last_heartbeat_time;
  std::string last_transition_time;
  std::string reason;
  std::string message;

  friend bool operator==(const NodeCondition&, const NodeCondition&) = default;
};

struct NodeAddress {
  std::string type;  // InternalIP, Hostname, ...
  std::string address;

  friend bool operator==(const NodeAddress&, const NodeAddress&) = default;
};

struct NodeSystemInfo {
  std::string machine_id;
  std::string system_uuid;
  std::string boot_id;
  std::string kernel_version;
  std::string os_image;
  std::string container_runtime_version;
  std::string kubelet_version;
  std::string kube_proxy_version;
  std::string operating_system;
  std::string architecture;

  friend bool operator==(const NodeSystemInfo&, const NodeSystemInfo&) = default;
};

struct NodeStatus {
  core::ResourceList capacity;
  core::ResourceList allocatable;
  std::string phase;
  std::vector<NodeCondition> conditions;
  std::vector<NodeAddress> addresses;
  NodeSystemInfo node_info;

  friend bool operator==(const NodeStatus&, const NodeStatus&) = default;
};

struct Node {
  static constexpr std::string_view kApiVersion = "v1";
  static constexpr std::string_view kKind = "Node";
  static constexpr bool kComplete = false;
  static Gvr Resource() { return {"", "v1", "nodes", false}; }

  ObjectMeta metadata;
  NodeSpec spec;
  NodeStatus status;

  const NodeCondition* FindCondition(std::string_view type) const;
  // The Ready condition is True.
  bool IsReady() const;

  friend bool operator==(const Node&, const Node&) = default;
};

Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeSpec& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeCondition& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeAddress& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeSystemInfo& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeStatus& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, Node& out);
nlohmann::json Encode(const NodeSpec& v);
nlohmann::json Encode(const NodeCondition& v);
nlohmann::json Encode(const NodeAddress& v);
nlohmann::json Encode(const NodeSystemInfo& v);
nlohmann::json Encode(const NodeStatus& v);
nlohmann::json Encode(const Node& v);

}  // namespace gpufleet::kube
