// Karpenter v1's three CRDs as typed views: NodePool and NodeClaim (karpenter.sh/v1) and
// EC2NodeClass (karpenter.k8s.aws/v1).
//
// All three are complete (kComplete = true): the provisioner creates NodeClaims, updates NodePool
// and EC2NodeClass status and may PUT them whole, so every field of Karpenter v1.14 is modelled
// (plus the few newer optional ones seen upstream) and ToJson(FromJson(x)) == x for what the API
// server returns. Taints, requirements and resource lists are the core types the scheduler works
// on (core_types.h has their Decode/Encode); resource lists re-encode in canonical quantity form
// ("1000" -> "1k"), as Karpenter's own client writes them. Durations ("720h", "Never", "30s"),
// other quantities (EBS volumeSize) and timestamps keep their wire text: they are only compared
// or passed on, and keeping the text is what makes the round trip exact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/labels.h"
#include "core/node_selector_requirement.h"
#include "core/resource_list.h"
#include "core/taints.h"
#include "kube/types/meta.h"

namespace gpufleet::kube {

namespace karpenter {
// The NodePool that owns a NodeClaim (and its Node).
inline constexpr std::string_view kNodePoolLabel = "karpenter.sh/nodepool";
// Condition every Karpenter object reports once it is usable.
inline constexpr std::string_view kConditionReady = "Ready";
}  // namespace karpenter

// ---------------------------------------------------------------------------------------------
// karpenter.sh/v1: shared by NodePool's template and NodeClaim.

// Which provider NodeClass (e.g. karpenter.k8s.aws EC2NodeClass "gpu") launches the node.
struct NodeClassReference {
  std::string group;
  std::string kind;
  std::string name;

  friend bool operator==(const NodeClassReference&, const NodeClassReference&) = default;
};

// NodeClaim.spec.resources: only requests exist in v1.
struct NodeClaimResources {
  core::ResourceList requests;

  friend bool operator==(const NodeClaimResources&, const NodeClaimResources&) = default;
};

struct NodeClaimSpec {
  std::vector<core::Taint> taints;
  std::vector<core::Taint> startup_taints;
  std::vector<core::NodeSelectorRequirement> requirements;  // with minValues
  NodeClaimResources resources;
  NodeClassReference node_class_ref;
  std::optional<std::string> expire_after;              // "720h" or "Never"
  std::optional<std::string> termination_grace_period;  // "48h"

  friend bool operator==(const NodeClaimSpec&, const NodeClaimSpec&) = default;
};

struct NodeClaimStatus {
  std::string node_name;
  std::string provider_id;
  std::string image_id;
  core::ResourceList capacity;
  core::ResourceList allocatable;
  std::vector<Condition> conditions;
  std::optional<std::string> last_pod_event_time;  // RFC 3339

  friend bool operator==(const NodeClaimStatus&, const NodeClaimStatus&) = default;
};

struct NodeClaim {
  static constexpr std::string_view kApiVersion = "karpenter.sh/v1";
  static constexpr std::string_view kKind = "NodeClaim";
  static constexpr bool kComplete = true;
  static Gvr Resource() { return {"karpenter.sh", "v1", "nodeclaims", false}; }

  ObjectMeta metadata;
  NodeClaimSpec spec;
  NodeClaimStatus status;

  // The karpenter.sh/nodepool label; empty for a NodeClaim created outside a NodePool.
  std::string_view NodePoolName() const;
  // Ready=True: Launched, Registered and Initialized all hold.
  bool Ready() const;

  friend bool operator==(const NodeClaim&, const NodeClaim&) = default;
};

// ---------------------------------------------------------------------------------------------
// NodePool (karpenter.sh/v1).

// NodePool.spec.template.metadata: only labels and annotations are allowed there.
struct NodeClaimTemplateMetadata {
  core::Labels labels;
  core::Labels annotations;

  friend bool operator==(const NodeClaimTemplateMetadata&, const NodeClaimTemplateMetadata&) = default;
};

// NodeClaimSpec without resources (users cannot request resources in a template).
struct NodeClaimTemplateSpec {
  std::vector<core::Taint> taints;
  std::vector<core::Taint> startup_taints;
  std::vector<core::NodeSelectorRequirement> requirements;
  NodeClassReference node_class_ref;
  std::optional<std::string> expire_after;              // default "720h"; "Never"
  std::optional<std::string> termination_grace_period;

  friend bool operator==(const NodeClaimTemplateSpec&, const NodeClaimTemplateSpec&) = default;
};

struct NodeClaimTemplate {
  NodeClaimTemplateMetadata metadata;
  NodeClaimTemplateSpec spec;

