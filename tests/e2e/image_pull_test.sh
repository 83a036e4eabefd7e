#!/usr/bin/env bash
# `gpufleet image pull` against a real Distribution registry: the rootfs equals umoci unpack's
# (content, modes, owners, links, xattrs, hardlinks, file mtimes), zstd and overlay layouts, and
# every kind of bad input rejected with nothing left behind.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/image_lib.sh"
require_image_tools
trap 'stop_image_servers; cleanup' EXIT
start_registry

# Hostile layers may try to write here (beside every destination).
OUT=$WORK/out
mkdir -p "$OUT"
echo "secret" >"$WORK/outside-secret"

pull() { "$GPUFLEET" image pull "$@" --plain-http --progress none; }

echo "--- multi-layer image: identical to umoci unpack"
push_scenario multilayer test/multi:v1
pull "$REGISTRY/test/multi:v1" --dest "$OUT/rootfs" >"$WORK/pull.out" || fail "pull failed: $(cat "$WORK/pull.out")"
grep -q "3 layers" "$WORK/pull.out" || fail "summary: $(cat "$WORK/pull.out")"
reference_rootfs test/multi:v1 "$WORK/bundle"
python3 "$HERE/oci_image.py" compare "$WORK/bundle/rootfs" "$OUT/rootfs" || fail "rootfs differs from umoci unpack"
[[ $(cat "$OUT/rootfs/usr/lib/libfromupper.so" | wc -c) == 5000 ]] || fail "a file written through the lib -> usr/lib symlink"
[[ ! -e $OUT/rootfs/etc/old && ! -e $OUT/rootfs/opt/app/keep-not ]] || fail "whiteouts not applied"
ls -A "$OUT" | grep -q pulling && fail "a staging directory was left behind"

echo "--- the same image with zstd layers gives the same rootfs"
push_scenario multilayer test/multi:zstd zstd
pull "$REGISTRY/test/multi:zstd" --dest "$OUT/zstd" >/dev/null || fail "zstd pull failed"
python3 "$HERE/oci_image.py" compare "$WORK/bundle/rootfs" "$OUT/zstd" || fail "zstd rootfs differs"

echo "--- JSON progress events when stderr is not a terminal"
"$GPUFLEET" image pull "$REGISTRY/test/multi:v1" --dest "$OUT/progress" --plain-http --chunk-size 1 2>"$WORK/progress.json" >/dev/null ||
  fail "pull with progress failed"
tail -1 "$WORK/progress.json" | python3 -c 'import json,sys; e=json.load(sys.stdin); assert e["event"]=="done" and e["layers_done"]==3, e' ||
  fail "last progress event: $(tail -1 "$WORK/progress.json")"

echo "--- overlay layout: per-layer directories with overlayfs whiteouts"
pull "$REGISTRY/test/multi:v1" --dest "$OUT/overlay" --layout overlay >/dev/null || fail "overlay pull failed"
[[ $(cat "$OUT/overlay/lowerdir") == "layers/2:layers/1:layers/0" ]] || fail "lowerdir: $(cat "$OUT/overlay/lowerdir")"
if [[ $(id -u) == 0 ]]; then
  [[ $(stat -c '%F %t,%T' "$OUT/overlay/layers/1/etc/old") == "character special file 0,0" ]] || fail "whiteout not a 0/0 device"
  python3 -c 'import os,sys; assert os.getxattr(sys.argv[1], "trusted.overlay.opaque") == b"y"' "$OUT/overlay/layers/1/opt/app" ||
    fail "opaque dir not marked"
fi

