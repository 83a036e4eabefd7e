# Shared helpers for end-to-end tests: start/stop `gpufleet apiserver` on a free loopback port.
# Each test sources this, calls start_apiserver, and gets KUBECONFIG, API_URL and TOKEN.
set -euo pipefail
GPUFLEET=${GPUFLEET:?set GPUFLEET to the gpufleet binary}
WORK=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  [[ -n ${KEEP_WORK:-} ]] || rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

start_apiserver() {
  local data=${1:-$WORK/data}
  "$GPUFLEET" apiserver --data-dir "$data" --listen 127.0.0.1:0 >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    if grep -q "ready at" "$WORK/server.out" 2>/dev/null; then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.err"; fail "apiserver exited"; }
    sleep 0.1
  done
  grep -q "ready at" "$WORK/server.out" || fail "apiserver not ready"
  API_URL=$(sed -n 's/.*ready at //p' "$WORK/server.out")
  export KUBECONFIG=$data/kubeconfig
  TOKEN=$(cut -d, -f1 "$data/tokens.csv" | head -1)
  CACERT=$data/pki/ca.crt
}

stop_apiserver() {
  kill "$SERVER_PID"; wait "$SERVER_PID" || true; SERVER_PID=""
}

require_kubectl() {
  if ! command -v kubectl >/dev/null; then echo "SKIP: kubectl is not installed"; exit 77; fi
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() { [[ "$1" == "$2" ]] || fail "$3: got '$1', want '$2'"; }

# write_odcr_patch FILE ID: the seed walkthrough's patch file, pinning EC2NodeClass gpu to one ODCR.
write_odcr_patch() {
  cat >"$1" <<YAML
apiVersion: karpenter.k8s.aws/v1
kind: EC2NodeClass
metadata:
  name: gpu
spec:
  capacityReservationSelectorTerms:
    - id: $2
YAML
}
