#!/usr/bin/env bash
# `gpufleet agent` (mock GPUs) against `gpufleet apiserver`, seen through real kubectl: the
# DaemonSet manifest applies, the agent labels its Node by server-side apply (the seed's
# `kubectl get nodes -l nvidia.com/gpu.present=true` finds it), writes the NFD features file,
# serves its device plugin socket, keeps others' labels, and stops cleanly on SIGTERM.
source "$(dirname "$0")/lib.sh"
require_kubectl
set +o pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)

start_apiserver
kubectl apply -f "$ROOT/deploy/agent/daemonset.yaml" >"$WORK/ds.out" 2>&1 || { cat "$WORK/ds.out"; fail "apply the agent DaemonSet"; }
grep -q "daemonset.apps/nvidia-device-plugin created" "$WORK/ds.out" || { cat "$WORK/ds.out"; fail "DaemonSet created"; }
kubectl get daemonset -n nvidia-device-plugin nvidia-device-plugin >/dev/null || fail "kubectl get daemonset -n nvidia-device-plugin"

# A GPU node as the kubelet registers it, with a label of someone else's.
kubectl apply -f - >/dev/null <<YAML || fail "create node"
apiVersion: v1
kind: Node
metadata:
  name: ip-10-0-1-23.us-west-2.compute.internal
  labels:
    karpenter.sh/nodepool: gpu
YAML
expect_eq "$(kubectl get nodes -l nvidia.com/gpu.present=true -o name | wc -l)" "0" "GPU nodes before the agent"

PLUGINS=$WORK/device-plugins
mkdir -p "$PLUGINS"
"$GPUFLEET" agent --gpu-backend mock --mock-machine p5.48xlarge --mock-seed i-0123 \
  --device-plugin-path "$PLUGINS" --node-name ip-10-0-1-23.us-west-2.compute.internal \
  --kubeconfig "$KUBECONFIG" --features-file "$WORK/features.d/gfd" --label-interval 1s \
  >"$WORK/agent.out" 2>"$WORK/agent.err" &
AGENT_PID=$!
trap 'kill $AGENT_PID 2>/dev/null || true; cleanup' EXIT

for _ in $(seq 1 100); do
  [[ $(kubectl get nodes -l nvidia.com/gpu.present=true -o name | wc -l) == 1 ]] && break
  kill -0 $AGENT_PID 2>/dev/null || { cat "$WORK/agent.err"; fail "agent exited"; }
  sleep 0.1
done
kubectl get nodes -l nvidia.com/gpu.present=true -o name | grep -q "node/ip-10-0-1-23" || { cat "$WORK/agent.err"; fail "node labelled"; }
label() { kubectl get node ip-10-0-1-23.us-west-2.compute.internal -o "jsonpath={.metadata.labels.nvidia\.com/$1}"; }
expect_eq "$(label gpu\\.product)" "NVIDIA-H100-80GB-HBM3" "gpu.product"
expect_eq "$(label gpu\\.count)" "8" "gpu.count"
expect_eq "$(label gpu\\.memory)" "81559" "gpu.memory"
expect_eq "$(label gpu\\.family)" "hopper" "gpu.family"
expect_eq "$(label gpu\\.machine)" "p5.48xlarge" "gpu.machine"
expect_eq "$(kubectl get node ip-10-0-1-23.us-west-2.compute.internal -o 'jsonpath={.metadata.labels.karpenter\.sh/nodepool}')" \
  "gpu" "the kubelet's label is kept"
# Server-side apply: the agent is the labels' manager.
kubectl get node ip-10-0-1-23.us-west-2.compute.internal -o yaml --show-managed-fields | grep -q "manager: gpufleet-agent" \
  || fail "labels managed by gpufleet-agent"

grep -q "^nvidia.com/gpu.count=8$" "$WORK/features.d/gfd" || fail "NFD features file"
[[ -S $PLUGINS/nvidia-gpu.sock ]] || fail "device plugin socket served"

kill -TERM $AGENT_PID
wait $AGENT_PID || fail "agent exit status on SIGTERM"
[[ ! -e $PLUGINS/nvidia-gpu.sock ]] || fail "socket removed on exit"
echo PASS
