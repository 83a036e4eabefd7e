// Benchmarks for core/yaml.h and core/json.h: what `kubectl apply -f` of a small manifest and the
// API server's decode/encode of a Pod cost. Run through bench/run core_bench.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/yaml.h"

namespace gpufleet::core {
namespace {

// ~100 lines, three documents: a NodePool, an EC2NodeClass with userData, and a Deployment.
constexpr const char* kManifest = R"(---
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: gpu
  labels: {team: ml}
spec:
  template:
    metadata:
      labels:
        nvidia.com/gpu.present: "true"
    spec:
      nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
      requirements:
        - key: karpenter.k8s.aws/instance-family
          operator: In
          values: ["p5", "g6e", "g5"]
        - key: karpenter.sh/capacity-type
          operator: In
          values: [spot, on-demand]
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
    memory: 4000Gi
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
---
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: gpu
spec:
  amiSelectorTerms:
    - alias: al2023@latest
  role: KarpenterNodeRole-cluster
  subnetSelectorTerms:
    - tags: {karpenter.sh/discovery: cluster}
  securityGroupSelectorTerms:
    - tags: {karpenter.sh/discovery: cluster}
  blockDeviceMappings:
    - deviceName: /dev/xvda
      ebs: {volumeSize: 500Gi, volumeType: gp3, iops: 10000, encrypted: true}
  userData: |
    MIME-Version: 1.0
    Content-Type: multipart/mixed; boundary="//"

    --//
    Content-Type: text/x-shellscript; charset="us-ascii"

    #!/bin/bash
    nvidia-smi -pm 1
    --//--
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: trainer
  namespace: ml
spec:
  replicas: 4
  selector:
    matchLabels: {app: trainer}
  template:
    metadata:
      labels: {app: trainer}
    spec:
      nodeSelector:
        karpenter.sh/nodepool: gpu
      tolerations:
      - {key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}
      containers:
      - name: trainer
        image: nvcr.io/nvidia/pytorch:24.01-py3
        args: ["--epochs", "10", "--lr", "0.001"]
        env:
        - {name: NCCL_DEBUG, value: INFO}
        - {name: OMP_NUM_THREADS, value: "8"}
        resources:
          limits: {nvidia.com/gpu: 8, memory: 512Gi}
          requests: {cpu: "32", memory: 512Gi}
)";

// A ~5 KB Pod as the API server stores it: several containers with env, ports and volumes.
std::string PodJson() {
  nlohmann::json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", "trainer-7d9c8b6f5-x2x9z"},
        {"namespace", "ml"},
        {"uid", "0f3a5c8e-2b1d-4e6f-9a7c-5d4b3a2f1e0d"},
        {"resourceVersion", "123456789"},
        {"creationTimestamp", "2024-05-01T12:00:00Z"},
        {"labels", {{"app", "trainer"}, {"pod-template-hash", "7d9c8b6f5"}}},
        {"annotations", {{"karpenter.sh/do-not-disrupt", "true"}}}}},
  };
  nlohmann::json containers = nlohmann::json::array();
  for (int c = 0; c < 4; ++c) {
    nlohmann::json env = nlohmann::json::array();
    for (int e = 0; e < 22; ++e) {
      env.push_back(
          {{"name", "VAR_" + std::to_string(e)}, {"value", "value-" + std::to_string(e)}});
    }
    containers.push_back(
        {{"name", "container-" + std::to_string(c)},
         {"image", "nvcr.io/nvidia/pytorch:24.01-py3"},
         {"args", {"--epochs", "10", "--lr", "0.001"}},
         {"env", env},
         {"ports", {{{"containerPort", 8080 + c}, {"protocol", "TCP"}}}},
         {"resources",
          {{"limits", {{"nvidia.com/gpu", "2"}, {"memory", "128Gi"}}},
           {"requests", {{"cpu", "8"}, {"memory", "128Gi"}}}}},
         {"volumeMounts", {{{"name", "data"}, {"mountPath", "/data"}, {"readOnly", true}}}}});
  }
  pod["spec"] = {{"containers", containers},
                 {"nodeSelector", {{"karpenter.sh/nodepool", "gpu"}}},
                 {"restartPolicy", "Always"},
                 {"terminationGracePeriodSeconds", 30},
                 {"volumes", {{{"name", "data"}, {"emptyDir", nlohmann::json::object()}}}}};
  pod["status"] = {{"phase", "Running"}, {"podIP", "10.0.12.34"}, {"qosClass", "Burstable"}};
  return pod.dump();
}

void BM_YamlToJsonManifest(benchmark::State& state) {
  std::string text = kManifest;
  for (auto _ : state) {
    auto docs = YamlToJson(text);
    if (!docs.ok() || docs->size() != 3) std::abort();
    benchmark::DoNotOptimize(docs);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_YamlToJsonManifest);

void BM_JsonParseDumpPod(benchmark::State& state) {
  std::string text = PodJson();
  state.counters["pod_bytes"] = static_cast<double>(text.size());
  for (auto _ : state) {
    auto pod = ParseJson(text);
    if (!pod.ok()) std::abort();
    std::string out = DumpJson(*pod);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_JsonParseDumpPod);

void BM_JsonToYamlPod(benchmark::State& state) {
  auto pod = ParseJson(PodJson());
  if (!pod.ok()) std::abort();
  for (auto _ : state) {
    std::string yaml = JsonToYaml(*pod);
    benchmark::DoNotOptimize(yaml);
  }
}
BENCHMARK(BM_JsonToYamlPod);

}  // namespace
}  // namespace gpufleet::core
