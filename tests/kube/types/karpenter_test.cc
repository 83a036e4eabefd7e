// Karpenter v1 views: the seed's GPU NodePool / EC2NodeClass decode to the fields the provisioner
// reads, and ToJson(FromJson(x)) == x for full objects with status (what kComplete promises:
// an Update built from the view drops nothing).
#include "kube/types/karpenter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/yaml.h"
#include "testing/status_matchers.h"

namespace gpufleet::kube {
namespace {

using json = nlohmann::json;
using ::gpufleet::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

json Yaml(std::string_view text) {
  auto j = core::YamlToJsonSingle(text);
  EXPECT_TRUE(j.ok()) << j.status();
  return j.ok() ? *j : json();
}

// The seed (workshop "Optimizing GPU Infrastructure for LLM Inference") describes
// `kubectl get nodepool/gpu` and `ec2nodeclass/gpu`: g6e.2xlarge only, taint
// nvidia.com/gpu:NoSchedule, label nvidia.com/gpu.present=true, the accelerated AL2023 AMI,
// SOCI enabled through userData, and an ODCR patched in with
// `capacityReservationSelectorTerms: [{id: $ODCR_ID}]`. The seed does not print the manifests;
// these are them as the workshop's text describes them.
constexpr std::string_view kSeedManifests = R"yaml(
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: gpu
spec:
  template:
    metadata:
      labels:
        nvidia.com/gpu.present: "true"
    spec:
      nodeClassRef:
        group: karpenter.k8s.aws
        kind: EC2NodeClass
        name: gpu
      requirements:
        - key: node.kubernetes.io/instance-type
          operator: In
          values: ["g6e.2xlarge"]
        - key: karpenter.sh/capacity-type
          operator: In
          values: ["reserved", "on-demand"]
      taints:
        - key: nvidia.com/gpu
          effect: NoSchedule
      expireAfter: 720h
  disruption:
    consolidationPolicy: WhenEmpty
    consolidateAfter: 300s
  limits:
    nvidia.com/gpu: "4"
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: gpu
spec:
  amiSelectorTerms:
    - alias: al2023@latest
  role: KarpenterNodeRole-llm-inference
  subnetSelectorTerms:
    - tags:
        karpenter.sh/discovery: llm-inference
  securityGroupSelectorTerms:
    - tags:
        karpenter.sh/discovery: llm-inference
  capacityReservationSelectorTerms:
    - id: cr-0a1b2c3d4e5f60718
  blockDeviceMappings:
    - deviceName: /dev/xvda
      ebs:
        volumeSize: 200Gi
        volumeType: gp3
        encrypted: true
        deleteOnTermination: true
  userData: |
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="//"

    --//
    Content-Type: application/node.eks.aws