echo "--- a registry that ignores Range, and one that drops connections: same rootfs"
start_proxy no-range
pull "$PROXY/test/multi:v1" --dest "$OUT/norange" --chunk-size 1 >"$WORK/norange.out" || fail "pull through no-range proxy"
grep -q "ignored Range" "$WORK/norange.out" || fail "the fallback was not reported: $(cat "$WORK/norange.out")"
python3 "$HERE/oci_image.py" compare "$WORK/bundle/rootfs" "$OUT/norange" || fail "no-range rootfs differs"
stop_proxy
start_proxy flaky
pull "$PROXY/test/multi:v1" --dest "$OUT/flaky" --chunk-size 1 >/dev/null || fail "pull through a flaky proxy"
python3 "$HERE/oci_image.py" compare "$WORK/bundle/rootfs" "$OUT/flaky" || fail "flaky rootfs differs"
stop_proxy

echo "--- Bearer token auth with credentials from an auth file"
start_proxy bearer
echo '{"auths":{"'"$PROXY"'":{"auth":"'"$(printf user:secret | base64)"'"}}}' >"$WORK/auth.json"
pull "$PROXY/test/multi:v1" --dest "$OUT/auth" --authfile "$WORK/auth.json" >/dev/null || fail "pull with bearer auth"
echo '{"auths":{"'"$PROXY"'":{"auth":"'"$(printf user:wrong | base64)"'"}}}' >"$WORK/bad-auth.json"
if pull "$PROXY/test/multi:v1" --dest "$OUT/noauth" --authfile "$WORK/bad-auth.json" 2>"$WORK/auth.err"; then fail "wrong password accepted"; fi
grep -q "refused the credentials" "$WORK/auth.err" || fail "auth error: $(cat "$WORK/auth.err")"
grep -q "secret\|wrong" "$WORK/auth.err" && fail "the error shows a secret"
stop_proxy

echo "--- Basic auth"
start_proxy basic
echo '{"auths":{"'"$PROXY"'":{"username":"user","password":"secret"}}}' >"$WORK/basic-auth.json"
pull "$PROXY/test/multi:v1" --dest "$OUT/basic" --authfile "$WORK/basic-auth.json" >/dev/null || fail "pull with basic auth"
if pull "$PROXY/test/multi:v1" --dest "$OUT/nobasic" --authfile /dev/null/none 2>"$WORK/auth.err"; then fail "no credentials accepted"; fi
grep -q "user name and password" "$WORK/auth.err" || fail "basic auth error: $(cat "$WORK/auth.err")"
stop_proxy

echo "--- HTTPS: verified against --ca-file, refused without it, --insecure skips the check"
start_tls_registry
"$GPUFLEET" image pull "$TLS_REGISTRY/test/multi:v1" --dest "$OUT/tls" --ca-file "$TLS_CA" --progress none >/dev/null ||
  fail "pull over HTTPS with the registry's CA"
python3 "$HERE/oci_image.py" compare "$WORK/bundle/rootfs" "$OUT/tls" || fail "HTTPS rootfs differs"
if "$GPUFLEET" image pull "$TLS_REGISTRY/test/multi:v1" --dest "$OUT/tls-untrusted" --progress none 2>"$WORK/tls.err"; then
  fail "a self-signed certificate was accepted"
fi
grep -qi "certificate" "$WORK/tls.err" || fail "TLS error: $(cat "$WORK/tls.err")"
"$GPUFLEET" image pull "$TLS_REGISTRY/test/multi:v1" --dest "$OUT/tls-insecure" --insecure --progress none >/dev/null || fail "--insecure"

# expect_rejected REF WHAT PATTERN: the pull fails naming PATTERN, DEST does not exist, nothing escaped.
expect_rejected() {
  local dest=$OUT/rejected-$RANDOM
  if pull "$1" --dest "$dest" >/dev/null 2>"$WORK/err"; then fail "$2: the pull succeeded"; fi
  grep -qi "$3" "$WORK/err" || fail "$2: error does not say '$3': $(cat "$WORK/err")"
  grep -q "Sanitizer\|runtime error" "$WORK/err" && fail "$2: a sanitizer report: $(cat "$WORK/err")"
  [[ ! -e $dest ]] || fail "$2: $dest exists after a failed pull"
  ls -A "$OUT" | grep -q pulling && fail "$2: a staging directory was left behind"
  find "$WORK" /tmp -maxdepth 2 -name 'escaped-*' 2>/dev/null | grep -q . && fail "$2: a file escaped the destination"
  [[ $(cat "$WORK/outside-secret") == secret ]] || fail "$2: the file outside was changed"
  true
}

