#!/usr/bin/env bash
# Real kubectl against `gpufleet apiserver` with the shipped Karpenter v1 CRDs (deploy/crds) and the
# seed's NodePool/EC2NodeClass (deploy/examples/seed): names, short names, categories, printer
# columns and the walkthrough's commands. The API server stores CRD schemas but does not evaluate
# them (no defaulting, no CEL); the controller validates objects, so that is not tested here.
source "$(dirname "$0")/lib.sh"
require_kubectl
# Pipelines end in grep -q, which may close the pipe early: judge them by grep alone.
set +o pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CRDS=$ROOT/deploy/crds
SEED=$ROOT/deploy/examples/seed

# Every shipped manifest is well-formed YAML. PyYAML: the python3 on PATH, else Debian's
# (python3-yaml comes with python3-kubernetes from scripts/install-deps.sh).
PY=""
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import yaml' 2>/dev/null; then PY=$p; break; fi
done
[[ -n $PY ]] || { echo "SKIP: no python3 with PyYAML (scripts/install-deps.sh installs it)"; exit 77; }
for f in "$CRDS"/*.yaml "$SEED"/*.yaml; do
  "$PY" -c 'import yaml,sys; list(yaml.safe_load_all(open(sys.argv[1])))' "$f" || fail "YAML does not parse: $f"
done
expect_eq "$(find "$CRDS" -maxdepth 1 -name '*.yaml' | wc -l)" "3" "CRD files"

start_apiserver

# The CRDs register; applying them again is a no-op.
kubectl apply -f "$CRDS/" >"$WORK/crds.out" 2>&1 || { cat "$WORK/crds.out"; fail "apply CRDs"; }
for crd in nodepools.karpenter.sh nodeclaims.karpenter.sh ec2nodeclasses.karpenter.k8s.aws; do
  grep -q "customresourcedefinition.apiextensions.k8s.io/$crd created" "$WORK/crds.out" || fail "CRD $crd created"
done
kubectl apply -f "$CRDS/" | grep -c unchanged | grep -qx 3 || fail "re-applying the CRDs is a no-op"

# Discovery: kinds, scope, short names.
kubectl api-resources --api-group=karpenter.sh >"$WORK/ar-sh.out" || fail "api-resources karpenter.sh"
grep -Eq '^nodepools +karpenter\.sh/v1 +false +NodePool$' "$WORK/ar-sh.out" || { cat "$WORK/ar-sh.out"; fail "NodePool listed"; }
grep -Eq '^nodeclaims +karpenter\.sh/v1 +false +NodeClaim$' "$WORK/ar-sh.out" || { cat "$WORK/ar-sh.out"; fail "NodeClaim listed"; }
kubectl api-resources --api-group=karpenter.k8s.aws | grep -Eq '^ec2nodeclasses +ec2nc,ec2ncs +karpenter\.k8s\.aws/v1 +false +EC2NodeClass$' \
  || fail "EC2NodeClass listed with its short names"

# The seed's objects.
kubectl apply -f "$SEED/" >"$WORK/seed.out" 2>&1 || { cat "$WORK/seed.out"; fail "apply seed"; }
grep -q "nodepool.karpenter.sh/gpu created" "$WORK/seed.out" || fail "seed NodePool created"
grep -q "ec2nodeclass.karpenter.k8s.aws/gpu created" "$WORK/seed.out" || fail "seed EC2NodeClass created"
kubectl get nodepool/gpu | grep -q "^gpu " || fail "get nodepool/gpu"
kubectl get ec2nodeclass/gpu | grep -q "^gpu " || fail "get ec2nodeclass/gpu"
kubectl get ec2nodeclass gpu -o jsonpath='{.spec.userData}' | grep -B 4 -A 20 soci | grep -q "FastImagePull: true" \
  || fail "userData with soci and FastImagePull"
expect_eq "$(kubectl get nodepool gpu -o jsonpath='{.spec.template.spec.nodeClassRef.kind}/{.spec.template.spec.nodeClassRef.name}')" \
  "EC2NodeClass/gpu" "NodePool nodeClassRef"
expect_eq "$(kubectl get ec2nodeclass gpu -o jsonpath='{.spec.subnetSelectorTerms[0].tags.karpenter\.sh/discovery}/{.spec.role}/{.spec.amiSelectorTerms[0].alias}')" \
  "gpufleet/KarpenterNodeRole-gpufleet/al2023@latest" "EC2NodeClass selectors, role and alias"

# Short names (upstream gives NodePool and NodeClaim none; EC2NodeClass has ec2nc and ec2ncs).
kubectl get ec2nc | grep -q "^gpu " || fail "short name ec2nc"
kubectl get ec2ncs gpu -o name | grep -qx "ec2nodeclass.karpenter.k8s.aws/gpu" || fail "short name ec2ncs"
kubectl get nodepools | grep -q "^gpu " || fail "plural nodepools"
kubectl get nodepool gpu -o name | grep -qx "nodepool.karpenter.sh/gpu" || fail "singular nodepool"

# Printer columns as upstream: the priority-1 ones only with -o wide.
header() { head -1 | tr -s ' ' | sed 's/ $//'; }
expect_eq "$(kubectl get nodepools | header)" "NAME NODECLASS NODES READY AGE" "NodePool columns"
expect_eq "$(kubectl get nodepools -o wide | header)" "NAME NODECLASS NODES READY AGE WEIGHT CPU MEMORY" \
  "NodePool wide columns"
kubectl get nodepools | grep -Eq '^gpu +gpu +' || fail "NodePool NodeClass column"
expect_eq "$(kubectl get ec2nodeclasses | header)" "NAME READY AGE" "EC2NodeClass columns"
expect_eq "$(kubectl get ec2nodeclasses -o wide | header)" "NAME READY AGE ROLE" "EC2NodeClass wide columns"
kubectl get ec2nodeclasses -o wide | grep -Eq '^gpu +.*KarpenterNodeRole-gpufleet$' || fail "EC2NodeClass Role column"

# Status columns fill in once a controller writes status (here by hand, through /status).
kubectl patch nodepool gpu --subresource=status --type=merge -p '{"status":{"nodes":1,
  "resources":{"cpu":"8","memory":"64Gi","nodes":"1"},
  "conditions":[{"type":"Ready","status":"True","reason":"Ready","message":"","lastTransitionTime":"2025-06-01T10:00:00Z"}]}}' \
  >/dev/null || fail "patch NodePool status"
kubectl get nodepools -o wide | grep -Eq '^gpu +gpu +1 +True +[0-9a-z]+ +8 +64Gi$' || {
  kubectl get nodepools -o wide; fail "NodePool status columns"; }

# A NodeClaim, as the provisioner would write it: columns read escaped label keys.
kubectl create -f - >/dev/null <<'YAML' || fail "create NodeClaim"
apiVersion: karpenter.sh/v1
kind: NodeClaim
metadata:
  name: gpu-abcde
  labels:
    karpenter.sh/nodepool: gpu
    karpenter.sh/capacity-type: reserved
    node.kubernetes.io/instance-type: g6e.2xlarge
    topology.kubernetes.io/zone: us-east-1a
spec:
  nodeClassRef: {group: karpenter.k8s.aws, kind: EC2NodeClass, name: gpu}
  requirements:
    - {key: node.kubernetes.io/instance-type, operator: In, values: [g6e.2xlarge]}
    - {key: karpenter.k8s.aws/instance-gpu-count, operator: Gte, values: ["1"]}
  resources:
    requests: {nvidia.com/gpu: "1"}
YAML
expect_eq "$(kubectl get nodeclaims | header)" "NAME TYPE CAPACITY ZONE NODE READY AGE" "NodeClaim columns"
expect_eq "$(kubectl get nodeclaims -o wide | header)" \
  "NAME TYPE CAPACITY ZONE NODE READY AGE IMAGEID ID NODEPOOL NODECLASS DRIFTED" "NodeClaim wide columns"
kubectl get nodeclaims | grep -Eq '^gpu-abcde +g6e\.2xlarge +reserved +us-east-1a +' || {
  kubectl get nodeclaims; fail "NodeClaim label columns"; }
kubectl get nodeclaims -o wide | grep -Eq ' gpu +gpu *$' || { kubectl get nodeclaims -o wide; fail "NodeClaim NodePool/NodeClass columns"; }

# The category lists every Karpenter object.
kubectl get karpenter >"$WORK/category.out" 2>&1 || { cat "$WORK/category.out"; fail "get karpenter"; }
for name in nodepool.karpenter.sh/gpu nodeclaim.karpenter.sh/gpu-abcde ec2nodeclass.karpenter.k8s.aws/gpu; do
  grep -q "^$name " "$WORK/category.out" || { cat "$WORK/category.out"; fail "category karpenter lists $name"; }
done
expect_eq "$(kubectl get karpenter -o name | sort | tr '\n' ' ')" \
  "ec2nodeclass.karpenter.k8s.aws/gpu nodeclaim.karpenter.sh/gpu-abcde nodepool.karpenter.sh/gpu " "category -o name"

# The walkthrough pins the ODCR by id with a merge patch.
write_odcr_patch "$WORK/patch-gpu-nodeclass.yaml" cr-0123456789abcdef0
kubectl patch ec2nodeclass gpu --patch-file "$WORK/patch-gpu-nodeclass.yaml" --type=merge | grep -q patched \
  || fail "merge patch with capacityReservationSelectorTerms"
kubectl get ec2nodeclass gpu -o yaml | grep -A 3 capacityReservationSelectorTerms | grep -q "id: cr-0123456789abcdef0" \
  || fail "patched capacityReservationSelectorTerms shows the id"
expect_eq "$(kubectl get ec2nodeclass gpu -o jsonpath='{.spec.capacityReservationSelectorTerms}')" \
  '[{"id":"cr-0123456789abcdef0"}]' "merge patch replaces the list"
kubectl get ec2nodeclass gpu -o jsonpath='{.spec.userData}' | grep -q "FastImagePull: true" || fail "patch keeps userData"

# Re-applying the seed restores the tag selector (client-side apply computes the patch).
kubectl apply -f "$SEED/ec2nodeclass.yaml" | grep -q "configured" || fail "re-apply seed EC2NodeClass"
expect_eq "$(kubectl get ec2nodeclass gpu -o jsonpath='{.spec.capacityReservationSelectorTerms[0].tags.karpenter\.sh/discovery}')" \
  "gpufleet" "re-applied capacityReservationSelectorTerms"

# Deleting the seed removes the objects; the CRDs stay.
kubectl delete -f "$SEED/" >/dev/null || fail "delete seed"
grep -q 'NotFound' <<<"$(kubectl get nodepool gpu 2>&1 || true)" || fail "NodePool deleted"
kubectl get crd nodepools.karpenter.sh -o name | grep -qx "customresourcedefinition.apiextensions.k8s.io/nodepools.karpenter.sh" \
  || fail "CRD remains"
echo "PASS crds_kubectl_test"