    # Enable the soci snapshotter (SOCI parallel pull) for multi-GB images
    apiVersion: node.eks.aws/v1alpha1
    kind: NodeConfig
    spec:
      featureGates:
        FastImagePull: true
    --//--
)yaml";

std::vector<json> SeedDocuments() {
  auto docs = core::YamlToJson(kSeedManifests);
  EXPECT_TRUE(docs.ok()) << docs.status();
  return docs.ok() ? *docs : std::vector<json>{};
}

TEST(KarpenterViewTest, DecodesSeedNodePool) {
  std::vector<json> docs = SeedDocuments();
  ASSERT_EQ(docs.size(), 2u);
  GF_ASSERT_OK_AND_ASSIGN(NodePool pool, FromJson<NodePool>(docs[0]));

  EXPECT_EQ(pool.metadata.name, "gpu");
  const NodeClaimTemplateSpec& spec = pool.spec.template_.spec;
  ASSERT_EQ(spec.requirements.size(), 2u);
  EXPECT_EQ(spec.requirements[0].key, "node.kubernetes.io/instance-type");
  EXPECT_EQ(spec.requirements[0].op, core::Operator::kIn);
  EXPECT_THAT(spec.requirements[0].values, ElementsAre("g6e.2xlarge"));
  EXPECT_FALSE(spec.requirements[0].min_values.has_value());
  EXPECT_THAT(spec.requirements[1].values, ElementsAre("reserved", "on-demand"));

  ASSERT_EQ(spec.taints.size(), 1u);
  EXPECT_EQ(spec.taints[0].ToString(), "nvidia.com/gpu:NoSchedule");
  EXPECT_EQ(spec.taints[0].effect, core::TaintEffect::kNoSchedule);
  EXPECT_TRUE(spec.startup_taints.empty());

  EXPECT_EQ(pool.spec.template_.metadata.labels.at("nvidia.com/gpu.present"), "true");
  EXPECT_EQ(spec.node_class_ref, (NodeClassReference{.group = "karpenter.k8s.aws",
                                                     .kind = "EC2NodeClass",
                                                     .name = "gpu"}));
  EXPECT_EQ(spec.expire_after, "720h");
  EXPECT_FALSE(spec.termination_grace_period.has_value());

  EXPECT_EQ(pool.spec.disruption.consolidation_policy, "WhenEmpty");
  EXPECT_EQ(pool.spec.disruption.consolidate_after, "300s");
  EXPECT_TRUE(pool.spec.disruption.budgets.empty());
  const core::Quantity* gpus = pool.spec.limits.Find("nvidia.com/gpu");
  ASSERT_NE(gpus, nullptr);
  EXPECT_EQ(gpus->Value(), 4);
  EXPECT_FALSE(pool.spec.weight.has_value());
  EXPECT_FALSE(pool.Ready());

  EXPECT_EQ(ToJson(pool), docs[0]);
}

TEST(KarpenterViewTest, DecodesSeedEC2NodeClass) {
  std::vector<json> docs = SeedDocuments();
  ASSERT_EQ(docs.size(), 2u);
  GF_ASSERT_OK_AND_ASSIGN(EC2NodeClass nc, FromJson<EC2NodeClass>(docs[1]));

  ASSERT_EQ(nc.spec.ami_selector_terms.size(), 1u);
  EXPECT_EQ(nc.spec.ami_selector_terms[0].alias, "al2023@latest");
  EXPECT_FALSE(nc.spec.ami_family.has_value());  // inferred from the alias
  EXPECT_EQ(nc.spec.role, "KarpenterNodeRole-llm-inference");

  ASSERT_TRUE(nc.spec.user_data.has_value());
  EXPECT_THAT(*nc.spec.user_data, HasSubstr("soci"));
  EXPECT_THAT(*nc.spec.user_data, HasSubstr("FastImagePull: true"));
  EXPECT_THAT(*nc.spec.user_data, HasSubstr("kind: NodeConfig\n"));

  ASSERT_EQ(nc.spec.capacity_reservation_selector_terms.size(), 1u);
  EXPECT_EQ(nc.spec.capacity_reservation_selector_terms[0],
            CapacityReservationSelectorTerm{.id = "cr-0a1b2c3d4e5f60718"});

  ASSERT_EQ(nc.spec.subnet_selector_terms.size(), 1u);
  EXPECT_EQ(nc.spec.subnet_selector_terms[0].tags.at("karpenter.sh/discovery"), "llm-inference");
  ASSERT_EQ(nc.spec.block_device_mappings.size(), 1u);
  const BlockDeviceMapping& root = nc.spec.block_device_mappings[0];
  EXPECT_EQ(root.device_name, "/dev/xvda");
  ASSERT_TRUE(root.ebs.has_value());
  EXPECT_EQ(root.ebs->volume_size, "200Gi");
  EXPECT_EQ(root.ebs->volume_type, "gp3");
  EXPECT_EQ(root.ebs->encrypted, true);
  EXPECT_FALSE(root.ebs->iops.has_value());
  EXPECT_FALSE(root.root_volume);
  EXPECT_FALSE(nc.spec.kubelet.has_value());
  EXPECT_FALSE(nc.Ready());

  EXPECT_EQ(ToJson(nc), docs[1]);
}

// A NodePool as the API server returns it: defaults filled in, budgets with a cron window,
// minValues, Gte, startup taints, and status.
constexpr std::string_view kFullNodePool = R"yaml(
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: gpu
  uid: 0b7c6f7e-2d3c-4a51-9a54-0f6f2b1c9d10
  resourceVersion: "48213"
  generation: 3
  creationTimestamp: "2025-06-01T10:00:00Z"
  labels:
    team: ml-platform
  annotations:
    karpenter.sh/nodepool-hash: "4012513481623584108"
    karpenter.sh/nodepool-hash-version: v3
spec:
  weight: 50
  template:
    metadata:
      labels:
        nvidia.com/gpu.present: "true"
        workload: llm-inference
      annotations:
        example.com/owner: ml-platform
    spec:
      nodeClassRef:
        group: karpenter.k8s.aws
        kind: EC2NodeClass
        name: gpu
      requirements:
        - key: node.kubernetes.io/instance-type
          operator: In
          values: ["g6e.2xlarge", "g6e.4xlarge", "g6e.12xlarge"]
          minValues: 2
        - key: karpenter.k8s.aws/instance-gpu-count
          operator: Gte
          values: ["1"]
        - key: karpenter.sh/capacity-type
          operator: In
          values: ["reserved", "on-demand"]
        - key: kubernetes.io/arch
          operator: Exists
      taints:
        - key: nvidia.com/gpu
          effect: NoSchedule
        - key: workload
          value: llm-inference
          effect: PreferNoSchedule
      startupTaints:
        - key: nvidia.com/gpu-driver-not-ready
          value: "true"
          effect: NoExecute
      expireAfter: 720h
      terminationGracePeriod: 48h
  disruption:
    consolidationPolicy: WhenEmptyOrUnderutilized
    consolidateAfter: 10m
    budgets:
      - nodes: 10%
      - nodes: "0"
        reasons: ["Underutilized", "Drifted"]
        schedule: "0 9 * * mon-fri"
        duration: 8h
  limits:
    cpu: "256"
    memory: 4000Gi
    nvidia.com/gpu: "64"
status:
  nodes: 2
  nodeClassObservedGeneration: 4
  resources:
    cpu: "16"
    ephemeral-storage: 400Gi
    memory: 126386Mi
    nodes: "2"
    nvidia.com/gpu: "2"
    pods: "116"
  conditions:
    - type: ValidationSucceeded
      status: "True"
      observedGeneration: 3
      lastTransitionTime: "2025-06-01T10:00:01Z"
      reason: ValidationSucceeded
      message: ""
    - type: NodeClassReady
      status: "True"
      observedGeneration: 3
      lastTransitionTime: "2025-06-01T10:00:02Z"
      reason: NodeClassReady
      message: ""
    - type: NodeRegistrationHealthy
      status: Unknown
      observedGeneration: 3
      lastTransitionTime: "2025-06-01T10:00:02Z"
      reason: AwaitingReconciliation
      message: object is awaiting reconciliation
    - type: Ready
      status: "True"
      observedGeneration: 3
      lastTransitionTime: "2025-06-01T10:00:02Z"
      reason: Ready
      message: ""
)yaml";

