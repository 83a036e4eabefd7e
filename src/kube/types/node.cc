#include "kube/types/node.h"

#include "kube/types/core_types.h"

namespace gpufleet::kube {

using json = nlohmann::json;

Status Decode(const json& j, const core::JsonPath& path, NodeSpec& out) {
  return FieldReader(j, path)
      .Str("podCIDR", out.pod_cidr)
      .StrList("podCIDRs", out.pod_cidrs)
      .Str("providerID", out.provider_id)
      .Bool("unschedulable", out.unschedulable)
      .List("taints", out.taints)
      .status();
}

json Encode(const NodeSpec& v) {
  return FieldWriter()
      .Str("podCIDR", v.pod_cidr)
      .StrList("podCIDRs", v.pod_cidrs)
      .Str("providerID", v.provider_id)
      .Bool("unschedulable", v.unschedulable)
      .List("taints", v.taints)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodeCondition& out) {
  return FieldReader(j, path)
      .Str("type", out.type)
      .Str("status", out.status)
      .Str("lastHeartbeatTime", out.last_heartbeat_time)
      .Str("lastTransitionTime", out.last_transition_time)
      .Str("reason", out.reason)
      .Str("message", out.message)
      .status();
}

json Encode(const NodeCondition& v) {
  return FieldWriter()
      .Always("type", v.type)
      .Always("status", v.status)
      .Str("lastHeartbeatTime", v.last_heartbeat_time)
      .Str("lastTransitionTime", v.last_transition_time)
      .Str("reason", v.reason)
      .Str("message", v.message)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodeAddress& out) {
  return FieldReader(j, path).Str("type", out.type).Str("address", out.address).status();
}

json Encode(const NodeAddress& v) {
  return FieldWriter().Always("type", v.type).Always("address", v.address).Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodeSystemInfo& out) {
  return FieldReader(j, path)
      .Str("machineID", out.machine_id)
      .Str("systemUUID", out.system_uuid)
      .Str("bootID", out.boot_id)
      .Str("kernelVersion", out.kernel_version)
      .Str("osImage", out.os_image)
      .Str("containerRuntimeVersion", out.container_runtime_version)
      .Str("kubeletVersion", out.kubelet_version)
      .Str("kubeProxyVersion", out.kube_proxy_version)
      .Str("operatingSystem", out.operating_system)
      .Str("architecture", out.architecture)
      .status();
}

json Encode(const NodeSystemInfo& v) {
  return FieldWriter()
      .Str("machineID", v.machine_id)
      .Str("systemUUID", v.system_uuid)
      .Str("bootID", v.boot_id)
      .Str("kernelVersion", v.kernel_version)
      .Str("osImage", v.os_image)
      .Str("containerRuntimeVersion", v.container_runtime_version)
      .Str("kubeletVersion", v.kubelet_version)
      .Str("kubeProxyVersion", v.kube_proxy_version)
      .Str("operatingSystem", v.operating_system)
      .Str("architecture", v.architecture)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodeStatus& out) {
  return FieldReader(j, path)
      .Resources("capacity", out.capacity)
      .Resources("allocatable", out.allocatable)
      .Str("phase", out.phase)
      .List("conditions", out.conditions)
      .List("addresses", out.addresses)
      .Obj("nodeInfo", out.node_info)
      .status();
}

json Encode(const NodeStatus& v) {
  return FieldWriter()
      .Resources("capacity", v.capacity)
      .Resources("allocatable", v.allocatable)
      .Str("phase", v.phase)
      .List("conditions", v.conditions)
      .List("addresses", v.addresses)
      .Obj("nodeInfo", v.node_info)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, Node& out) {
  return FieldReader(j, path)
      .Obj("metadata", out.metadata)
      .Obj("spec", out.spec)
      .Obj("status", out.status)
      .status();
}

json Encode(const Node& v) {
  return FieldWriter()
      .Always("metadata", Encode(v.metadata))
      .Obj("spec", v.spec)
      .Obj("status", v.status)
      .Take();
}

const NodeCondition* Node::FindCondition(std::string_view type) const {
  for (const auto& c : status.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool Node::IsReady() const {
  const NodeCondition* ready = FindCondition("Ready");
  return ready != nullptr && ready->status == "True";
}

}  // namespace gpufleet::kube
