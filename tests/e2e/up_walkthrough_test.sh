#!/usr/bin/env bash
# The seed walkthrough (../shared/seed), verbatim, against `gpufleet up`: kubectl and the aws CLI
# with nothing but the exports from DATA/env. Checks what the seed says one should see: the
# NodePool and EC2NodeClass, SOCI in the user data, no GPU node and a 0/0 DaemonSet at first,
# the region from the context and the ODCR from the emulator, the patch, then the nvidia-smi pod
# Pending, a new GPU node, the DaemonSet 1/1, the pod Running then Completed, its logs naming an
# NVIDIA L40S with memory, driver and CUDA versions, power and temperature, and the node reserved
# in the ODCR. Then `gpufleet down` / `gpufleet up`: everything is still there.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/up_lib.sh"
require_kubectl
[[ -x /usr/bin/aws ]] || { echo "SKIP: /usr/bin/aws is not installed (scripts/install-deps.sh installs awscli)"; exit 77; }
WATCHERS=()
finish() { for p in "${WATCHERS[@]}"; do kill "$p" 2>/dev/null || true; done; stop_up; cleanup; }
trap finish EXIT
DATA=$WORK/gpufleet
die() { tail -30 "$WORK/up.err" >&2; fail "$*"; }

start_up "$DATA" "$WORK/up"
grep -q "source $DATA/env" "$WORK/up.out" || die "no next steps printed: $(cat "$WORK/up.out")"
cd "$WORK"

# --- The seed, verbatim from here (watches run in the background with a timeout). ---
# Check Karpenter NodePool configuration
kubectl get nodepool/gpu > nodepool.txt

# View Karpenter NodeClass for GPU instances
kubectl get ec2nodeclass/gpu > nodeclass.txt

# Check SOCI snapshotter configuration in the NodeClass
kubectl get ec2nodeclass gpu -o jsonpath='{.spec.userData}' | grep -B 4 -A 20 "soci" > soci.txt

# Check for existing GPU nodes (may be empty initially)
kubectl get nodes -l nvidia.com/gpu.present=true > gpu-nodes-before.txt 2>&1

# Verify device plugin configuration (maybe be 0 initially since no GPU nodes are launched)
kubectl get daemonset -n nvidia-device-plugin > ds-before.txt

# Extract region from kubectl context
AWS_REGION=$(kubectl config get-contexts | grep '*' | awk '{print $2}' | cut -d':' -f4)
echo "Using AWS Region: $AWS_REGION"

# Get the ODCR ID from the current region
ODCR_ID=$(aws ec2 describe-capacity-reservations --region $AWS_REGION --filters "Name=state,Values=active" --query "CapacityReservations[0].CapacityReservationId" --output text)
echo "Found ODCR ID: $ODCR_ID"

# Create a patch file
mkdir -p manifests/100-introduction
cat <<EOF > manifests/100-introduction/patch-gpu-nodeclass.yaml
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: gpu
spec:
  capacityReservationSelectorTerms:
    - id: $ODCR_ID
EOF

# Apply the patch
kubectl patch ec2nodeclass gpu --patch-file manifests/100-introduction/patch-gpu-nodeclass.yaml --type=merge

# Verify the patch was applied
kubectl get ec2nodeclass gpu -o yaml | grep -A 3 capacityReservationSelectorTerms > patched.txt

# Deploy nvidia-smi test to trigger GPU node provisioning
cat << EOF | kubectl apply -f -
apiVersion: v1
kind: Pod
metadata:
  name: nvidia-smi
spec:
  tolerations:
  - key: "nvidia.com/gpu"
    operator: "Exists"
    effect: "NoSchedule"
  nodeSelector:
    nvidia.com/gpu.present: "true"
  containers:
  - name: nvidia-smi
    image: public.ecr.aws/amazonlinux/amazonlinux:2023-minimal
    command: ["nvidia-smi"]
    resources:
      limits:
        nvidia.com/gpu: 1
  restartPolicy: OnFailure
EOF

