#!/usr/bin/env bash
# Real kubectl against `gpufleet apiserver`: the verbs users type and the seed's commands.
source "$(dirname "$0")/lib.sh"
require_kubectl
# Pipelines end in grep -q, which may close the pipe early: judge them by grep alone.
set +o pipefail
TESTDATA=$(cd "$(dirname "$0")/../apiserver/testdata" && pwd)
start_apiserver

expect_eq "$(kubectl get ns default -o jsonpath='{.status.phase}')" "Active" "default namespace"
kubectl api-resources | grep -q "^pods .*po .*v1 .*true .*Pod" || fail "api-resources lists pods"

# apply (client-side, twice) and server-side
cat >"$WORK/dep.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: "nginx:1.25"}]}
YAML
kubectl apply -f "$WORK/dep.yaml" | grep -q "deployment.apps/web created" || fail "apply create"
sed -i 's/replicas: 2/replicas: 3/' "$WORK/dep.yaml"
kubectl apply -f "$WORK/dep.yaml" | grep -q "configured" || fail "apply update"
expect_eq "$(kubectl get deploy web -o jsonpath='{.spec.replicas}/{.metadata.generation}')" "3/2" "re-apply"
kubectl apply --server-side -f "$WORK/dep.yaml" | grep -q "serverside-applied" || fail "server-side apply"

# create -f, label, annotate, patch (merge, json, strategic), replace, delete, wait
kubectl create -f - <<'YAML' >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: p1}
spec: {containers: [{name: c, image: busybox}]}
YAML
kubectl label pod p1 tier=gpu >/dev/null
kubectl annotate pod p1 note=hello >/dev/null
expect_eq "$(kubectl get pods -l tier=gpu -o name)" "pod/p1" "label selector"
kubectl patch pod p1 --type=merge -p '{"metadata":{"labels":{"m":"1"}}}' >/dev/null
kubectl patch pod p1 --type=json -p '[{"op":"add","path":"/metadata/labels/j","value":"2"}]' >/dev/null
kubectl patch pod p1 --type=strategic -p '{"metadata":{"labels":{"s":"3"}}}' >/dev/null
expect_eq "$(kubectl get pod p1 -o jsonpath='{.metadata.labels.m}{.metadata.labels.j}{.metadata.labels.s}')" "123" "patches"
kubectl get pod p1 -o yaml >"$WORK/p1.yaml"
kubectl replace -f "$WORK/p1.yaml" | grep -q "pod/p1 replaced" || fail "replace"
if kubectl patch pod p1 --type=json -p '[{"op":"test","path":"/metadata/name","value":"zz"}]' 2>"$WORK/err"; then
  fail "a failed JSON patch test must be rejected"
fi
kubectl delete pod p1 | grep -q 'pod "p1" deleted' || fail "delete"
grep -q 'NotFound' <<<"$(kubectl get pod p1 2>&1 || true)" || fail "deleted pod is gone"

# get -w streams changes
kubectl get pods -w --request-timeout=5s >"$WORK/watch.out" 2>/dev/null &
WATCH=$!
sleep 1
kubectl run w1 --image=busybox >/dev/null
sleep 1
kill $WATCH 2>/dev/null || true
grep -q "^w1 " "$WORK/watch.out" || fail "get -w saw the new pod"

# wait --for=condition on a status written through /status
kubectl patch pod w1 --subresource=status --type=merge \
  -p '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}' >/dev/null
kubectl wait --for=condition=Ready pod/w1 --timeout=10s | grep -q "condition met" || fail "wait"

# The seed's commands, with fixture CRDs for NodePool and EC2NodeClass.
kubectl apply -f "$TESTDATA/seed-crds.yaml" >/dev/null
kubectl apply -f "$TESTDATA/seed-objects.yaml" >/dev/null
kubectl get nodepool/gpu | grep -q "^gpu" || fail "get nodepool/gpu"
kubectl get ec2nodeclass/gpu | grep -q "^gpu" || fail "get ec2nodeclass/gpu"
kubectl get ec2nodeclass gpu -o jsonpath='{.spec.userData}' | grep -B 4 -A 20 "soci" | grep -q snapshotter \
  || fail "userData with soci"