TEST(KarpenterViewTest, NodePoolRoundTripsExactly) {
  json in = Yaml(kFullNodePool);
  GF_ASSERT_OK_AND_ASSIGN(NodePool pool, FromJson<NodePool>(in));
  EXPECT_EQ(ToJson(pool), in) << ToJson(pool).dump(2);

  EXPECT_EQ(pool.spec.weight, 50);
  const auto& reqs = pool.spec.template_.spec.requirements;
  ASSERT_EQ(reqs.size(), 4u);
  EXPECT_EQ(reqs[0].min_values, 2);
  EXPECT_EQ(reqs[1].op, core::Operator::kGte);
  EXPECT_EQ(reqs[3].op, core::Operator::kExists);
  EXPECT_TRUE(reqs[3].values.empty());
  ASSERT_EQ(pool.spec.template_.spec.startup_taints.size(), 1u);
  EXPECT_EQ(pool.spec.template_.spec.startup_taints[0].effect, core::TaintEffect::kNoExecute);
  EXPECT_EQ(pool.spec.template_.spec.termination_grace_period, "48h");
  ASSERT_EQ(pool.spec.disruption.budgets.size(), 2u);
  EXPECT_EQ(pool.spec.disruption.budgets[0],
            (DisruptionBudget{.nodes = "10%"}));
  EXPECT_EQ(pool.spec.disruption.budgets[1],
            (DisruptionBudget{.nodes = "0",
                              .reasons = {"Underutilized", "Drifted"},
                              .schedule = "0 9 * * mon-fri",
                              .duration = "8h"}));
  EXPECT_EQ(pool.status.nodes, 2);
  EXPECT_EQ(pool.status.node_class_observed_generation, 4);
  EXPECT_EQ(pool.status.resources.Find("nvidia.com/gpu")->Value(), 2);
  EXPECT_TRUE(pool.Ready());
  const Condition* healthy = FindCondition(pool.status.conditions, "NodeRegistrationHealthy");
  ASSERT_NE(healthy, nullptr);
  EXPECT_EQ(healthy->status, "Unknown");

  // Decoding the encoded form gives the same view.
  GF_ASSERT_OK_AND_ASSIGN(NodePool again, FromJson<NodePool>(ToJson(pool)));
  EXPECT_EQ(again, pool);

  // Resource-list quantities are re-written in canonical form, as Karpenter's Go client writes
  // them: the same value, possibly other text.
  in["spec"]["limits"]["cpu"] = "1000";
  GF_ASSERT_OK_AND_ASSIGN(pool, FromJson<NodePool>(in));
  EXPECT_EQ(ToJson(pool)["spec"]["limits"]["cpu"], "1k");
}