# Watch node provisioning and device plugin scaling
timeout 60 kubectl get nodes -w > nodes.watch 2>&1 & WATCHERS+=($!)
timeout 60 kubectl get daemonset -n nvidia-device-plugin -w > ds.watch 2>&1 & WATCHERS+=($!)
timeout 60 kubectl get pod nvidia-smi -w > pod.watch 2>&1 & WATCHERS+=($!)
# --- End of the seed's commands; now what it says we should see. ---

grep -q "^gpu " nodepool.txt || die "kubectl get nodepool/gpu: $(cat nodepool.txt)"
grep -q "^gpu " nodeclass.txt || die "kubectl get ec2nodeclass/gpu: $(cat nodeclass.txt)"
grep -q "FastImagePull: true" soci.txt || die "no SOCI setting in the user data: $(cat soci.txt)"
grep -q "No resources found" gpu-nodes-before.txt || die "GPU nodes before the pod: $(cat gpu-nodes-before.txt)"
grep -Eq "^nvidia-device-plugin +0 +0 +0 +0 +0 " ds-before.txt || die "DaemonSet before: $(cat ds-before.txt)"
expect_eq "$AWS_REGION" "us-west-2" "region from the context"
[[ $ODCR_ID == cr-* ]] || die "ODCR id: '$ODCR_ID'"
grep -q "id: $ODCR_ID" patched.txt || die "patch not shown: $(cat patched.txt)"

succeeded() { [[ $(kubectl get pod nvidia-smi -o jsonpath='{.status.phase}') == Succeeded ]]; }
until_true 50 succeeded || die "pod never Succeeded: $(kubectl get pod nvidia-smi -o yaml)"
ds_ready() { [[ $(kubectl get ds -n nvidia-device-plugin nvidia-device-plugin -o jsonpath='{.status.numberReady}') == 1 ]]; }
until_true 20 ds_ready || die "DaemonSet never 1/1"
sleep 1  # let the watches print the last transitions
for p in "${WATCHERS[@]}"; do kill "$p" 2>/dev/null || true; done; WATCHERS=()

# Pod Status: Pending, then Running, then Completed (the seed's restartPolicy OnFailure).
grep -q "Pending" pod.watch || die "pod never shown Pending: $(cat pod.watch)"
grep -q "Running" pod.watch || die "pod never shown Running: $(cat pod.watch)"
grep -q "Completed" pod.watch || die "pod never shown Completed: $(cat pod.watch)"
# Node Creation: a new GPU node, NotReady then Ready.
NODE=$(kubectl get nodes -l nvidia.com/gpu.present=true -o jsonpath='{.items[0].metadata.name}')
[[ $NODE == ip-*.us-west-2.compute.internal ]] || die "GPU node name: '$NODE'"
grep -q "$NODE.*NotReady" nodes.watch || die "node never shown NotReady: $(cat nodes.watch)"
grep -Eq "$NODE +Ready" nodes.watch || die "node never shown Ready: $(cat nodes.watch)"
# Device Plugin: READY goes from 0/0 to 1/1.
grep -Eq "^nvidia-device-plugin +0 +0 +0 " ds.watch || die "DaemonSet never shown 0/0: $(cat ds.watch)"
grep -Eq "^nvidia-device-plugin +1 +1 +1 " ds.watch || die "DaemonSet never shown 1/1: $(cat ds.watch)"

# Check the nvidia-smi output
kubectl logs nvidia-smi > smi.txt
for want in "NVIDIA-SMI 570" "Driver Version: 570" "CUDA Version: 12.8" "NVIDIA L40S" "46068MiB"; do
  grep -q -- "$want" smi.txt || die "kubectl logs nvidia-smi lacks '$want': $(cat smi.txt)"
done
grep -Eq "[0-9]+C +P[0-9]" smi.txt || die "no temperature / performance state: $(cat smi.txt)"
grep -Eq "[0-9]+W +/ +[0-9]+W" smi.txt || die "no power usage / cap: $(cat smi.txt)"

