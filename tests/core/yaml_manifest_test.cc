// YamlToJson on real Kubernetes and Karpenter manifests, checked field by field.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/json.h"
#include "core/yaml.h"
#include "testing/status_matchers.h"

namespace gpufleet::core {
namespace {

using json = nlohmann::json;

constexpr const char* kNodePool = R"(# A GPU NodePool (karpenter.sh/v1).
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: gpu
  labels:
    team: ml
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
        - key: karpenter.k8s.aws/instance-family
          operator: In
          values: ["p5", "g6e"]
        - key: karpenter.sh/capacity-type
          operator: In
          values: [on-demand, spot]
        - key: karpenter.k8s.aws/instance-gpu-count
          operator: Gt
          values: ["0"]
      taints:
        - key: nvidia.com/gpu
          value: "true"
          effect: NoSchedule
      expireAfter: 720h
  limits:
    cpu: 1000
    memory: 1000Gi
    nvidia.com/gpu: 64
  disruption:
    consolidationPolicy: WhenEmptyOrUnderutilized
    consolidateAfter: 1m
    budgets:
      - nodes: "10%"
      - nodes: "0"
        schedule: "0 9 * * mon-fri"
        duration: 8h
  weight: 10
)";

// userData holds trailing spaces, a '#' line, ": " and a blank line; all must survive.
constexpr const char* kEc2NodeClass = R"(apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: gpu
spec:
  amiSelectorTerms:
    - alias: al2023@latest
  role: KarpenterNodeRole-cluster
  subnetSelectorTerms:
    - tags:
        karpenter.sh/discovery: cluster
  blockDeviceMappings:
    - deviceName: /dev/xvda
      ebs:
        volumeSize: 200Gi
        volumeType: gp3
        encrypted: yes
  metadataOptions:
    httpPutResponseHopLimit: 1
    httpTokens: required
  userData: |
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="BOUNDARY"

    --BOUNDARY
    Content-Type: text/x-shellscript; charset="us-ascii"

    #!/bin/bash
    echo "max_pods: 110" >> /etc/config)"
                                      "   \n"  // Trailing spaces, kept visible.
                                      R"(      indented: yes
    --BOUNDARY--
)";

constexpr const char* kUserData =
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\n"
    "\n"
    "--BOUNDARY\n"
    "Content-Type: text/x-shellscript; charset=\"us-ascii\"\n"
    "\n"
    "#!/bin/bash\n"
    "echo \"max_pods: 110\" >> /etc/config   \n"
    "  indented: yes\n"
    "--BOUNDARY--\n";

TEST(YamlManifest, NodePoolFieldByField) {
  GF_ASSERT_OK_AND_ASSIGN(json np, YamlToJsonSingle(kNodePool));
  EXPECT_EQ(*GetString(np, "apiVersion"), "karpenter.sh/v1");
  EXPECT_EQ(*GetString(np, "kind"), "NodePool");
  EXPECT_EQ(*GetString(np, "metadata.name"), "gpu");
  EXPECT_EQ(*GetString(np, "metadata.labels.team"), "ml");
  EXPECT_EQ(*GetString(np, "spec.template.metadata.labels[nvidia.com/gpu.present]"), "true");
  EXPECT_EQ(*GetString(np, "spec.template.spec.nodeClassRef.kind"), "EC2NodeClass");
  GF_ASSERT_OK_AND_ASSIGN(const json* reqs, GetArray(np, "spec.template.spec.requirements"));
  ASSERT_EQ(reqs->size(), 3u);
  EXPECT_EQ((*reqs)[0]["values"], json::array({"p5", "g6e"}));
  EXPECT_EQ((*reqs)[1]["values"], json::array({"on-demand", "spot"}));
  EXPECT_EQ(*GetString(np, "spec.template.spec.requirements[2].operator"), "Gt");
  EXPECT_EQ(*GetString(np, "spec.template.spec.requirements[2].values[0]"), "0");
  EXPECT_EQ(*GetString(np, "spec.template.spec.taints[0].value"), "true");
  EXPECT_EQ(*GetString(np, "spec.template.spec.taints[0].effect"), "NoSchedule");
  EXPECT_EQ(*GetString(np, "spec.template.spec.expireAfter"), "720h");
  EXPECT_EQ(*GetInt64(np, "spec.limits.cpu"), 1000);
  EXPECT_EQ(*GetString(np, "spec.limits.memory"), "1000Gi");
  EXPECT_EQ(*GetInt64(np, "spec.limits[nvidia.com/gpu]"), 64);
  EXPECT_EQ(*GetString(np, "spec.disruption.consolidateAfter"), "1m");
  EXPECT_EQ(*GetString(np, "spec.disruption.budgets[0].nodes"), "10%");
  EXPECT_EQ(*GetString(np, "spec.disruption.budgets[1].nodes"), "0");
  EXPECT_EQ(*GetString(np, "spec.disruption.budgets[1].schedule"), "0 9 * * mon-fri");
  EXPECT_EQ(*GetString(np, "spec.disruption.budgets[1].duration"), "8h");
  EXPECT_EQ(*GetInt64(np, "spec.weight"), 10);
  EXPECT_EQ(np.size(), 4u);
}