TEST(KarpenterViewTest, NodePoolNewerDisruptionFieldsAndStaticPoolsRoundTrip) {
  json in = Yaml(R"yaml(
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: static-gpu
spec:
  replicas: 3
  template:
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
      requirements:
        - {key: node.kubernetes.io/instance-type, operator: In, values: ["p5.48xlarge"]}
      expireAfter: Never
  disruption:
    consolidationPolicy: Balanced
    consolidationThreshold: 2
    consolidateWhen: WhenCostJustifiesDisruption
    decisionRatioThreshold: 1.5
    consolidateAfter: Never
  limits:
    nodes: "3"
status:
  nodes: 0
)yaml");
  GF_ASSERT_OK_AND_ASSIGN(NodePool pool, FromJson<NodePool>(in));
  EXPECT_EQ(ToJson(pool), in) << ToJson(pool).dump(2);
  EXPECT_EQ(pool.spec.replicas, 3);
  EXPECT_EQ(pool.spec.template_.spec.expire_after, "Never");
  EXPECT_EQ(pool.spec.disruption.consolidation_threshold, 2);
  EXPECT_EQ(pool.spec.disruption.decision_ratio_threshold, 1.5);
  EXPECT_EQ(pool.status.nodes, 0);  // present and zero is kept, not dropped

  // An integral ratio is still a number; a string is not.
  in["spec"]["disruption"]["decisionRatioThreshold"] = 2;
  GF_ASSERT_OK_AND_ASSIGN(pool, FromJson<NodePool>(in));
  EXPECT_EQ(pool.spec.disruption.decision_ratio_threshold, 2.0);
  in["spec"]["disruption"]["decisionRatioThreshold"] = "1.5";
  EXPECT_THAT(FromJson<NodePool>(in),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("spec.disruption.decisionRatioThreshold: expected number")));
}

constexpr std::string_view kFullNodeClaim = R"yaml(
apiVersion: karpenter.sh/v1
kind: NodeClaim
metadata:
  name: gpu-x7k2p
  generateName: gpu-
  uid: 3f1e9a55-7c0b-4f7e-8a1d-5b2c6d7e8f90
  resourceVersion: "50211"
  generation: 1
  creationTimestamp: "2025-06-01T10:05:00Z"
  labels:
    karpenter.k8s.aws/ec2nodeclass: gpu
    karpenter.k8s.aws/instance-gpu-count: "1"
    karpenter.sh/capacity-type: reserved
    karpenter.sh/nodepool: gpu
    kubernetes.io/arch: amd64
    node.kubernetes.io/instance-type: g6e.2xlarge
    nvidia.com/gpu.present: "true"
    topology.kubernetes.io/zone: us-west-2a
  annotations:
    karpenter.k8s.aws/ec2nodeclass-hash: "15535182697325354914"
    karpenter.k8s.aws/ec2nodeclass-hash-version: v4
    karpenter.sh/nodepool-hash: "4012513481623584108"
    karpenter.sh/nodepool-hash-version: v3
  finalizers: ["karpenter.sh/termination"]
  ownerReferences:
    - apiVersion: karpenter.sh/v1
      kind: NodePool
      name: gpu
      uid: 0b7c6f7e-2d3c-4a51-9a54-0f6f2b1c9d10
      blockOwnerDeletion: true
spec:
  nodeClassRef:
    group: karpenter.k8s.aws
    kind: EC2NodeClass
    name: gpu
  requirements:
    - key: node.kubernetes.io/instance-type
      operator: In
      values: ["g6e.2xlarge"]
    - key: karpenter.sh/capacity-type
      operator: In
      values: ["reserved"]
    - key: karpenter.k8s.aws/capacity-reservation-id
      operator: In
      values: ["cr-0a1b2c3d4e5f60718"]
    - key: karpenter.sh/nodepool
      operator: In
      values: ["gpu"]
  resources:
    requests:
      cpu: 4150m
      memory: 30Gi
      nvidia.com/gpu: "1"
      pods: "6"
  taints:
    - key: nvidia.com/gpu
      effect: NoSchedule
  startupTaints:
    - key: nvidia.com/gpu-driver-not-ready
      value: "true"
      effect: NoExecute
  expireAfter: 720h
  terminationGracePeriod: 48h
status:
  nodeName: ip-10-0-12-34.us-west-2.compute.internal
  providerID: aws:///us-west-2a/i-0123456789abcdef0
  imageID: ami-0f1e2d3c4b5a69788
  capacity:
    cpu: "8"
    ephemeral-storage: 200Gi
    memory: 63193Mi
    nvidia.com/gpu: "1"
    pods: "58"
  allocatable:
    cpu: 7910m
    ephemeral-storage: 179Gi
    memory: 61141Mi
    nvidia.com/gpu: "1"
    pods: "58"
  conditions:
    - type: Launched
      status: "True"
      observedGeneration: 1
      lastTransitionTime: "2025-06-01T10:05:03Z"
      reason: Launched
      message: ""
    - type: Registered
      status: "True"
      observedGeneration: 1
      lastTransitionTime: "2025-06-01T10:05:41Z"
      reason: Registered
      message: ""
    - type: Initialized
      status: "True"
      observedGeneration: 1
      lastTransitionTime: "2025-06-01T10:06:12Z"
      reason: Initialized
      message: ""
    - type: Consolidatable
      status: "False"
      observedGeneration: 1
      lastTransitionTime: "2025-06-01T10:07:30Z"
      reason: ConsolidateAfterNotReached
      message: consolidateAfter has not elapsed since the last pod event
    - type: Ready
      status: "True"
      observedGeneration: 1
      lastTransitionTime: "2025-06-01T10:06:12Z"
      reason: Ready
      message: ""
  lastPodEventTime: "2025-06-01T10:07:30Z"
)yaml";