# The node: reserved capacity in the ODCR, the NodePool's label and taint, one GPU allocatable.
expect_eq "$(kubectl get node "$NODE" -o jsonpath='{.metadata.labels.karpenter\.sh/capacity-type}')" "reserved" "capacity type"
expect_eq "$(kubectl get node "$NODE" -o jsonpath='{.metadata.labels.karpenter\.k8s\.aws/capacity-reservation-id}')" "$ODCR_ID" "ODCR label"
expect_eq "$(kubectl get node "$NODE" -o jsonpath='{.metadata.labels.node\.kubernetes\.io/instance-type}')" "g6e.2xlarge" "instance type"
expect_eq "$(kubectl get node "$NODE" -o jsonpath='{.status.allocatable.nvidia\.com/gpu}')" "1" "allocatable GPUs"
kubectl get node "$NODE" -o jsonpath='{.spec.taints[*].key}' | grep -q nvidia.com/gpu || die "no GPU taint"
expect_eq "$(kubectl get node "$NODE" -o jsonpath='{.metadata.labels.nvidia\.com/gpu\.product}')" "NVIDIA-L40S" "GFD product label"
INSTANCE=$(kubectl get node "$NODE" -o jsonpath='{.spec.providerID}'); INSTANCE=${INSTANCE##*/}
expect_eq "$(aws ec2 describe-instances --instance-ids "$INSTANCE" --query 'Reservations[0].Instances[0].CapacityReservationId' --output text)" \
  "$ODCR_ID" "the instance runs in the ODCR"
expect_eq "$(kubectl get pod nvidia-smi -o jsonpath='{.spec.nodeName}')" "$NODE" "pod's node"
EVENTS=$(kubectl get events --field-selector involvedObject.name=nvidia-smi)
for reason in Nominated Scheduled Pulling Pulled Created Started; do
  grep -q "$reason" <<<"$EVENTS" || die "no $reason event: $EVENTS"
done

# State survives gpufleet down / gpufleet up.
STATUS=$("$GPUFLEET" status --data-dir "$DATA")
grep -q "gpufleet is running" <<<"$STATUS" || die "status while up: $STATUS"
grep -q "nodes 1, nodeclaims 1" <<<"$STATUS" || die "status counts: $STATUS"
DOWN=$("$GPUFLEET" down --data-dir "$DATA")
grep -q "gpufleet stopped" <<<"$DOWN" || die "down: $DOWN"
wait "$UP_PID" 2>/dev/null || true; UP_PID=""
rc=0; "$GPUFLEET" status --data-dir "$DATA" >/dev/null || rc=$?
expect_eq "$rc" "3" "status exit code when not running"
start_up "$DATA" "$WORK/up2"
expect_eq "$(kubectl get pod nvidia-smi -o jsonpath='{.status.phase}')" "Succeeded" "pod after restart"
kubectl logs nvidia-smi | grep -q "NVIDIA L40S" || die "logs lost across down/up"
expect_eq "$(kubectl get nodes -l nvidia.com/gpu.present=true -o jsonpath='{.items[0].metadata.name}')" "$NODE" "node after restart"
expect_eq "$(kubectl get nodeclaims -o jsonpath='{.items[*].status.providerID}' | wc -w)" "1" "NodeClaims after restart"
gpu_back() { [[ $(kubectl get node "$NODE" -o jsonpath='{.status.allocatable.nvidia\.com/gpu}') == 1 ]]; }
until_true 20 gpu_back || die "the restarted node's agent never published its GPU"
# A second GPU pod lands on the same node (its GPU is free again).
kubectl run smi2 --image=public.ecr.aws/amazonlinux/amazonlinux:2023-minimal --restart=Never \
  --overrides='{"spec":{"tolerations":[{"key":"nvidia.com/gpu","operator":"Exists"}],"containers":[{"name":"smi2","image":"public.ecr.aws/amazonlinux/amazonlinux:2023-minimal","command":["nvidia-smi","-L"],"resources":{"limits":{"nvidia.com/gpu":"1"}}}]}}' >/dev/null
done2() { [[ $(kubectl get pod smi2 -o jsonpath='{.status.phase}') == Succeeded ]]; }
until_true 30 done2 || die "second pod: $(kubectl get pod smi2 -o yaml)"
kubectl logs smi2 | grep -q "GPU 0: NVIDIA L40S (UUID: GPU-" || die "nvidia-smi -L: $(kubectl logs smi2)"
expect_eq "$(kubectl get pod smi2 -o jsonpath='{.spec.nodeName}')" "$NODE" "second pod's node"
stop_up
echo "PASS up_walkthrough_test"