write_odcr_patch "$WORK/patch-gpu-nodeclass.yaml" cr-0123456789abcdef0
kubectl patch ec2nodeclass gpu --patch-file "$WORK/patch-gpu-nodeclass.yaml" --type=merge | grep -q patched \
  || fail "seed patch"
kubectl get ec2nodeclass gpu -o yaml | grep -A 3 capacityReservationSelectorTerms | grep -q "cr-0123456789abcdef0" \
  || fail "patched capacityReservationSelectorTerms"
expect_eq "$(kubectl get nodes -l nvidia.com/gpu.present=true -o name)" "" "no GPU nodes yet"
kubectl get daemonset -n nvidia-device-plugin | grep -q "nvidia-device-plugin-daemonset" || fail "daemonset"

# kubectl's typed create commands and drain send application/vnd.kubernetes.protobuf bodies.
# (-v=8 output goes to a file: grep -q closing the pipe early would kill kubectl mid-request.)
kubectl create namespace team-a -v=8 >"$WORK/create-ns.log" 2>&1 || fail "create namespace"
grep -q "Content-Type: application/vnd.kubernetes.protobuf" "$WORK/create-ns.log" \
  || fail "create namespace sends protobuf"
expect_eq "$(kubectl get ns team-a -o jsonpath='{.status.phase}')" "Active" "protobuf namespace"
printf 'from a file' >"$WORK/cfg.txt"
kubectl create configmap cfg -n team-a --from-literal=a=b --from-file="$WORK/cfg.txt" >/dev/null \
  || fail "create configmap"
expect_eq "$(kubectl get configmap cfg -n team-a -o jsonpath='{.data.a}/{.data.cfg\.txt}')" \
  "b/from a file" "protobuf configmap data"
kubectl create secret generic creds --from-literal=password='s3cr3t!' >/dev/null || fail "create secret"
expect_eq "$(kubectl get secret creds -o jsonpath='{.data.password}')" "$(printf 's3cr3t!' | base64)" \
  "protobuf secret data"
kubectl create secret docker-registry regcred --docker-server=r.example.com --docker-username=u \
  --docker-password=p >/dev/null || fail "create secret docker-registry"
expect_eq "$(kubectl get secret regcred -o jsonpath='{.type}')" "kubernetes.io/dockerconfigjson" \
  "protobuf docker-registry secret"
kubectl create deployment web2 --image=nginx --port=80 --replicas=2 >/dev/null || fail "create deployment"
expect_eq "$(kubectl get deploy web2 -o jsonpath='{.spec.template.spec.containers[0].ports[0].containerPort}/{.spec.replicas}')" \
  "80/2" "protobuf deployment port and replicas"
kubectl create deployment idle --image=busybox --replicas=0 -- sleep 3600 >/dev/null \
  || fail "create deployment with a command"
expect_eq "$(kubectl get deploy idle -o jsonpath='{.spec.replicas}/{.spec.template.spec.containers[0].command}')" \
  '0/["sleep","3600"]' "protobuf deployment replicas 0 and command"
kubectl create serviceaccount robot >/dev/null || fail "create serviceaccount"
expect_eq "$(kubectl get serviceaccount robot -o name)" "serviceaccount/robot" "protobuf serviceaccount"
kubectl create service clusterip web2 --tcp=80:8080 >/dev/null || fail "create service clusterip"
expect_eq "$(kubectl get service web2 -o jsonpath='{.spec.type}/{.spec.ports[0].port}/{.spec.ports[0].targetPort}/{.spec.selector.app}')" \
  "ClusterIP/80/8080/web2" "protobuf service"
kubectl create clusterrole pod-reader --verb=get,list --resource=pods >/dev/null || fail "create clusterrole"
expect_eq "$(kubectl get clusterrole pod-reader -o jsonpath='{.rules[0].verbs}/{.rules[0].resources}')" \
  '["get","list"]/["pods"]' "protobuf clusterrole"
kubectl create rolebinding read-pods --clusterrole=pod-reader --serviceaccount=default:robot >/dev/null \
  || fail "create rolebinding"
expect_eq "$(kubectl get rolebinding read-pods -o jsonpath='{.roleRef.kind}/{.roleRef.name}/{.subjects[0].kind}/{.subjects[0].namespace}/{.subjects[0].name}')" \
  "ClusterRole/pod-reader/ServiceAccount/default/robot" "protobuf rolebinding"