TEST(KarpenterViewTest, NodeClaimRoundTripsExactly) {
  json in = Yaml(kFullNodeClaim);
  GF_ASSERT_OK_AND_ASSIGN(NodeClaim claim, FromJson<NodeClaim>(in));
  EXPECT_EQ(ToJson(claim), in) << ToJson(claim).dump(2);

  EXPECT_EQ(claim.NodePoolName(), "gpu");
  EXPECT_TRUE(claim.Ready());
  EXPECT_EQ(claim.metadata.finalizers, std::vector<core::InternedString>{"karpenter.sh/termination"});
  ASSERT_EQ(claim.metadata.owner_references.size(), 1u);
  EXPECT_EQ(claim.metadata.owner_references[0].block_owner_deletion, true);
  EXPECT_EQ(claim.spec.resources.requests.Find("nvidia.com/gpu")->Value(), 1);
  EXPECT_EQ(claim.spec.resources.requests.Find("cpu")->MilliValue(), 4150);
  ASSERT_EQ(claim.spec.requirements.size(), 4u);
  EXPECT_EQ(claim.spec.requirements[2].key, "karpenter.k8s.aws/capacity-reservation-id");
  EXPECT_EQ(claim.status.node_name, "ip-10-0-12-34.us-west-2.compute.internal");
  EXPECT_EQ(claim.status.provider_id, "aws:///us-west-2a/i-0123456789abcdef0");
  EXPECT_EQ(claim.status.image_id, "ami-0f1e2d3c4b5a69788");
  EXPECT_EQ(claim.status.allocatable.Find("cpu")->MilliValue(), 7910);
  EXPECT_EQ(claim.status.last_pod_event_time, "2025-06-01T10:07:30Z");
  const Condition* consolidatable = FindCondition(claim.status.conditions, "Consolidatable");
  ASSERT_NE(consolidatable, nullptr);
  EXPECT_EQ(consolidatable->status, "False");
  EXPECT_EQ(consolidatable->observed_generation, 1);

  GF_ASSERT_OK_AND_ASSIGN(NodeClaim again, FromJson<NodeClaim>(ToJson(claim)));
  EXPECT_EQ(again, claim);
}

// Every EC2NodeClass field of Karpenter v1.14 (the documented full example, made consistent:
// role without instanceProfile), with a resolved status.
constexpr std::string_view kFullEC2NodeClass = R"yaml(
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: gpu
  uid: 9d8c7b6a-5f4e-4d3c-2b1a-0f9e8d7c6b5a
  resourceVersion: "47102"
  generation: 4
  creationTimestamp: "2025-06-01T09:58:00Z"
  finalizers: ["karpenter.k8s.aws/termination"]
  annotations:
    karpenter.k8s.aws/ec2nodeclass-hash: "15535182697325354914"
    karpenter.k8s.aws/ec2nodeclass-hash-version: v4
