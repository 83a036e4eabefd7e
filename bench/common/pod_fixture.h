// The pod the API server and informer benchmarks store: shaped like a pod a Deployment creates
// for an inference server (about 1.3 KB of JSON).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace gpufleet::bench {

inline std::string PodJson(const std::string& name) {
  static const std::string kTemplate = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"NAME",
"namespace":"bench","labels":{"app":"llm-server","pod-template-hash":"7d9f8c6b5d","tier":"inference"},
"annotations":{"gpufleet.dev/model":"llama-3-8b"},"ownerReferences":[{"apiVersion":"apps/v1",
"kind":"ReplicaSet","name":"llm-server-7d9f8c6b5d","uid":"6f1c2a8e-0d4b-4a57-9f1e-3c2b1a0d9e8f",
"controller":true,"blockOwnerDeletion":true}]},"spec":{"containers":[{"name":"server",
"image":"public.ecr.aws/gpufleet/vllm:0.6.3","args":["--model","/models/llama-3-8b","--port","8000"],
"ports":[{"name":"http","containerPort":8000,"protocol":"TCP"}],"env":[{"name":"HF_HOME",
"value":"/models"},{"name":"NCCL_DEBUG","value":"WARN"}],"resources":{"requests":{"cpu":"4",
"memory":"16Gi","nvidia.com/gpu":"1"},"limits":{"memory":"16Gi","nvidia.com/gpu":"1"}},
"volumeMounts":[{"name":"models","mountPath":"/models"}],"imagePullPolicy":"IfNotPresent"}],
"volumes":[{"name":"models","emptyDir":{}}],"nodeSelector":{"karpenter.sh/nodepool":"gpu"},
"tolerations":[{"key":"nvidia.com/gpu","operator":"Exists","effect":"NoSchedule"}],
"restartPolicy":"Always","terminationGracePeriodSeconds":30,"schedulerName":"default-scheduler"}})";
  std::string out = kTemplate;
  out.replace(out.find("NAME"), 4, name);
  return out;
}

// The same pod as an informer sees it once it runs: with the status the kubelet reports and
// the managedFields entries of the controller-manager, the scheduler and the kubelet (about
// 4.4 KB of JSON; what most of a cluster's cached pods look like).
inline std::string RunningPodJson(const std::string& name) {
  static const std::string kStatus = R"({"phase":"Running","conditions":[
{"type":"PodReadyToStartContainers","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-25T05:00:41Z"},
{"type":"Initialized","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-25T05:00:32Z"},
{"type":"Ready","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-25T05:01:12Z"},
{"type":"ContainersReady","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-25T05:01:12Z"},
{"type":"PodScheduled","status":"True","lastProbeTime":null,"lastTransitionTime":"2026-11-25T05:00:02Z"}],
"hostIP":"10.0.131.17","hostIPs":[{"ip":"10.0.131.17"}],"podIP":"10.0.140.201","podIPs":[{"ip":"10.0.140.201"}],
"startTime":"2026-11-25T05:00:32Z","containerStatuses":[{"name":"server","state":{"running":{"startedAt":"2026-11-25T05:00:41Z"}},
"lastState":{},"ready":true,"restartCount":0,"image":"public.ecr.aws/gpufleet/vllm:0.6.3",
"imageID":"public.ecr.aws/gpufleet/vllm@sha256:9b2c41f0e2a8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2",
"containerID":"containerd://5f0e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a1908f7e6d5c4b3a291807","started":true,
"allocatedResources":{"cpu":"4","memory":"16Gi","nvidia.com/gpu":"1"},
"volumeMounts":[{"name":"models","mountPath":"/models"}]}],"qosClass":"Burstable"})";
  static const std::string kManagedFields = R"([
{"manager":"kube-controller-manager","operation":"Update","apiVersion":"v1","time":"2026-11-25T05:00:02Z","fieldsType":"FieldsV1",
"fieldsV1":{"f:metadata":{"f:labels":{".":{},"f:app":{},"f:pod-template-hash":{},"f:tier":{}},"f:annotations":{".":{},"f:gpufleet.dev/model":{}},
"f:ownerReferences":{".":{},"k:{\"uid\":\"6f1c2a8e-0d4b-4a57-9f1e-3c2b1a0d9e8f\"}":{}}},"f:spec":{"f:containers":{"k:{\"name\":\"server\"}":{".":{},
"f:args":{},"f:env":{".":{},"k:{\"name\":\"HF_HOME\"}":{".":{},"f:name":{},"f:value":{}},"k:{\"name\":\"NCCL_DEBUG\"}":{".":{},"f:name":{},"f:value":{}}},
"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\"containerPort\":8000,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{},
"f:name":{},"f:protocol":{}}},"f:resources":{".":{},"f:limits":{".":{},"f:memory":{},"f:nvidia.com/gpu":{}},"f:requests":{".":{},"f:cpu":{},
"f:memory":{},"f:nvidia.com/gpu":{}}},"f:volumeMounts":{".":{},"k:{\"mountPath\":\"/models\"}":{".":{},"f:mountPath":{},"f:name":{}}}}},
"f:nodeSelector":{},"f:restartPolicy":{},"f:schedulerName":{},"f:terminationGracePeriodSeconds":{},"f:tolerations":{},
"f:volumes":{".":{},"k:{\"name\":\"models\"}":{".":{},"f:emptyDir":{},"f:name":{}}}}}},
{"manager":"kubelet","operation":"Update","apiVersion":"v1","time":"2026-11-25T05:01:12Z","fieldsType":"FieldsV1","subresource":"status",
"fieldsV1":{"f:status":{"f:conditions":{"k:{\"type\":\"ContainersReady\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},
"k:{\"type\":\"Initialized\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}},
"k:{\"type\":\"Ready\"}":{".":{},"f:lastProbeTime":{},"f:lastTransitionTime":{},"f:status":{},"f:type":{}}},
"f:containerStatuses":{},"f:hostIP":{},"f:hostIPs":{},"f:phase":{},"f:podIP":{},"f:podIPs":{".":{},"k:{\"ip\":\"10.0.140.201\"}":{".":{},"f:ip":{}}},
"f:startTime":{}}}}])";
  nlohmann::json pod = nlohmann::json::parse(PodJson(name));
  pod["spec"]["nodeName"] = "ip-10-0-131-17.us-west-2.compute.internal";
  pod["metadata"]["managedFields"] = nlohmann::json::parse(kManagedFields);
  pod["status"] = nlohmann::json::parse(kStatus);
  return pod.dump();
}

}  // namespace gpufleet::bench
