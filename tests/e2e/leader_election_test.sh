#!/usr/bin/env bash
# Two `gpufleet kube elect` processes on one Lease: exactly one leads; after kill -9 of the
# leader the other takes over (client-go's guarantee: within LeaseDuration + RetryPeriod of the
# last renewal); SIGTERM releases the Lease.
source "$(dirname "$0")/lib.sh"
require_kubectl
start_apiserver
LEASE_S=4 RETRY_S=1
elect() {
  "$GPUFLEET" kube elect --kubeconfig "$KUBECONFIG" --namespace default --lease e2e \
    --identity "$1" --lease-duration $LEASE_S --renew-deadline 3 --retry-period $RETRY_S \
    >"$WORK/$1.out" 2>"$WORK/$1.err" &
}
wait_for() {  # wait_for FILE TEXT: up to 30 s
  for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
  cat "$1" "${1%.out}.err" >&2; fail "no '$2' in $1"
}
holder() { kubectl get lease e2e -n default -o jsonpath='{.spec.holderIdentity}'; }
elect a; A=$!
wait_for "$WORK/a.out" "leading as a"
elect b; B=$!
wait_for "$WORK/b.out" "leader is a"
grep -q "leading as b" "$WORK/b.out" && fail "two leaders"
expect_eq "$(holder)" "a" "holder while a is alive"
start=$(date +%s%N)
kill -9 $A; wait $A 2>/dev/null || true
wait_for "$WORK/b.out" "leading as b"
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "takeover after kill -9: ${elapsed_ms} ms (lease ${LEASE_S} s + retry ${RETRY_S} s)"
expect_eq "$(holder)" "b" "holder after takeover"
expect_eq "$(kubectl get lease e2e -n default -o jsonpath='{.spec.leaseTransitions}')" "1" "transitions"
kill -TERM $B; rc=0; wait $B || rc=$?
expect_eq "$rc" "0" "exit status after SIGTERM"
expect_eq "$(holder)" "" "lease released on shutdown"
# Bad configuration is a clear error, not a crash.
"$GPUFLEET" kube elect --kubeconfig "$WORK/missing" --lease x --identity y 2>"$WORK/bad.err" && fail "missing kubeconfig accepted"
grep -q "missing" "$WORK/bad.err" || fail "error names the kubeconfig: $(cat "$WORK/bad.err")"
echo "PASS leader_election_test"