spec:
  kubelet:
    podsPerCore: 2
    maxPods: 110
    systemReserved:
      cpu: 100m
      memory: 100Mi
      ephemeral-storage: 1Gi
    kubeReserved:
      cpu: 200m
      memory: 100Mi
      ephemeral-storage: 3Gi
    evictionHard:
      memory.available: 5%
      nodefs.available: 10%
      nodefs.inodesFree: 10%
    evictionSoft:
      memory.available: 500Mi
      nodefs.available: 15%
      nodefs.inodesFree: 15%
    evictionSoftGracePeriod:
      memory.available: 1m
      nodefs.available: 1m30s
      nodefs.inodesFree: 2m
    evictionMaxPodGracePeriod: 60
    imageGCHighThresholdPercent: 85
    imageGCLowThresholdPercent: 80
    cpuCFSQuota: true
    clusterDNS: ["10.100.0.10"]
  amiFamily: AL2023
  subnetSelectorTerms:
    - tags:
        karpenter.sh/discovery: llm-inference
        environment: test
    - id: subnet-09fa4a0a8f233a921
  securityGroupSelectorTerms:
    - tags:
        karpenter.sh/discovery: llm-inference
    - name: my-security-group
    - id: sg-063d7acfb4b06c82c
  role: KarpenterNodeRole-llm-inference
  amiSelectorTerms:
    - tags:
        karpenter.sh/discovery: llm-inference
    - name: my-ami
      owner: self
    - id: ami-0123456789abcdef0
    - ssmParameter: /aws/service/eks/optimized-ami/1.33/amazon-linux-2023/x86_64/nvidia/recommended/image_id
  capacityReservationSelectorTerms:
    - tags:
        karpenter.sh/discovery: llm-inference
      ownerID: "012345678901"
    - id: cr-0a1b2c3d4e5f60718
    - instanceMatchCriteria: open
  placementGroupSelector:
    name: llm-cluster-pg
  tags:
    team: ml-platform
    app: llm-inference
  metadataOptions:
    httpEndpoint: enabled
    httpProtocolIPv6: disabled
    httpPutResponseHopLimit: 1
    httpTokens: required
  connectionTracking:
    tcpEstablishedTimeout: 300
    udpStreamTimeout: 120
    udpTimeout: 45
  blockDeviceMappings:
    - deviceName: /dev/xvda
      ebs:
        volumeSize: 100Gi
        volumeType: gp3
        iops: 10000
        encrypted: true
        kmsKeyID: 1234abcd-12ab-34cd-56ef-1234567890ab
        deleteOnTermination: true
        throughput: 125
        snapshotID: snap-0123456789abcdef0
        volumeInitializationRate: 100
      rootVolume: true
    - deviceName: /dev/xvdb
      ebs:
        volumeSize: 1T
        volumeType: io2
        iops: 16000
  networkInterfaces:
    - networkCardIndex: 0
      deviceIndex: 0
      interfaceType: interface
    - networkCardIndex: 1
      deviceIndex: 1
      interfaceType: efa-only
  ipPrefixCount: 1
  instanceStorePolicy: RAID0
  userData: |
    echo "Hello world"
  detailedMonitoring: true
  associatePublicIPAddress: false
  context: fleet-context-1
status:
  subnets:
    - id: subnet-0a462d98193ff9fac
      zone: us-west-2a
      zoneID: usw2-az1
    - id: subnet-0322dfafd76a609b6
      zone: us-west-2c
      zoneID: usw2-az3
  securityGroups:
    - id: sg-041513b454818610b
      name: ClusterSharedNodeSecurityGroup
    - id: sg-0286715698b894bca
  amis:
    - id: ami-03c3a3dcda64f5b75
      name: amazon-eks-node-al2023-x86_64-nvidia-1.33-v20250519
      requirements:
        - key: kubernetes.io/arch
          operator: In
          values: ["amd64"]
        - key: karpenter.k8s.aws/instance-gpu-count
          operator: Exists
    - id: ami-01234567890123456
      name: custom-ami-amd64
      deprecated: true
      requirements:
        - key: kubernetes.io/arch
          operator: In
          values: ["amd64"]
  capacityReservations:
    - availabilityZone: us-west-2a
      endTime: "2025-06-08T11:30:00Z"
      id: cr-01234567890123456
      instanceMatchCriteria: targeted
      instanceType: g6e.2xlarge
      interruptible: false
      ownerID: "012345678901"
      reservationType: capacity-block
      state: expiring
    - availabilityZone: us-west-2c
      id: cr-0a1b2c3d4e5f60718
      instanceMatchCriteria: open
      instanceType: g6e.2xlarge
      interruptible: true
      ownerID: "098765432109"
      reservationType: default
      state: active
  instanceProfile: llm-inference_1234567890123456789
  conditions:
    - type: InstanceProfileReady
      status: "True"
      lastTransitionTime: "2025-06-01T09:58:04Z"
      reason: InstanceProfileReady
      message: ""
    - type: SubnetsReady
      status: "True"
      lastTransitionTime: "2025-06-01T09:58:04Z"
      reason: SubnetsReady
      message: ""
    - type: SecurityGroupsReady
      status: "True"
      lastTransitionTime: "2025-06-01T09:58:04Z"
      reason: SecurityGroupsReady
      message: ""
    - type: AMIsReady
      status: "True"
      lastTransitionTime: "2025-06-01T09:58:04Z"
      reason: AMIsReady
      message: ""
    - type: CapacityReservationsReady
      status: "True"
      lastTransitionTime: "2025-06-01T09:58:04Z"
      reason: CapacityReservationsReady
      message: ""
    - type: PlacementGroupReady
      status: "True"
      lastTransitionTime: "2025-06-01T09:58:04Z"
      reason: PlacementGroupReady
      message: ""
    - type: ValidationSucceeded
      status: "True"
      lastTransitionTime: "2025-06-01T09:58:04Z"
      reason: ValidationSucceeded
      message: ""
    - type: Ready
      status: "True"
      observedGeneration: 4
      lastTransitionTime: "2025-06-01T09:58:04Z"
      reason: Ready
      message: ""
)yaml";

