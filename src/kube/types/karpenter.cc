#include "kube/types/karpenter.h"

#include "kube/types/core_types.h"

namespace gpufleet::kube {
using json = nlohmann::json;

// --- shared karpenter.sh/v1 ------------------------------------------------------------------

Status Decode(const json& j, const core::JsonPath& path, NodeClassReference& out) {
  return FieldReader(j, path)
      .Str("group", out.group)
      .Str("kind", out.kind)
      .Str("name", out.name)
      .status();
}

json Encode(const NodeClassReference& v) {
  return FieldWriter().Str("group", v.group).Str("kind", v.kind).Str("name", v.name).Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodeClaimResources& out) {
  return FieldReader(j, path).Resources("requests", out.requests).status();
}

json Encode(const NodeClaimResources& v) {
  return FieldWriter().Resources("requests", v.requests).Take();
}

// --- NodeClaim -------------------------------------------------------------------------------

Status Decode(const json& j, const core::JsonPath& path, NodeClaimSpec& out) {
  return FieldReader(j, path)
      .List("taints", out.taints)
      .List("startupTaints", out.startup_taints)
      .List("requirements", out.requirements)
      .Obj("resources", out.resources)
      .Obj("nodeClassRef", out.node_class_ref)
      .Str("expireAfter", out.expire_after)
      .Str("terminationGracePeriod", out.termination_grace_period)
      .status();
}

json Encode(const NodeClaimSpec& v) {
  return FieldWriter()
      .List("taints", v.taints)
      .List("startupTaints", v.startup_taints)
      .List("requirements", v.requirements)
      .Obj("resources", v.resources)
      .Obj("nodeClassRef", v.node_class_ref)
      .Str("expireAfter", v.expire_after)
      .Str("terminationGracePeriod", v.termination_grace_period)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodeClaimStatus& out) {
  return FieldReader(j, path)
      .Str("nodeName", out.node_name)
      .Str("providerID", out.provider_id)
      .Str("imageID", out.image_id)
      .Resources("capacity", out.capacity)
      .Resources("allocatable", out.allocatable)
      .List("conditions", out.conditions)
      .Str("lastPodEventTime", out.last_pod_event_time)
      .status();
}

json Encode(const NodeClaimStatus& v) {
  return FieldWriter()
      .Str("nodeName", v.node_name)
      .Str("providerID", v.provider_id)
      .Str("imageID", v.image_id)
      .Resources("capacity", v.capacity)
      .Resources("allocatable", v.allocatable)
      .List("conditions", v.conditions)
      .Str("lastPodEventTime", v.last_pod_event_time)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodeClaim& out) {
  return FieldReader(j, path)
      .Obj("metadata", out.metadata)
      .Obj("spec", out.spec)
      .Obj("status", out.status)
      .status();
}

json Encode(const NodeClaim& v) {
  return FieldWriter()
      .Always("metadata", Encode(v.metadata))
      .Obj("spec", v.spec)
      .Obj("status", v.status)
      .Take();
}

std::string_view NodeClaim::NodePoolName() const {
  auto it = metadata.labels.find(karpenter::kNodePoolLabel);
  return it == metadata.labels.end() ? std::string_view() : std::string_view(it->second);
}

bool NodeClaim::Ready() const {
  return IsConditionTrue(status.conditions, karpenter::kConditionReady);
}

// --- NodePool --------------------------------------------------------------------------------

Status Decode(const json& j, const core::JsonPath& path, NodeClaimTemplateMetadata& out) {
  return FieldReader(j, path)
      .StrMap("labels", out.labels)
      .StrMap("annotations", out.annotations)
      .status();
}

json Encode(const NodeClaimTemplateMetadata& v) {
  return FieldWriter().StrMap("labels", v.labels).StrMap("annotations", v.annotations).Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodeClaimTemplateSpec& out) {
  return FieldReader(j, path)
      .List("taints", out.taints)
      .List("startupTaints", out.startup_taints)
      .List("requirements", out.requirements)
      .Obj("nodeClassRef", out.node_class_ref)
      .Str("expireAfter", out.expire_after)
      .Str("terminationGracePeriod", out.termination_grace_period)
      .status();
}

json Encode(const NodeClaimTemplateSpec& v) {
  return FieldWriter()
      .List("taints", v.taints)
      .List("startupTaints", v.startup_taints)
      .List("requirements", v.requirements)
      .Obj("nodeClassRef", v.node_class_ref)
      .Str("expireAfter", v.expire_after)
      .Str("terminationGracePeriod", v.termination_grace_period)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodeClaimTemplate& out) {
  return FieldReader(j, path).Obj("metadata", out.metadata).Obj("spec", out.spec).status();
}

json Encode(const NodeClaimTemplate& v) {
  return FieldWriter().Obj("metadata", v.metadata).Obj("spec", v.spec).Take();
}

Status Decode(const json& j, const core::JsonPath& path, DisruptionBudget& out) {
  return FieldReader(j, path)
      .Str("nodes", out.nodes)
      .StrList("reasons", out.reasons)
      .Str("schedule", out.schedule)
      .Str("duration", out.duration)
      .status();
}

json Encode(const DisruptionBudget& v) {
  return FieldWriter()
      .Always("nodes", v.nodes)
      .StrList("reasons", v.reasons)
      .Str("schedule", v.schedule)
      .Str("duration", v.duration)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, Disruption& out) {
  return FieldReader(j, path)
      .Str("consolidateAfter", out.consolidate_after)
      .Str("consolidationPolicy", out.consolidation_policy)
      .Int32("consolidationThreshold", out.consolidation_threshold)
      .Str("consolidateWhen", out.consolidate_when)
      .Number("decisionRatioThreshold", out.decision_ratio_threshold)
      .List("budgets", out.budgets)
      .status();
}

json Encode(const Disruption& v) {
  return FieldWriter()
      .Str("consolidateAfter", v.consolidate_after)
      .Str("consolidationPolicy", v.consolidation_policy)
      .Int("consolidationThreshold", v.consolidation_threshold)
      .Str("consolidateWhen", v.consolidate_when)
      .Number("decisionRatioThreshold", v.decision_ratio_threshold)
      .List("budgets", v.budgets)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodePoolSpec& out) {
  return FieldReader(j, path)
      .Obj("template", out.template_)
      .Obj("disruption", out.disruption)
      .Resources("limits", out.limits)
      .Int32("weight", out.weight)
      .Int("replicas", out.replicas)
      .status();
}

json Encode(const NodePoolSpec& v) {
  return FieldWriter()
      .Obj("template", v.template_)
      .Obj("disruption", v.disruption)
      .Resources("limits", v.limits)
      .Int("weight", v.weight)
      .Int("replicas", v.replicas)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodePoolStatus& out) {
  return FieldReader(j, path)
      .Resources("resources", out.resources)
      .Int("nodes", out.nodes)
      .Int("nodeClassObservedGeneration", out.node_class_observed_generation)
      .List("conditions", out.conditions)
      .status();
}

json Encode(const NodePoolStatus& v) {
  return FieldWriter()
      .Resources("resources", v.resources)
      .Int("nodes", v.nodes)
      .Int("nodeClassObservedGeneration", v.node_class_observed_generation)
      .List("conditions", v.conditions)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, NodePool& out) {
  return FieldReader(j, path)
      .Obj("metadata", out.metadata)
      .Obj("spec", out.spec)
      .Obj("status", out.status)
      .status();
}

json Encode(const NodePool& v) {
  return FieldWriter()
      .Always("metadata", Encode(v.metadata))
      .Obj("spec", v.spec)
      .Obj("status", v.status)
      .Take();
}

bool NodePool::Ready() const {
  return IsConditionTrue(status.conditions, karpenter::kConditionReady);
}

// --- EC2NodeClass spec -----------------------------------------------------------------------

Status Decode(const json& j, const core::JsonPath& path, SubnetSelectorTerm& out) {
  return FieldReader(j, path)
      .StrMap("tags", out.tags)
      .Str("id", out.id)
      .Str("cidr", out.cidr)
      .status();
}

json Encode(const SubnetSelectorTerm& v) {
  return FieldWriter().StrMap("tags", v.tags).Str("id", v.id).Str("cidr", v.cidr).Take();
}

Status Decode(const json& j, const core::JsonPath& path, SecurityGroupSelectorTerm& out) {
  return FieldReader(j, path)
      .StrMap("tags", out.tags)
      .Str("id", out.id)
      .Str("name", out.name)
      .status();
}

json Encode(const SecurityGroupSelectorTerm& v) {
  return FieldWriter().StrMap("tags", v.tags).Str("id", v.id).Str("name", v.name).Take();
}

Status Decode(const json& j, const core::JsonPath& path, CapacityReservationSelectorTerm& out) {
  return FieldReader(j, path)
      .StrMap("tags", out.tags)
      .Str("id", out.id)
      .Str("ownerID", out.owner_id)
      .Str("instanceMatchCriteria", out.instance_match_criteria)
      .status();
}

json Encode(const CapacityReservationSelectorTerm& v) {
  return FieldWriter()
      .StrMap("tags", v.tags)
      .Str("id", v.id)
      .Str("ownerID", v.owner_id)
      .Str("instanceMatchCriteria", v.instance_match_criteria)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, AMISelectorTerm& out) {
  return FieldReader(j, path)
      .Str("alias", out.alias)
      .StrMap("tags", out.tags)
      .Str("id", out.id)
      .Str("name", out.name)
      .Str("owner", out.owner)
      .Str("ssmParameter", out.ssm_parameter)
      .status();
}

json Encode(const AMISelectorTerm& v) {
  return FieldWriter()
      .Str("alias", v.alias)
      .StrMap("tags", v.tags)
      .Str("id", v.id)
      .Str("name", v.name)
      .Str("owner", v.owner)
      .Str("ssmParameter", v.ssm_parameter)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, PlacementGroupSelector& out) {
  return FieldReader(j, path).Str("name", out.name).Str("id", out.id).status();
}

json Encode(const PlacementGroupSelector& v) {
  return FieldWriter().Str("name", v.name).Str("id", v.id).Take();
}

Status Decode(const json& j, const core::JsonPath& path, KubeletConfiguration& out) {
  return FieldReader(j, path)
      .StrList("clusterDNS", out.cluster_dns)
      .Int32("maxPods", out.max_pods)
      .Int32("podsPerCore", out.pods_per_core)
      .StrMap("systemReserved", out.system_reserved)
      .StrMap("kubeReserved", out.kube_reserved)
      .StrMap("evictionHard", out.eviction_hard)
      .StrMap("evictionSoft", out.eviction_soft)
      .StrMap("evictionSoftGracePeriod", out.eviction_soft_grace_period)
      .Int32("evictionMaxPodGracePeriod", out.eviction_max_pod_grace_period)
      .Int32("imageGCHighThresholdPercent", out.image_gc_high_threshold_percent)
      .Int32("imageGCLowThresholdPercent", out.image_gc_low_threshold_percent)
      .Bool("cpuCFSQuota", out.cpu_cfs_quota)
      .status();
}

json Encode(const KubeletConfiguration& v) {
  return FieldWriter()
      .StrList("clusterDNS", v.cluster_dns)
      .Int("maxPods", v.max_pods)
      .Int("podsPerCore", v.pods_per_core)
      .StrMap("systemReserved", v.system_reserved)
      .StrMap("kubeReserved", v.kube_reserved)
      .StrMap("evictionHard", v.eviction_hard)
      .StrMap("evictionSoft", v.eviction_soft)
      .StrMap("evictionSoftGracePeriod", v.eviction_soft_grace_period)
      .Int("evictionMaxPodGracePeriod", v.eviction_max_pod_grace_period)
      .Int("imageGCHighThresholdPercent", v.image_gc_high_threshold_percent)
      .Int("imageGCLowThresholdPercent", v.image_gc_low_threshold_percent)
      .Bool("cpuCFSQuota", v.cpu_cfs_quota)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, MetadataOptions& out) {
  return FieldReader(j, path)
      .Str("httpEndpoint", out.http_endpoint)
      .Str("httpProtocolIPv6", out.http_protocol_ipv6)
      .Int("httpPutResponseHopLimit", out.http_put_response_hop_limit)
      .Str("httpTokens", out.http_tokens)
      .status();
}

json Encode(const MetadataOptions& v) {
  return FieldWriter()
      .Str("httpEndpoint", v.http_endpoint)
      .Str("httpProtocolIPv6", v.http_protocol_ipv6)
      .Int("httpPutResponseHopLimit", v.http_put_response_hop_limit)
      .Str("httpTokens", v.http_tokens)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, BlockDevice& out) {
  return FieldReader(j, path)
      .Bool("deleteOnTermination", out.delete_on_termination)
      .Bool("encrypted", out.encrypted)
      .Int("iops", out.iops)
      .Str("kmsKeyID", out.kms_key_id)
      .Str("snapshotID", out.snapshot_id)
      .Int("throughput", out.throughput)
      .Int32("volumeInitializationRate", out.volume_initialization_rate)
      .Str("volumeSize", out.volume_size)
      .Str("volumeType", out.volume_type)
      .status();
}

json Encode(const BlockDevice& v) {
  return FieldWriter()
      .Bool("deleteOnTermination", v.delete_on_termination)
      .Bool("encrypted", v.encrypted)
      .Int("iops", v.iops)
      .Str("kmsKeyID", v.kms_key_id)
      .Str("snapshotID", v.snapshot_id)
      .Int("throughput", v.throughput)
      .Int("volumeInitializationRate", v.volume_initialization_rate)
      .Str("volumeSize", v.volume_size)
      .Str("volumeType", v.volume_type)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, BlockDeviceMapping& out) {
  return FieldReader(j, path)
      .Str("deviceName", out.device_name)
      .Obj("ebs", out.ebs)
      .Bool("rootVolume", out.root_volume)
      .status();
}

json Encode(const BlockDeviceMapping& v) {
  return FieldWriter()
      .Str("deviceName", v.device_name)
      .Obj("ebs", v.ebs)
      .Bool("rootVolume", v.root_volume)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, NetworkInterface& out) {
  return FieldReader(j, path)
      .Int32("networkCardIndex", out.network_card_index)
      .Int32("deviceIndex", out.device_index)
      .Str("interfaceType", out.interface_type)
      .status();
}

json Encode(const NetworkInterface& v) {
  return FieldWriter()
      .Always("networkCardIndex", v.network_card_index)
      .Always("deviceIndex", v.device_index)
      .Always("interfaceType", v.interface_type)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, ConnectionTracking& out) {
  return FieldReader(j, path)
      .Int32("tcpEstablishedTimeout", out.tcp_established_timeout)
      .Int32("udpStreamTimeout", out.udp_stream_timeout)
      .Int32("udpTimeout", out.udp_timeout)
      .status();
}

json Encode(const ConnectionTracking& v) {
  return FieldWriter()
      .Int("tcpEstablishedTimeout", v.tcp_established_timeout)
      .Int("udpStreamTimeout", v.udp_stream_timeout)
      .Int("udpTimeout", v.udp_timeout)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, EnclaveOptions& out) {
  return FieldReader(j, path).Bool("enabled", out.enabled).status();
}

json Encode(const EnclaveOptions& v) { return FieldWriter().Bool("enabled", v.enabled).Take(); }

Status Decode(const json& j, const core::JsonPath& path, CPUOptions& out) {
  return FieldReader(j, path).Str("nestedVirtualization", out.nested_virtualization).status();
}

json Encode(const CPUOptions& v) {
  return FieldWriter().Str("nestedVirtualization", v.nested_virtualization).Take();
}

Status Decode(const json& j, const core::JsonPath& path, EC2NodeClassSpec& out) {
  return FieldReader(j, path)
      .List("subnetSelectorTerms", out.subnet_selector_terms)
      .List("securityGroupSelectorTerms", out.security_group_selector_terms)
      .List("capacityReservationSelectorTerms", out.capacity_reservation_selector_terms)
      .Bool("associatePublicIPAddress", out.associate_public_ip_address)
      .Int32("ipPrefixCount", out.ip_prefix_count)
      .List("amiSelectorTerms", out.ami_selector_terms)
      .Str("amiFamily", out.ami_family)
      .Str("userData", out.user_data)
      .Str("role", out.role)
      .Str("instanceProfile", out.instance_profile)
      .StrMap("tags", out.tags)
      .Obj("kubelet", out.kubelet)
      .List("blockDeviceMappings", out.block_device_mappings)
      .Str("instanceStorePolicy", out.instance_store_policy)
      .Bool("detailedMonitoring", out.detailed_monitoring)
      .Obj("metadataOptions", out.metadata_options)
      .Obj("connectionTracking", out.connection_tracking)
      .List("networkInterfaces", out.network_interfaces)
      .Obj("placementGroupSelector", out.placement_group_selector)
      .Obj("enclaveOptions", out.enclave_options)
      .Obj("cpuOptions", out.cpu_options)
      .Str("context", out.context)
      .status();
}

json Encode(const EC2NodeClassSpec& v) {
  return FieldWriter()
      .List("subnetSelectorTerms", v.subnet_selector_terms)
      .List("securityGroupSelectorTerms", v.security_group_selector_terms)
      .List("capacityReservationSelectorTerms", v.capacity_reservation_selector_terms)
      .Bool("associatePublicIPAddress", v.associate_public_ip_address)
      .Int("ipPrefixCount", v.ip_prefix_count)
      .List("amiSelectorTerms", v.ami_selector_terms)
      .Str("amiFamily", v.ami_family)
      .Str("userData", v.user_data)
      .Str("role", v.role)
      .Str("instanceProfile", v.instance_profile)
      .StrMap("tags", v.tags)
      .Obj("kubelet", v.kubelet)
      .List("blockDeviceMappings", v.block_device_mappings)
      .Str("instanceStorePolicy", v.instance_store_policy)
      .Bool("detailedMonitoring", v.detailed_monitoring)
      .Obj("metadataOptions", v.metadata_options)
      .Obj("connectionTracking", v.connection_tracking)
      .List("networkInterfaces", v.network_interfaces)
      .Obj("placementGroupSelector", v.placement_group_selector)
      .Obj("enclaveOptions", v.enclave_options)
      .Obj("cpuOptions", v.cpu_options)
      .Str("context", v.context)
      .Take();
}

// --- EC2NodeClass status ---------------------------------------------------------------------

Status Decode(const json& j, const core::JsonPath& path, ResolvedSubnet& out) {
  return FieldReader(j, path)
      .Str("id", out.id)
      .Str("zone", out.zone)
      .Str("zoneID", out.zone_id)
      .status();
}

json Encode(const ResolvedSubnet& v) {
  return FieldWriter().Always("id", v.id).Always("zone", v.zone).Str("zoneID", v.zone_id).Take();
}

Status Decode(const json& j, const core::JsonPath& path, ResolvedSecurityGroup& out) {
  return FieldReader(j, path).Str("id", out.id).Str("name", out.name).status();
}

json Encode(const ResolvedSecurityGroup& v) {
  return FieldWriter().Always("id", v.id).Str("name", v.name).Take();
}

Status Decode(const json& j, const core::JsonPath& path, ResolvedCapacityReservation& out) {
  return FieldReader(j, path)
      .Str("availabilityZone", out.availability_zone)
      .Str("endTime", out.end_time)
      .Str("id", out.id)
      .Str("instanceMatchCriteria", out.instance_match_criteria)
      .Str("instanceType", out.instance_type)
      .Str("ownerID", out.owner_id)
      .Str("reservationType", out.reservation_type)
      .Str("state", out.state)
      .Bool("interruptible", out.interruptible)
      .status();
}

json Encode(const ResolvedCapacityReservation& v) {
  return FieldWriter()
      .Always("availabilityZone", v.availability_zone)
      .Str("endTime", v.end_time)
      .Always("id", v.id)
      .Always("instanceMatchCriteria", v.instance_match_criteria)
      .Always("instanceType", v.instance_type)
      .Always("ownerID", v.owner_id)
      .Always("reservationType", v.reservation_type)
      .Always("state", v.state)
      .Bool("interruptible", v.interruptible)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, ResolvedAMI& out) {
  return FieldReader(j, path)
      .Str("id", out.id)
      .Str("name", out.name)
      .List("requirements", out.requirements)
      .Bool("deprecated", out.deprecated)
      .status();
}

json Encode(const ResolvedAMI& v) {
  return FieldWriter()
      .Always("id", v.id)
      .Str("name", v.name)
      .RequiredList("requirements", v.requirements)
      .Bool("deprecated", v.deprecated)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, EC2NodeClassStatus& out) {
  return FieldReader(j, path)
      .List("subnets", out.subnets)
      .List("securityGroups", out.security_groups)
      .List("capacityReservations", out.capacity_reservations)
      .List("amis", out.amis)
      .Str("instanceProfile", out.instance_profile)
      .List("conditions", out.conditions)
      .status();
}

json Encode(const EC2NodeClassStatus& v) {
  return FieldWriter()
      .List("subnets", v.subnets)
      .List("securityGroups", v.security_groups)
      .List("capacityReservations", v.capacity_reservations)
      .List("amis", v.amis)
      .Str("instanceProfile", v.instance_profile)
      .List("conditions", v.conditions)
      .Take();
}

Status Decode(const json& j, const core::JsonPath& path, EC2NodeClass& out) {
  return FieldReader(j, path)
      .Obj("metadata", out.metadata)
      .Obj("spec", out.spec)
      .Obj("status", out.status)
      .status();
}

json Encode(const EC2NodeClass& v) {
  return FieldWriter()
      .Always("metadata", Encode(v.metadata))
      .Obj("spec", v.spec)
      .Obj("status", v.status)
      .Take();
}

bool EC2NodeClass::Ready() const {
  return IsConditionTrue(status.conditions, karpenter::kConditionReady);
}

}  // namespace gpufleet::kube