  friend bool operator==(const NodeClaimTemplate&, const NodeClaimTemplate&) = default;
};

// How many of the pool's nodes may be disrupted at once, optionally only in a cron window.
struct DisruptionBudget {
  std::string nodes;                  // "10%" or "5"
  std::vector<std::string> reasons;   // Underutilized, Empty, Drifted; empty: all
  std::optional<std::string> schedule;  // UTC cron, "@daily"
  std::optional<std::string> duration;  // "8h", set with schedule

  friend bool operator==(const DisruptionBudget&, const DisruptionBudget&) = default;
};

struct Disruption {
  std::optional<std::string> consolidate_after;  // "0s", "30m" or "Never"
  std::string consolidation_policy;              // WhenEmpty | WhenEmptyOrUnderutilized | Balanced
  // Newer core revisions only (Balanced / cost-justified consolidation); kept so a PUT built
  // from this view does not erase them on clusters that run such a build.
  std::optional<int32_t> consolidation_threshold;
  std::string consolidate_when;
  std::optional<double> decision_ratio_threshold;
  std::vector<DisruptionBudget> budgets;

  friend bool operator==(const Disruption&, const Disruption&) = default;
};

struct NodePoolSpec {
  NodeClaimTemplate template_;  // spec.template
  Disruption disruption;
  core::ResourceList limits;  // may include "nodes"
  std::optional<int32_t> weight;    // 1..100
  std::optional<int64_t> replicas;  // static NodePools

  friend bool operator==(const NodePoolSpec&, const NodePoolSpec&) = default;
};

struct NodePoolStatus {
  core::ResourceList resources;
  std::optional<int64_t> nodes;
  int64_t node_class_observed_generation = 0;
  std::vector<Condition> conditions;

  friend bool operator==(const NodePoolStatus&, const NodePoolStatus&) = default;
};

struct NodePool {
  static constexpr std::string_view kApiVersion = "karpenter.sh/v1";
  static constexpr std::string_view kKind = "NodePool";
  static constexpr bool kComplete = true;
  static Gvr Resource() { return {"karpenter.sh", "v1", "nodepools", false}; }

  ObjectMeta metadata;
  NodePoolSpec spec;
  NodePoolStatus status;

  // Ready=True: validation succeeded and the NodeClass is ready.
  bool Ready() const;

  friend bool operator==(const NodePool&, const NodePool&) = default;
};

// ---------------------------------------------------------------------------------------------
// EC2NodeClass (karpenter.k8s.aws/v1).

struct SubnetSelectorTerm {
  core::Labels tags;  // "*" matches any value
  std::string id;
  std::string cidr;

  friend bool operator==(const SubnetSelectorTerm&, const SubnetSelectorTerm&) = default;
};

struct SecurityGroupSelectorTerm {
  core::Labels tags;
  std::string id;
  std::string name;

  friend bool operator==(const SecurityGroupSelectorTerm&, const SecurityGroupSelectorTerm&) = default;
};

// Either an id ("cr-..."), or tags / ownerID / instanceMatchCriteria (open | targeted).
struct CapacityReservationSelectorTerm {
  core::Labels tags;
  std::string id;
  std::string owner_id;
  std::string instance_match_criteria;

  friend bool operator==(const CapacityReservationSelectorTerm&,
                         const CapacityReservationSelectorTerm&) = default;
};

// Either alone an alias ("al2023@v20250505", "bottlerocket@latest"), or id | name+owner | tags |
// ssmParameter.
struct AMISelectorTerm {
  std::string alias;
  core::Labels tags;
  std::string id;
  std::string name;
  std::string owner;
  std::string ssm_parameter;

  friend bool operator==(const AMISelectorTerm&, const AMISelectorTerm&) = default;
};

// One placement group per EC2NodeClass, by name or by id.
struct PlacementGroupSelector {
  std::string name;
  std::string id;

  friend bool operator==(const PlacementGroupSelector&, const PlacementGroupSelector&) = default;
};

// The subset of the kubelet's configuration Karpenter sets (and uses for allocatable).
// Reserved and eviction values stay text: they may be quantities or percentages ("10%").
struct KubeletConfiguration {
  std::vector<std::string> cluster_dns;
  std::optional<int32_t> max_pods;
  std::optional<int32_t> pods_per_core;
  core::Labels system_reserved;  // cpu, memory, ephemeral-storage, pid
  core::Labels kube_reserved;
  core::Labels eviction_hard;  // memory.available -> "5%" or "500Mi"
  core::Labels eviction_soft;
  core::Labels eviction_soft_grace_period;  // signal -> duration "1m30s"
  std::optional<int32_t> eviction_max_pod_grace_period;
  std::optional<int32_t> image_gc_high_threshold_percent;
  std::optional<int32_t> image_gc_low_threshold_percent;
  std::optional<bool> cpu_cfs_quota;