echo "--- hostile layers"
for s in traversal absolute symlink-escape hardlink-escape; do push_scenario "$s" "test/$s:v1"; done
expect_rejected "$REGISTRY/test/traversal:v1" "path traversal" "escapes\|\.\."
expect_rejected "$REGISTRY/test/absolute:v1" "absolute path" "absolute"
# A symlink pointing out is followed only inside the root: the file lands inside DEST.
pull "$REGISTRY/test/symlink-escape:v1" --dest "$OUT/symlink" >/dev/null || fail "symlink layer"
[[ -f $OUT/symlink/escaped-symlink ]] || fail "the file behind the escaping symlink is not inside DEST"
expect_rejected "$REGISTRY/test/hardlink-escape:v1" "hardlink escape" "outside-secret\|hardlink\|link"
push_scenario bomb test/bomb:v1
expect_rejected "$REGISTRY/test/bomb:v1" "gzip bomb" "bomb\|ratio"

echo "--- corrupt, truncated and missing blobs, unknown media types"
manifest_of() { skopeo inspect --raw --tls-verify=false "docker://$REGISTRY/$1"; }
layer_digest() { manifest_of "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"]['"$2"']["digest"])'; }
push_scenario multilayer test/corrupt:v1
blob=$(blob_path "$(layer_digest test/corrupt:v1 1)")
python3 - "$blob" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
b[len(b) // 2] ^= 0xFF
open(p, "wb").write(bytes(b))
PY
expect_rejected "$REGISTRY/test/corrupt:v1" "corrupt blob" "digest\|corrupt\|invalid\|CRC"
# The digest check alone: a blob whose bytes still inflate but are not the manifest's.
cp "$(blob_path "$(layer_digest test/multi:v1 1)")" "$WORK/good-layer1"
cp "$(blob_path "$(layer_digest test/multi:v1 2)")" "$(blob_path "$(layer_digest test/multi:v1 1)")"
expect_rejected "$REGISTRY/test/multi:v1" "digest mismatch" "digest"
head -c 1000 "$WORK/good-layer1" >"$(blob_path "$(layer_digest test/multi:v1 1)")"
expect_rejected "$REGISTRY/test/multi:v1" "truncated blob" "remaining\|sent\|truncated\|digest"
rm "$(blob_path "$(layer_digest test/multi:v1 1)")"
expect_rejected "$REGISTRY/test/multi:v1" "missing blob" "unknown\|not found\|404"
expect_rejected "$REGISTRY/test/nosuch:v1" "missing image" "unknown\|not found"

python3 - "$WORK/helm" <<'PY'
import hashlib, json, os, sys
d = sys.argv[1]
os.makedirs(d + "/blobs/sha256", exist_ok=True)
def blob(b):
    h = hashlib.sha256(b).hexdigest(); open(f"{d}/blobs/sha256/{h}", "wb").write(b); return "sha256:" + h
chart = b"not a layer"
config = json.dumps({"os": "linux", "architecture": "amd64", "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "0" * 64]}}).encode()
m = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(config), "size": len(config)},
    "layers": [{"mediaType": "application/vnd.cncf.helm.chart.content.v1.tar+gzip", "digest": blob(chart), "size": len(chart)}]}).encode()
open(d + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(m), "size": len(m),
    "annotations": {"org.opencontainers.image.ref.name": "t"}}]}, open(d + "/index.json", "w"))
PY
skopeo copy -q --dest-tls-verify=false "oci:$WORK/helm:t" "docker://$REGISTRY/test/helm:v1" || fail "push helm"
expect_rejected "$REGISTRY/test/helm:v1" "unknown media type" "media type"

echo "PASS"