TEST(KarpenterViewTest, EC2NodeClassRoundTripsExactly) {
  json in = Yaml(kFullEC2NodeClass);
  GF_ASSERT_OK_AND_ASSIGN(EC2NodeClass nc, FromJson<EC2NodeClass>(in));
  EXPECT_EQ(ToJson(nc), in) << ToJson(nc).dump(2);

  ASSERT_TRUE(nc.spec.kubelet.has_value());
  EXPECT_EQ(nc.spec.kubelet->max_pods, 110);
  EXPECT_EQ(nc.spec.kubelet->pods_per_core, 2);
  EXPECT_EQ(nc.spec.kubelet->eviction_hard.at("memory.available"), "5%");
  EXPECT_EQ(nc.spec.kubelet->eviction_soft_grace_period.at("nodefs.available"), "1m30s");
  EXPECT_EQ(nc.spec.kubelet->cpu_cfs_quota, true);
  EXPECT_EQ(nc.spec.kubelet->cluster_dns, std::vector<std::string>{"10.100.0.10"});
  EXPECT_EQ(nc.spec.ami_family, "AL2023");
  EXPECT_EQ(nc.spec.capacity_reservation_selector_terms[0].owner_id, "012345678901");
  EXPECT_EQ(nc.spec.capacity_reservation_selector_terms[2].instance_match_criteria, "open");
  ASSERT_TRUE(nc.spec.placement_group_selector.has_value());
  EXPECT_EQ(nc.spec.placement_group_selector->name, "llm-cluster-pg");
  ASSERT_TRUE(nc.spec.metadata_options.has_value());
  EXPECT_EQ(nc.spec.metadata_options->http_put_response_hop_limit, 1);
  ASSERT_EQ(nc.spec.block_device_mappings.size(), 2u);
  EXPECT_TRUE(nc.spec.block_device_mappings[0].root_volume);
  EXPECT_EQ(nc.spec.block_device_mappings[0].ebs->volume_initialization_rate, 100);
  EXPECT_EQ(nc.spec.block_device_mappings[1].ebs->volume_size, "1T");
  ASSERT_EQ(nc.spec.network_interfaces.size(), 2u);
  EXPECT_EQ(nc.spec.network_interfaces[0], (NetworkInterface{0, 0, "interface"}));
  EXPECT_EQ(nc.spec.network_interfaces[1].interface_type, "efa-only");
  EXPECT_EQ(nc.spec.associate_public_ip_address, false);  // explicit false survives
  EXPECT_EQ(nc.spec.connection_tracking->udp_timeout, 45);

  ASSERT_EQ(nc.status.subnets.size(), 2u);
  EXPECT_EQ(nc.status.subnets[0].zone_id, "usw2-az1");
  ASSERT_EQ(nc.status.amis.size(), 2u);
  EXPECT_FALSE(nc.status.amis[0].deprecated);
  EXPECT_TRUE(nc.status.amis[1].deprecated);
  EXPECT_EQ(nc.status.amis[0].requirements[1].op, core::Operator::kExists);
  ASSERT_EQ(nc.status.capacity_reservations.size(), 2u);
  const ResolvedCapacityReservation& block = nc.status.capacity_reservations[0];
  EXPECT_EQ(block.reservation_type, "capacity-block");
  EXPECT_EQ(block.state, "expiring");
  EXPECT_EQ(block.end_time, "2025-06-08T11:30:00Z");
  EXPECT_EQ(block.interruptible, false);
  EXPECT_FALSE(nc.status.capacity_reservations[1].end_time.has_value());
  EXPECT_EQ(nc.status.instance_profile, "llm-inference_1234567890123456789");
  EXPECT_TRUE(nc.Ready());

  GF_ASSERT_OK_AND_ASSIGN(EC2NodeClass again, FromJson<EC2NodeClass>(ToJson(nc)));
  EXPECT_EQ(again, nc);
}

TEST(KarpenterViewTest, NewerEC2NodeClassFieldsRoundTrip) {
  json in = Yaml(R"yaml(
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: enclaves
spec:
  instanceProfile: KarpenterNodeInstanceProfile-llm
  amiSelectorTerms: [{alias: bottlerocket@v1.39.1}]
  subnetSelectorTerms: [{cidr: 10.0.0.0/20}]
  securityGroupSelectorTerms: [{id: sg-063d7acfb4b06c82c}]
  placementGroupSelector: {id: pg-0123456789abcdef0}
  enclaveOptions: {enabled: true}
  cpuOptions: {nestedVirtualization: enabled}
  kubelet: {}
)yaml");
  GF_ASSERT_OK_AND_ASSIGN(EC2NodeClass nc, FromJson<EC2NodeClass>(in));
  EXPECT_EQ(ToJson(nc), in) << ToJson(nc).dump(2);
  EXPECT_EQ(nc.spec.instance_profile, "KarpenterNodeInstanceProfile-llm");
  EXPECT_TRUE(nc.spec.role.empty());
  EXPECT_EQ(nc.spec.placement_group_selector->id, "pg-0123456789abcdef0");
  EXPECT_EQ(nc.spec.enclave_options->enabled, true);
  EXPECT_TRUE(nc.spec.kubelet.has_value());  // present but empty is kept
}

