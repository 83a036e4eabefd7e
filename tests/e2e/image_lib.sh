# Helpers for the image e2e tests: a Distribution registry (Debian's docker-registry) on a free
# loopback port with its own storage, test images pushed with skopeo, and a proxy that misbehaves
# on purpose. Source after lib.sh.
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OCI_IMAGE="python3 $HERE/oci_image.py"
REGISTRY_PID=""
PROXY_PID=""

require_image_tools() {
  for tool in docker-registry skopeo umoci; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (scripts/install-deps.sh)"; exit 77; }
  done
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_http() {  # URL
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  fail "nothing answers at $1"
}

start_registry() {
  REGISTRY_PORT=$(free_port)
  REGISTRY_DATA=$WORK/registry
  mkdir -p "$REGISTRY_DATA"
  cat >"$WORK/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $REGISTRY_DATA
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$REGISTRY_PORT
YAML
  docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY=127.0.0.1:$REGISTRY_PORT
  wait_http "http://$REGISTRY/v2/"
}

# start_tls_registry: a second registry serving HTTPS with a self-signed certificate for
# 127.0.0.1 (TLS_REGISTRY, TLS_CA); it shares the first one's storage.
start_tls_registry() {
  TLS_PORT=$(free_port)
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" -addext "subjectAltName=IP:127.0.0.1" \
    -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null || fail "openssl could not make a certificate"
  TLS_CA=$WORK/tls.crt
  sed -e "s/addr: 127.0.0.1:$REGISTRY_PORT/addr: 127.0.0.1:$TLS_PORT/" "$WORK/registry.yml" >"$WORK/registry-tls.yml"
  printf '  tls:\n    certificate: %s\n    key: %s\n' "$WORK/tls.crt" "$WORK/tls.key" >>"$WORK/registry-tls.yml"
  docker-registry serve "$WORK/registry-tls.yml" >"$WORK/registry-tls.log" 2>&1 &
  TLS_PID=$!
  TLS_REGISTRY=127.0.0.1:$TLS_PORT
  for _ in $(seq 1 100); do curl -s --cacert "$TLS_CA" -o /dev/null "https://$TLS_REGISTRY/v2/" && return 0; sleep 0.1; done
  fail "the TLS registry did not start: $(cat "$WORK/registry-tls.log")"
}

start_proxy() {  # MODES
  PROXY_PORT=$(free_port)
  python3 "$HERE/registry_proxy.py" "$PROXY_PORT" "$REGISTRY_PORT" "$1" >"$WORK/proxy.log" 2>&1 &
  PROXY_PID=$!
  PROXY=127.0.0.1:$PROXY_PORT
  wait_http "http://$PROXY/token"
}

stop_proxy() { kill "$PROXY_PID" 2>/dev/null || true; wait "$PROXY_PID" 2>/dev/null || true; PROXY_PID=""; }

stop_image_servers() {
  stop_proxy
  if [[ -n ${TLS_PID:-} ]]; then kill "$TLS_PID" 2>/dev/null || true; wait "$TLS_PID" 2>/dev/null || true; fi
  if [[ -n $REGISTRY_PID ]]; then kill "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; fi
}

# push_scenario SCENARIO REPO:TAG [COMPRESSION]: an OCI layout built by oci_image.py, pushed by skopeo.
push_scenario() {
  local layout=$WORK/layouts/$1-${3:-gzip}
  rm -rf "$layout"
  $OCI_IMAGE layout "$layout" t "$1" --compression "${3:-gzip}"
  skopeo copy -q --dest-tls-verify=false "oci:$layout:t" "docker://$REGISTRY/$2" || fail "skopeo could not push $1"
}

# reference_rootfs REPO:TAG DIR: what skopeo + umoci unpack make of the image.
reference_rootfs() {
  skopeo copy -q --src-tls-verify=false "docker://$REGISTRY/$1" "oci:$WORK/ref-layout:r" || fail "skopeo copy $1"
  local rootless=()
  [[ $(id -u) == 0 ]] || rootless=(--rootless)  # then both sides own every file as the caller
  umoci unpack "${rootless[@]}" --image "$WORK/ref-layout:r" "$2" >/dev/null || fail "umoci unpack $1"
  rm -rf "$WORK/ref-layout"
}

# blob_path DIGEST: where the registry keeps a blob.
blob_path() { local hex=${1#sha256:}; echo "$REGISTRY_DATA/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"; }
