// The pod the API server and informer benchmarks store: shaped like a pod a Deployment creates
// for an inference server (about 1.3 KB of JSON).
#pragma once

#include <string>

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

}  // namespace gpufleet::bench