kubectl create pdb web2 --selector=app=web2 --min-available=50% >/dev/null || fail "create pdb"
expect_eq "$(kubectl get pdb web2 -o jsonpath='{.spec.minAvailable}/{.spec.selector.matchLabels.app}')" \
  "50%/web2" "protobuf pdb"
kubectl create -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: drain-me}
---
apiVersion: v1
kind: Pod
metadata: {name: on-drain-me}
spec: {nodeName: drain-me, containers: [{name: c, image: busybox}]}
YAML
kubectl drain drain-me --force --grace-period=0 --timeout=30s >"$WORK/drain.log" 2>&1 \
  || { cat "$WORK/drain.log"; fail "drain"; }
grep -q "pod/on-drain-me evicted" "$WORK/drain.log" || fail "drain evicts with a protobuf Eviction"
grep -q 'NotFound' <<<"$(kubectl get pod on-drain-me 2>&1 || true)" || fail "drained pod is gone"

# describe and logs (the seed's `kubectl logs nvidia-smi`): a pending pod's logs are refused as
# kube-apiserver refuses them; a finished pod's logs are served (empty until a node writes them).
kubectl run nvidia-smi --image=nvidia/cuda:12.4.1-base-ubuntu22.04 --restart=Never >/dev/null || fail "kubectl run"
kubectl describe pod nvidia-smi | grep -q "^Status: *Pending" || fail "describe pod"
grep -q "is waiting to start: ContainerCreating" <<<"$(kubectl logs nvidia-smi 2>&1 || true)" \
  || fail "logs of a pending pod"
kubectl patch pod nvidia-smi --subresource=status --type=merge -p '{"status":{"phase":"Succeeded"}}' >/dev/null
kubectl logs nvidia-smi >/dev/null || fail "logs of a finished pod"

# Aggregated discovery: a cold kubectl learns every resource from GET /api and GET /apis alone.
KUBECACHEDIR=$WORK/cold-cache kubectl api-resources -v=6 >"$WORK/discovery.log" 2>&1 || fail "api-resources"
expect_eq "$(grep -c 'GET https' "$WORK/discovery.log")" "2" "discovery requests (aggregated)"
grep -q 'nodepools .*karpenter.sh/v1' <(KUBECACHEDIR=$WORK/cold-cache kubectl api-resources) \
  || fail "CRD kinds in aggregated discovery"

# Graceful deletion: a pod bound to a node waits for its kubelet; --force --grace-period=0 ends it.
kubectl create -f - >/dev/null <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: graceful}
spec: {nodeName: drain-me, terminationGracePeriodSeconds: 45, containers: [{name: c, image: busybox}]}
YAML
kubectl delete pod graceful --wait=false >/dev/null || fail "graceful delete"
expect_eq "$(kubectl get pod graceful -o jsonpath='{.metadata.deletionGracePeriodSeconds}')" "45" \
  "terminating pod keeps its grace period"
kubectl delete pod graceful --force --grace-period=0 >/dev/null 2>&1 || fail "forced delete"
grep -q 'NotFound' <<<"$(kubectl get pod graceful 2>&1 || true)" || fail "forced delete removes the pod"

# Anonymous requests are refused; health checks are public.
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" "$API_URL/api/v1/pods")
expect_eq "$code" "401" "anonymous request"
expect_eq "$(curl -s --cacert "$CACERT" "$API_URL/healthz")" "ok" "healthz"

# Bad input gets Kubernetes Status errors and the server keeps serving.
code=$(curl -s -o "$WORK/bad" -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' -d '{"kind":' "$API_URL/api/v1/namespaces/default/pods")
expect_eq "$code" "400" "malformed JSON"
head -c 4000000 /dev/zero | tr '\0' 'a' >"$WORK/big"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' --data-binary @"$WORK/big" "$API_URL/api/v1/namespaces/default/configmaps")
expect_eq "$code" "413" "oversized body"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CACERT" -H "Authorization: Bearer $TOKEN" \
  "$API_URL/apis/nope.example.com/v1/things")
expect_eq "$code" "404" "unknown group"
kubectl get ns default >/dev/null || fail "server still serving"
echo "PASS apiserver_kubectl_test"
