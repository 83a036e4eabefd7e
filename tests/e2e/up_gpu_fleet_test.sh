#!/usr/bin/env bash
# Twenty GPU pods asking for 1, 2, 4 and 8 GPUs, in five waves, through `gpufleet up` with kubectl
# and the aws CLI. The seed's g6e.2xlarge ODCR (2 instances) runs out during the first wave, so
# the rest of the 1-GPU pods go on-demand.
# Known gap (docs/up.md): all sizes in ONE batch are packed Karpenter's way (first fit onto the
# claims already opened), which is not the cheapest mix; each wave here is one size. Every pod must end up Running on a node whose GPUs it
# got from the device plugin, and the fleet must be exactly the cheapest one: 1-GPU pods on
# g6e.2xlarge (reserved first), 2-GPU pods two to a g6e.12xlarge, 4-GPU pods on g6e.12xlarge,
# 8-GPU pods on g6e.48xlarge, at the price table's on-demand prices.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$HERE/lib.sh"
source "$HERE/up_lib.sh"
require_kubectl
[[ -x /usr/bin/aws ]] || { echo "SKIP: /usr/bin/aws is not installed"; exit 77; }
trap 'stop_up; cleanup' EXIT
die() { tail -30 "$WORK/up.err" >&2; fail "$*"; }
start_up "$WORK/gpufleet" "$WORK/up"

kubectl apply -f - >/dev/null <<'YAML'
apiVersion: karpenter.sh/v1
kind: NodePool
metadata:
  name: fleet
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
        values: ["g6e.2xlarge", "g6e.12xlarge", "g6e.48xlarge"]
      - key: karpenter.sh/capacity-type
        operator: In
        values: ["reserved", "on-demand"]
      taints:
      - key: nvidia.com/gpu
        effect: NoSchedule
YAML

# pods WAVE GPUS COUNT: long-running inference stand-ins selecting the fleet pool.
pods() {
  for i in $(seq 1 "$3"); do
    cat <<YAML
---
apiVersion: v1
kind: Pod
metadata:
  name: infer-$1-$2gpu-$i
  labels: {app: infer}
spec:
  nodeSelector: {karpenter.sh/nodepool: fleet}
  tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
  containers:
  - name: server
    image: vllm/vllm-openai:v0.6.3
    command: ["python3", "-m", "vllm.entrypoints.openai.api_server"]
    resources: {limits: {nvidia.com/gpu: $2}}
YAML
  done
}
running() { [[ $(kubectl get pods -l app=infer --field-selector=status.phase=Running -o name | wc -l) == "$1" ]]; }

# Deployments scaled up one after the other: 1-GPU pods first (the ODCR runs out), then 2-, 4-
# and 8-GPU pods, then more 1-GPU pods (on-demand now).
wave() {  # NAME GPUS COUNT RUNNING_AFTER
  pods "$1" "$2" "$3" | kubectl apply -f - >/dev/null
  until_true 60 running "$4" || die "wave $1: not $4 Running: $(kubectl get pods -l app=infer -o wide; kubectl get nodeclaims)"
}
wave a 1 4 4
expect_eq "$(aws ec2 describe-capacity-reservations --query 'CapacityReservations[0].AvailableInstanceCount' --output text)" "0" \
  "the ODCR is used up by the first wave"
wave b 2 6 10
wave c 4 4 14
wave d 8 2 16
wave e 1 4 20

# Every pod got its GPUs from its node's device plugin (NVIDIA_VISIBLE_DEVICES), none shared.
ALLOC=$(kubectl get pods -l app=infer -o jsonpath='{range .items[*]}{.spec.nodeName} {.spec.containers[0].resources.limits.nvidia\.com/gpu}{"\n"}{end}')
python3 - "$ALLOC" "$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.allocatable.nvidia\.com/gpu}{"\n"}{end}')" <<'PY'
import sys, collections
used = collections.Counter()
for line in sys.argv[1].splitlines():
    node, gpus = line.split()
    used[node] += int(gpus)
alloc = dict(l.split() for l in sys.argv[2].splitlines() if len(l.split()) == 2)
for node, n in used.items():
    assert n <= int(alloc[node]), f"{node}: {n} GPUs used, {alloc[node]} allocatable"
PY

# The fleet, from EC2 itself, against the cheapest placement at the price table's prices.
aws ec2 describe-instances --filters Name=instance-state-name,Values=running \
  --query 'Reservations[].Instances[].[InstanceType,InstanceLifecycle,CapacityReservationId]' --output text >"$WORK/fleet.txt"
python3 - "$WORK/fleet.txt" "$ROOT/data/aws-instance-types.json" <<'PY'
import sys, json, collections
rows = [l.split("\t") for l in open(sys.argv[1]).read().splitlines() if l.strip()]
fleet = collections.Counter((t, "reserved" if cr not in ("None", "") else "on-demand") for t, _, cr in rows)
want = collections.Counter({("g6e.2xlarge", "reserved"): 2, ("g6e.2xlarge", "on-demand"): 6,
                            ("g6e.12xlarge", "on-demand"): 7, ("g6e.48xlarge", "on-demand"): 2})
assert fleet == want, f"fleet {dict(fleet)} != predicted {dict(want)}"
prices = {t["name"]: t["onDemandPriceUSD"]["us-west-2"] for t in json.load(open(sys.argv[2]))["instanceTypes"]
          if t["name"].startswith("g6e.")}
spend = sum(prices[t] * n for (t, ct), n in fleet.items() if ct == "on-demand")
predicted = 6 * prices["g6e.2xlarge"] + 7 * prices["g6e.12xlarge"] + 2 * prices["g6e.48xlarge"]
assert abs(spend - predicted) < 1e-6, f"on-demand spend {spend:.5f} $/h != predicted {predicted:.5f} $/h"
print(f"fleet: 17 instances, 2 in the ODCR, on-demand {spend:.2f} $/h as predicted")
PY
expect_eq "$(kubectl get nodeclaims -o name | wc -l)" "17" "NodeClaims"
echo "PASS up_gpu_fleet_test"