TEST(KarpenterViewTest, WrongTypeNamesTheFullFieldPath) {
  json pool = Yaml(kFullNodePool);
  pool["spec"]["template"]["spec"]["requirements"][0]["values"] = "g6e.2xlarge";
  EXPECT_THAT(FromJson<NodePool>(pool),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("spec.template.spec.requirements[0].values")));

  pool = Yaml(kFullNodePool);
  pool["spec"]["template"]["spec"]["taints"][1]["effect"] = 3;
  EXPECT_THAT(FromJson<NodePool>(pool),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("spec.template.spec.taints[1].effect")));

  pool = Yaml(kFullNodePool);
  pool["spec"]["disruption"]["budgets"][1]["reasons"] = {"Drifted", 7};
  EXPECT_THAT(FromJson<NodePool>(pool),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("NodePool gpu: spec.disruption.budgets[1].reasons[1]: "
                                 "expected string, got number")));

  pool = Yaml(kFullNodePool);
  pool["spec"]["weight"] = "50";
  EXPECT_THAT(FromJson<NodePool>(pool),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("spec.weight: expected integer")));

  json claim = Yaml(kFullNodeClaim);
  claim["status"]["allocatable"]["cpu"] = "lots";
  EXPECT_THAT(FromJson<NodeClaim>(claim),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("status.allocatable")));

  json nc = Yaml(kFullEC2NodeClass);
  nc["spec"]["blockDeviceMappings"][1]["ebs"]["iops"] = "16000";
  EXPECT_THAT(FromJson<EC2NodeClass>(nc),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("spec.blockDeviceMappings[1].ebs.iops: expected integer, got string")));

  nc = Yaml(kFullEC2NodeClass);
  nc["spec"]["kubelet"]["maxPods"] = int64_t{1} << 40;
  EXPECT_THAT(FromJson<EC2NodeClass>(nc),
              StatusIs(StatusCode::kOutOfRange, HasSubstr("spec.kubelet.maxPods")));

  nc = Yaml(kFullEC2NodeClass);
  nc["status"]["amis"][0]["requirements"][1]["operator"] = "Sometimes";
  EXPECT_THAT(FromJson<EC2NodeClass>(nc),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("status.amis[0].requirements[1].operator")));
}

TEST(KarpenterViewTest, KindMismatchIsRejected) {
  json claim = Yaml(kFullNodeClaim);
  EXPECT_THAT(FromJson<NodePool>(claim),
              StatusIs(StatusCode::kInvalidArgument,
                       HasSubstr("expected kind NodePool, got NodeClaim")));
  EXPECT_THAT(FromJson<EC2NodeClass>(Yaml(kFullNodePool)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("expected kind EC2NodeClass")));
  // Without apiVersion/kind (a list item) the object decodes, and ToJson adds them back.
  claim.erase("kind");
  claim.erase("apiVersion");
  GF_ASSERT_OK_AND_ASSIGN(NodeClaim decoded, FromJson<NodeClaim>(claim));
  EXPECT_EQ(ToJson(decoded), Yaml(kFullNodeClaim));
}

TEST(KarpenterViewTest, ResourcesAreClusterScoped) {
  Gvr pools = NodePool::Resource();
  EXPECT_EQ(pools.group, "karpenter.sh");
  EXPECT_EQ(pools.version, "v1");
  EXPECT_EQ(pools.resource, "nodepools");
  EXPECT_FALSE(pools.namespaced);

  Gvr claims = NodeClaim::Resource();
  EXPECT_EQ(claims.group, "karpenter.sh");
  EXPECT_EQ(claims.version, "v1");
  EXPECT_EQ(claims.resource, "nodeclaims");
  EXPECT_FALSE(claims.namespaced);

  Gvr classes = EC2NodeClass::Resource();
  EXPECT_EQ(classes.group, "karpenter.k8s.aws");
  EXPECT_EQ(classes.version, "v1");
  EXPECT_EQ(classes.resource, "ec2nodeclasses");
  EXPECT_FALSE(classes.namespaced);

  EXPECT_EQ(NodePool::kApiVersion, "karpenter.sh/v1");
  EXPECT_EQ(NodeClaim::kKind, "NodeClaim");
  EXPECT_EQ(EC2NodeClass::kApiVersion, "karpenter.k8s.aws/v1");
  static_assert(NodePool::kComplete && NodeClaim::kComplete && EC2NodeClass::kComplete);
}

}  // namespace
}  // namespace gpufleet::kube