  friend bool operator==(const KubeletConfiguration&, const KubeletConfiguration&) = default;
};

// IMDS exposure of launched instances.
struct MetadataOptions {
  std::optional<std::string> http_endpoint;       // enabled | disabled
  std::optional<std::string> http_protocol_ipv6;  // enabled | disabled
  std::optional<int64_t> http_put_response_hop_limit;
  std::optional<std::string> http_tokens;  // required | optional

  friend bool operator==(const MetadataOptions&, const MetadataOptions&) = default;
};

struct BlockDevice {
  std::optional<bool> delete_on_termination;
  std::optional<bool> encrypted;
  std::optional<int64_t> iops;
  std::optional<std::string> kms_key_id;
  std::optional<std::string> snapshot_id;
  std::optional<int64_t> throughput;
  std::optional<int32_t> volume_initialization_rate;  // MiB/s, with snapshotID
  std::optional<std::string> volume_size;              // quantity text: "100Gi", "1T"
  std::optional<std::string> volume_type;              // gp3, io2, ...

  friend bool operator==(const BlockDevice&, const BlockDevice&) = default;
};

struct BlockDeviceMapping {
  std::optional<std::string> device_name;  // "/dev/xvda"
  std::optional<BlockDevice> ebs;
  bool root_volume = false;  // kubelet's root dir lives here

  friend bool operator==(const BlockDeviceMapping&, const BlockDeviceMapping&) = default;
};

// One ENI attachment (EFA layouts). All three fields are required; 0 is a real index.
struct NetworkInterface {
  int32_t network_card_index = 0;
  int32_t device_index = 0;
  std::string interface_type;  // interface | efa-only

  friend bool operator==(const NetworkInterface&, const NetworkInterface&) = default;
};

// ENI connection-tracking timeouts, seconds.
struct ConnectionTracking {
  std::optional<int32_t> tcp_established_timeout;
  std::optional<int32_t> udp_stream_timeout;
  std::optional<int32_t> udp_timeout;

  friend bool operator==(const ConnectionTracking&, const ConnectionTracking&) = default;
};

struct EnclaveOptions {
  std::optional<bool> enabled;

  friend bool operator==(const EnclaveOptions&, const EnclaveOptions&) = default;
};

struct CPUOptions {
  std::optional<std::string> nested_virtualization;

  friend bool operator==(const CPUOptions&, const CPUOptions&) = default;
};

struct EC2NodeClassSpec {
  std::vector<SubnetSelectorTerm> subnet_selector_terms;
  std::vector<SecurityGroupSelectorTerm> security_group_selector_terms;
  std::vector<CapacityReservationSelectorTerm> capacity_reservation_selector_terms;
  std::optional<bool> associate_public_ip_address;
  std::optional<int32_t> ip_prefix_count;
  std::vector<AMISelectorTerm> ami_selector_terms;
  std::optional<std::string> ami_family;  // AL2, AL2023, Bottlerocket, Custom, Windows20xx
  std::optional<std::string> user_data;
  std::string role;                             // exactly one of role and instanceProfile
  std::optional<std::string> instance_profile;
  core::Labels tags;
  std::optional<KubeletConfiguration> kubelet;
  std::vector<BlockDeviceMapping> block_device_mappings;
  std::optional<std::string> instance_store_policy;  // RAID0
  std::optional<bool> detailed_monitoring;
  std::optional<MetadataOptions> metadata_options;
  std::optional<ConnectionTracking> connection_tracking;
  std::vector<NetworkInterface> network_interfaces;
  std::optional<PlacementGroupSelector> placement_group_selector;
  std::optional<EnclaveOptions> enclave_options;
  std::optional<CPUOptions> cpu_options;
  std::optional<std::string> context;  // EC2 CreateFleet reserved field

  friend bool operator==(const EC2NodeClassSpec&, const EC2NodeClassSpec&) = default;
};

// What the subnet / security group / AMI / reservation selectors resolved to.
struct ResolvedSubnet {
  std::string id;
  std::string zone;
  std::string zone_id;

  friend bool operator==(const ResolvedSubnet&, const ResolvedSubnet&) = default;
};

struct ResolvedSecurityGroup {
  std::string id;
  std::string name;

  friend bool operator==(const ResolvedSecurityGroup&, const ResolvedSecurityGroup&) = default;
};

struct ResolvedCapacityReservation {
  std::string availability_zone;
  std::optional<std::string> end_time;  // RFC 3339; capacity blocks drain before it
  std::string id;
  std::string instance_match_criteria;  // open | targeted
  std::string instance_type;
  std::string owner_id;
  std::string reservation_type;  // default | capacity-block
  std::string state;             // active | expiring
  std::optional<bool> interruptible;