TEST(YamlManifest, Ec2NodeClassUserDataByteForByte) {
  GF_ASSERT_OK_AND_ASSIGN(json nc, YamlToJsonSingle(kEc2NodeClass));
  EXPECT_EQ(*GetString(nc, "spec.userData"), kUserData);
  EXPECT_EQ(*GetBool(nc, "spec.blockDeviceMappings[0].ebs.encrypted"), true);  // YAML 1.1 "yes".
  EXPECT_EQ(*GetString(nc, "spec.blockDeviceMappings[0].ebs.volumeSize"), "200Gi");
  EXPECT_EQ(*GetInt64(nc, "spec.metadataOptions.httpPutResponseHopLimit"), 1);
  EXPECT_EQ(*GetString(nc, "spec.amiSelectorTerms[0].alias"), "al2023@latest");
  EXPECT_EQ(*GetString(nc, "spec.subnetSelectorTerms[0].tags[karpenter.sh/discovery]"), "cluster");
}

TEST(YamlManifest, MultiDocumentApplyFile) {
  std::string stream = std::string("---\n# leading empty document\n---\n") + kNodePool + "---\n" +
                       kEc2NodeClass + "---\n";
  GF_ASSERT_OK_AND_ASSIGN(std::vector<json> docs, YamlToJson(stream));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["kind"], "NodePool");
  EXPECT_EQ(docs[1]["kind"], "EC2NodeClass");
}

TEST(YamlManifest, PodWithVersionLikeValues) {
  GF_ASSERT_OK_AND_ASSIGN(json pod, YamlToJsonSingle(R"(
apiVersion: v1
kind: Pod
metadata:
  name: trainer
  annotations:
    version: 1.10
    quoted-version: "1.10"
    enabled: on
spec:
  containers:
  - name: main
    image: nvcr.io/nvidia/pytorch:24.01-py3
    args: ["--lr", 0.001, --epochs, 10]
    ports:
    - containerPort: 8080
    resources:
      limits:
        nvidia.com/gpu: 8
        cpu: 500m
)"));
  EXPECT_EQ(pod["metadata"]["annotations"]["version"], 1.1);  // Not a valid annotation: a float.
  EXPECT_EQ(pod["metadata"]["annotations"]["quoted-version"], "1.10");
  EXPECT_EQ(pod["metadata"]["annotations"]["enabled"], true);
  EXPECT_EQ(*GetString(pod, "spec.containers[0].image"), "nvcr.io/nvidia/pytorch:24.01-py3");
  EXPECT_EQ(pod["spec"]["containers"][0]["args"],
            json::parse(R"(["--lr", 0.001, "--epochs", 10])"));
  EXPECT_EQ(*GetInt64(pod, "spec.containers[0].ports[0].containerPort"), 8080);
  EXPECT_EQ(*GetString(pod, "spec.containers[0].resources.limits.cpu"), "500m");
}

TEST(YamlManifest, ManifestsRoundTripThroughJsonToYaml) {
  for (const char* manifest : {kNodePool, kEc2NodeClass}) {
    GF_ASSERT_OK_AND_ASSIGN(json original, YamlToJsonSingle(manifest));
    std::string yaml = JsonToYaml(original);
    GF_ASSERT_OK_AND_ASSIGN(json again, YamlToJsonSingle(yaml));
    EXPECT_EQ(again, original) << yaml;
  }
}

}  // namespace
}  // namespace gpufleet::core
