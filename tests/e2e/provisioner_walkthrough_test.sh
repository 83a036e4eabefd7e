#!/usr/bin/env bash
# The seed's Karpenter walkthrough with the real binaries and real clients: `gpufleet apiserver`,
# `gpufleet ec2-emulator` and `gpufleet controller`, driven by kubectl and the aws CLI with the
# seed's commands (plus --endpoint-url for the emulator). This script plays the kubelet (it
# registers the Node, then publishes nvidia.com/gpu as the device plugin would) until the
# embedded cluster's simulated nodes exist. Also: /metrics, /healthz, /readyz, leader election
# (a standby takes over after kill -9), NodeClaim deletion terminating the instance, SIGTERM.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
source "$HERE/lib.sh"
require_kubectl
AWS=/usr/bin/aws
[[ -x $AWS ]] || { echo "SKIP: /usr/bin/aws is not installed (scripts/install-deps.sh installs awscli)"; exit 77; }

EMU_PID="" CTRL_PID="" CTRL2_PID=""
stop_all() {
  for p in $CTRL2_PID $CTRL_PID $EMU_PID; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  cleanup
}
trap stop_all EXIT
logs() { for f in "$WORK"/*.err; do echo "--- $f"; tail -15 "$f"; done >&2; }
die() { logs; fail "$*"; }
# until_true SECONDS COMMAND...: polls every 0.2 s.
until_true() {
  local n=$(( $1 * 5 )); shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}

start_apiserver
"$GPUFLEET" ec2-emulator --data-dir "$WORK/ec2" --listen 127.0.0.1:0 --region us-west-2 --boot-delay 1s \
  >"$WORK/emu.out" 2>"$WORK/emu.err" &
EMU_PID=$!
until_true 20 grep -q "ready at" "$WORK/emu.out" || die "emulator not ready"
ENDPOINT=$(sed -n 's/.*ready at \([^ ]*\).*/\1/p' "$WORK/emu.out")
export AWS_SHARED_CREDENTIALS_FILE=$WORK/ec2/credentials AWS_CONFIG_FILE=$WORK/no-config AWS_REGION=us-west-2
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE

# start_controller VAR LOG: the acceptance interface, credentials from the usual variables/files.
start_controller() {
  "$GPUFLEET" controller --kubeconfig "$KUBECONFIG" --aws-endpoint "$ENDPOINT" --region us-west-2 \
    --cluster-name gpufleet --metrics-listen 127.0.0.1:0 --health-listen 127.0.0.1:0 \
    --batch-idle-duration 100ms >"$WORK/$2.out" 2>"$WORK/$2.err" &
  printf -v "$1" '%s' $!
}
# CRDs first, as a Helm install does (the controller's caches wait for them).
kubectl apply -f "$ROOT/deploy/crds/" >/dev/null
start_controller CTRL_PID controller
until_true 20 grep -q "leading" "$WORK/controller.err" || die "controller never took the lease"
METRICS=$(grep -o 'url=http://127.0.0.1:[0-9]*' "$WORK/controller.err" | sed -n 1p | cut -d= -f2)
HEALTH=$(grep -o 'url=http://127.0.0.1:[0-9]*' "$WORK/controller.err" | sed -n 2p | cut -d= -f2)
expect_eq "$(curl -fsS "$HEALTH/healthz")" "ok" "/healthz"
until_true 20 curl -fsS "$HEALTH/readyz" || die "/readyz never ready"

# The walkthrough.
kubectl apply -f "$ROOT/deploy/examples/seed/" >/dev/null
kubectl get nodepool/gpu >/dev/null
kubectl get ec2nodeclass/gpu >/dev/null
ODCR_ID=$("$AWS" ec2 describe-capacity-reservations --region $AWS_REGION --filters "Name=state,Values=active" --query "CapacityReservations[0].CapacityReservationId" --output text --endpoint-url "$ENDPOINT")
[[ $ODCR_ID == cr-* ]] || die "no ODCR: '$ODCR_ID'"
write_odcr_patch "$WORK/patch-gpu-nodeclass.yaml" "$ODCR_ID"
kubectl patch ec2nodeclass gpu --patch-file "$WORK/patch-gpu-nodeclass.yaml" --type=merge >/dev/null
kubectl get ec2nodeclass gpu -o yaml | grep -A 3 capacityReservationSelectorTerms | grep -q "$ODCR_ID" || die "patch not applied"
ready() { [[ $(kubectl get "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}') == True ]]; }
until_true 30 ready ec2nodeclass/gpu || die "EC2NodeClass gpu not Ready: $(kubectl get ec2nodeclass gpu -o jsonpath='{.status.conditions}')"
until_true 30 ready nodepool/gpu || die "NodePool gpu not Ready"
kubectl get ec2nodeclass gpu -o jsonpath='{.status.capacityReservations[*].id}' | grep -q "$ODCR_ID" || die "ODCR not resolved"

cat <<EOF2 | kubectl apply -f - >/dev/null
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
EOF2

launched() { [[ $(kubectl get nodeclaims -o jsonpath='{.items[*].status.providerID}') == aws://* ]]; }
until_true 30 launched || die "no NodeClaim launched: $(kubectl get nodeclaims -o yaml)"
expect_eq "$(kubectl get nodeclaims -o name | wc -l)" "1" "NodeClaims"
CLAIM=$(kubectl get nodeclaims -o jsonpath='{.items[0].metadata.name}')
PROVIDER_ID=$(kubectl get nodeclaim "$CLAIM" -o jsonpath='{.status.providerID}')
INSTANCE=${PROVIDER_ID##*/}
expect_eq "$(kubectl get nodeclaim "$CLAIM" -o jsonpath='{.metadata.labels.karpenter\.sh/capacity-type}')" "reserved" "capacity type"
kubectl get nodeclaims | grep -q "g6e.2xlarge *reserved" || die "kubectl get nodeclaims: $(kubectl get nodeclaims)"
expect_eq "$("$AWS" --endpoint-url "$ENDPOINT" ec2 describe-instances --instance-ids "$INSTANCE" \
  --query 'Reservations[0].Instances[0].[InstanceType,CapacityReservationId]' --output text)" \
  "g6e.2xlarge	$ODCR_ID" "instance in the reservation"
kubectl get events --field-selector involvedObject.name=nvidia-smi | grep -q Nominated || die "no Nominated event"

# The kubelet registers the node (no GPU yet), then the device plugin publishes it.
NODE=ip-10-0-1-17.us-west-2.compute.internal
cat <<EOF3 | kubectl create -f - >/dev/null
apiVersion: v1
kind: Node
metadata:
  name: $NODE
spec:
  providerID: $PROVIDER_ID
  taints:
  - key: karpenter.sh/unregistered
    effect: NoExecute
EOF3
node_status() {
  kubectl patch node "$NODE" --subresource=status --type=merge -p "{\"status\":{\"allocatable\":{\"cpu\":\"7910m\",\"memory\":\"60Gi\",\"pods\":\"58\"$1},\"capacity\":{\"cpu\":\"8\",\"memory\":\"64Gi\",\"pods\":\"58\"$1},\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\"}]}}" >/dev/null
}
node_status ""
cond() { [[ $(kubectl get nodeclaim "$CLAIM" -o jsonpath="{.status.conditions[?(@.type==\"$1\")].status}") == "$2" ]]; }
until_true 30 cond Registered True || die "not Registered"
kubectl get nodes -l nvidia.com/gpu.present=true -o name | grep -q "$NODE" || die "node lacks the NodePool's label"
kubectl get node "$NODE" -o jsonpath='{.spec.taints[*].key}' | grep -q "nvidia.com/gpu" || die "node lacks the GPU taint"
kubectl get node "$NODE" -o jsonpath='{.spec.taints[*].key}' | grep -q "karpenter.sh/unregistered" && die "unregistered taint left"
until_true 10 cond Initialized Unknown || die "Initialized should wait for the GPU"
kubectl get nodeclaim "$CLAIM" -o jsonpath='{.status.conditions[?(@.type=="Initialized")].message}' | grep -q nvidia.com/gpu \
  || die "Initialized message should name nvidia.com/gpu"
node_status ',"nvidia.com/gpu":"1"'
until_true 30 cond Ready True || die "NodeClaim never Ready"
expect_eq "$(kubectl get node "$NODE" -o jsonpath='{.metadata.labels.karpenter\.sh/initialized}')" "true" "initialized label"

# Metrics with Karpenter's names.
M=$(curl -fsS "$METRICS/metrics")
grep -q 'karpenter_nodeclaims_created_total{nodepool="gpu",reason="provisioning"} 1' <<<"$M" || die "metrics: $M"
grep -q 'karpenter_scheduler_scheduling_duration_seconds_count' <<<"$M" || die "no scheduling duration"
grep -q 'karpenter_nodes_created_total{nodepool="gpu"} 1' <<<"$M" || die "no nodes created"

# A standby controller; kill -9 the leader; the standby takes over and keeps reconciling.
start_controller CTRL2_PID standby
until_true 20 grep -q "leader elected" "$WORK/standby.err" || die "standby never saw the leader"
grep -q '"leading"\|INFO controller leading' "$WORK/standby.err" && die "standby must not lead while the leader renews"
kill -9 "$CTRL_PID"; wait "$CTRL_PID" 2>/dev/null || true; CTRL_PID=""
until_true 40 grep -q "controller leading" "$WORK/standby.err" || die "standby never took over"

# Deleting the NodeClaim terminates its instance and its Node.
kubectl delete pod nvidia-smi --grace-period=0 >/dev/null
kubectl delete nodeclaim "$CLAIM" --wait=false >/dev/null
gone() { ! kubectl get nodeclaim "$CLAIM" >/dev/null 2>&1; }
until_true 60 gone || die "NodeClaim not finalized"
state=$("$AWS" --endpoint-url "$ENDPOINT" ec2 describe-instances --instance-ids "$INSTANCE" --query 'Reservations[0].Instances[0].State.Name' --output text)
[[ $state == terminated || $state == shutting-down ]] || die "instance is $state"
kubectl get node "$NODE" >/dev/null 2>&1 && die "node still exists"

kill -TERM "$CTRL2_PID"; rc=0; wait "$CTRL2_PID" || rc=$?; CTRL2_PID=""
expect_eq "$rc" "0" "exit status after SIGTERM"
echo "PASS provisioner_walkthrough_test"