  friend bool operator==(const ResolvedCapacityReservation&,
                         const ResolvedCapacityReservation&) = default;
};

struct ResolvedAMI {
  std::string id;
  std::string name;
  // Which instance types may use it (e.g. Nvidia AMIs: instance-gpu-count Exists).
  std::vector<core::NodeSelectorRequirement> requirements;
  bool deprecated = false;

  friend bool operator==(const ResolvedAMI&, const ResolvedAMI&) = default;
};

struct EC2NodeClassStatus {
  std::vector<ResolvedSubnet> subnets;
  std::vector<ResolvedSecurityGroup> security_groups;
  std::vector<ResolvedCapacityReservation> capacity_reservations;
  std::vector<ResolvedAMI> amis;
  std::string instance_profile;  // generated from spec.role
  std::vector<Condition> conditions;

  friend bool operator==(const EC2NodeClassStatus&, const EC2NodeClassStatus&) = default;
};

struct EC2NodeClass {
  static constexpr std::string_view kApiVersion = "karpenter.k8s.aws/v1";
  static constexpr std::string_view kKind = "EC2NodeClass";
  static constexpr bool kComplete = true;
  static Gvr Resource() { return {"karpenter.k8s.aws", "v1", "ec2nodeclasses", false}; }

  ObjectMeta metadata;
  EC2NodeClassSpec spec;
  EC2NodeClassStatus status;

  // Ready=True: subnets, security groups, AMIs and the instance profile all resolved.
  bool Ready() const;

  friend bool operator==(const EC2NodeClass&, const EC2NodeClass&) = default;
};

// ---------------------------------------------------------------------------------------------

Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeClassReference& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeClaimResources& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeClaimSpec& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeClaimStatus& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeClaim& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeClaimTemplateMetadata& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeClaimTemplateSpec& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodeClaimTemplate& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, DisruptionBudget& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, Disruption& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodePoolSpec& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodePoolStatus& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NodePool& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, SubnetSelectorTerm& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, SecurityGroupSelectorTerm& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path,
              CapacityReservationSelectorTerm& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, AMISelectorTerm& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, PlacementGroupSelector& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, KubeletConfiguration& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, MetadataOptions& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, BlockDevice& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, BlockDeviceMapping& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, NetworkInterface& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, ConnectionTracking& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, EnclaveOptions& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, CPUOptions& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, EC2NodeClassSpec& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, ResolvedSubnet& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, ResolvedSecurityGroup& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, ResolvedCapacityReservation& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, ResolvedAMI& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, EC2NodeClassStatus& out);
Status Decode(const nlohmann::json& j, const core::JsonPath& path, EC2NodeClass& out);

nlohmann::json Encode(const NodeClassReference& v);
nlohmann::json Encode(const NodeClaimResources& v);
nlohmann::json Encode(const NodeClaimSpec& v);
nlohmann::json Encode(const NodeClaimStatus& v);
nlohmann::json Encode(const NodeClaim& v);
nlohmann::json Encode(const NodeClaimTemplateMetadata& v);
nlohmann::json Encode(const NodeClaimTemplateSpec& v);
nlohmann::json Encode(const NodeClaimTemplate& v);
nlohmann::json Encode(const DisruptionBudget& v);
nlohmann::json Encode(const Disruption& v);
nlohmann::json Encode(const NodePoolSpec& v);
nlohmann::json Encode(const NodePoolStatus& v);
nlohmann::json Encode(const NodePool& v);
nlohmann::json Encode(const SubnetSelectorTerm& v);
nlohmann::json Encode(const SecurityGroupSelectorTerm& v);
nlohmann::json Encode(const CapacityReservationSelectorTerm& v);
nlohmann::json Encode(const AMISelectorTerm& v);
nlohmann::json Encode(const PlacementGroupSelector& v);
nlohmann::json Encode(const KubeletConfiguration& v);
nlohmann::json Encode(const MetadataOptions& v);
nlohmann::json Encode(const BlockDevice& v);
nlohmann::json Encode(const BlockDeviceMapping& v);
nlohmann::json Encode(const NetworkInterface& v);
nlohmann::json Encode(const ConnectionTracking& v);
nlohmann::json Encode(const EnclaveOptions& v);
nlohmann::json Encode(const CPUOptions& v);
nlohmann::json Encode(const EC2NodeClassSpec& v);
nlohmann::json Encode(const ResolvedSubnet& v);
nlohmann::json Encode(const ResolvedSecurityGroup& v);
nlohmann::json Encode(const ResolvedCapacityReservation& v);
nlohmann::json Encode(const ResolvedAMI& v);
nlohmann::json Encode(const EC2NodeClassStatus& v);
nlohmann::json Encode(const EC2NodeClass& v);

}  // namespace gpufleet::kube
