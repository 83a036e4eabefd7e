#!/usr/bin/env bash
# bench/run pull: whole-process pull+unpack from one local Distribution registry, in one run:
#   gpufleet image pull (and the same with the SOCI zTOCs, spans inflated in parallel)
#   vs  ctr images pull (containerd 1.6, own root and socket, overlayfs)
#   vs skopeo copy + umoci unpack  vs  the floor: igzip -d | tar -x of the same blobs, read from
#   the registry's own storage (no network, no hashing, one layer after another).
# Images (bench/pull/make_images.py, cached in ~/.cache/gpufleet-bench-pull): (a) one gzip layer
# of the CUDA toolkit's cuBLAS libraries and (b) 10 gzip layers, ~1.6 GiB of files.
# Each contender runs RUNS times (default 3) per image; the median is reported. Last line: JSON.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GPUFLEET=${GPUFLEET:-$ROOT/build/gpufleet}
RUNS=${RUNS:-3}
CACHE=${PULL_BENCH_CACHE:-$HOME/.cache/gpufleet-bench-pull}
for tool in docker-registry skopeo umoci containerd ctr igzip; do
  command -v $tool >/dev/null || { echo "bench/run pull: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done
[[ -x $GPUFLEET ]] || { echo "bench/run pull: $GPUFLEET is not built" >&2; exit 1; }

# Everything (registry storage, containerd's root, every destination) on tmpfs by default: on a
# VM's virtual disk, writeback of the previous contender's 1.6 GB made one contender's time vary
# 3x from run to run. All contenders write the same bytes, so the comparison holds either way;
# BENCH_TMP=/var/tmp measures on disk.
if [[ -z ${BENCH_TMP:-} ]]; then
  BENCH_TMP=/var/tmp
  shm_free_kb=$(df -k --output=avail /dev/shm 2>/dev/null | tail -1 || echo 0)
  [[ ${shm_free_kb:-0} -gt $((12 << 20)) ]] && BENCH_TMP=/dev/shm
fi
WORK=$(mktemp -d "$BENCH_TMP/gpufleet-pull-bench.XXXXXX")
REG_PID=""; CTRD_PID=""
cleanup() {
  [[ -n $CTRD_PID ]] && { kill $CTRD_PID 2>/dev/null; wait $CTRD_PID 2>/dev/null || true; }
  [[ -n $REG_PID ]] && { kill $REG_PID 2>/dev/null; wait $REG_PID 2>/dev/null || true; }
  # containerd leaves overlay snapshots; unmount anything under WORK before removing it.
  grep -o " $WORK[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "building the benchmark images (cached in $CACHE)" >&2
IMAGES=$(python3 "$ROOT/bench/pull/make_images.py" "$CACHE")

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $WORK/registry
http:
  addr: 127.0.0.1:$PORT
YAML
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REG_PID=$!
REG=127.0.0.1:$PORT
for _ in $(seq 1 100); do curl -s -o /dev/null "http://$REG/v2/" && break; sleep 0.1; done
for image in cublas tenlayer; do
  skopeo copy -q --dest-tls-verify=false "oci:$CACHE/$image:bench" "docker://$REG/bench/$image:v1" >&2
  # A SOCI index (v1) for the indexed variant: a zTOC for every layer.
  "$GPUFLEET" image index "$REG/bench/$image:v1" --plain-http >&2 2>/dev/null
done

now() { date +%s.%N; }
# timed CMD...: runs after a sync (so earlier runs' writeback does not land in this one), prints seconds.
timed() {
  sync
  local t0; t0=$(now)
  "$@" >"$WORK/last.out" 2>&1 || { cat "$WORK/last.out" >&2; echo "bench/run pull: $* failed" >&2; exit 1; }
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$t0" "$(now)"
}

start_containerd() {
  local dir=$WORK/containerd
  rm -rf "$dir"; mkdir -p "$dir"
  cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$dir/containerd.sock"
TOML
  containerd --config "$dir/config.toml" >"$dir/log" 2>&1 &
  CTRD_PID=$!
  for _ in $(seq 1 100); do ctr -a "$dir/containerd.sock" version >/dev/null 2>&1 && return; sleep 0.1; done
  echo "bench/run pull: containerd did not start" >&2; cat "$dir/log" >&2; exit 1
}
stop_containerd() {
  kill $CTRD_PID; wait $CTRD_PID 2>/dev/null || true; CTRD_PID=""
  grep -o " $WORK/containerd[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount 2>/dev/null || true
  rm -rf "$WORK/containerd"
}

floor() {  # igzip -d | tar -x of each layer blob, in order, into $1
  local dest=$1 image=$2
  mkdir -p "$dest"
  for digest in $(python3 -c '
import json,sys
idx=json.load(open(sys.argv[1]+"/index.json"))
m=json.load(open(sys.argv[1]+"/blobs/sha256/"+idx["manifests"][0]["digest"][7:]))
print(" ".join(l["digest"][7:] for l in m["layers"]))' "$CACHE/$image"); do
    igzip -d -c "$WORK/registry/docker/registry/v2/blobs/sha256/${digest:0:2}/$digest/data" | tar -x -C "$dest"
  done
}

declare -A RESULT
for image in cublas tenlayer; do
  REF=$REG/bench/$image:v1
  for run in $(seq 1 "$RUNS"); do
    rm -rf "$WORK/out"
    g=$(timed "$GPUFLEET" image pull "$REF" --dest "$WORK/out/gpufleet" --plain-http --progress none)
    rm -rf "$WORK/out/gpufleet"
    # The same with the zTOCs: every span inflated on its own, on as many threads as cores.
    gi=$(timed "$GPUFLEET" image pull "$REF" --dest "$WORK/out/gpufleet" --plain-http --progress none --inflate-threads "$(nproc)")
    rm -rf "$WORK/out"
    start_containerd
    c=$(timed ctr -a "$WORK/containerd/containerd.sock" images pull --plain-http "$REF")
    stop_containerd
    mkdir -p "$WORK/out"
    s=$(timed bash -c "skopeo copy -q --src-tls-verify=false docker://$REF oci:$WORK/out/oci:t && umoci unpack --image $WORK/out/oci:t $WORK/out/bundle")
    rm -rf "$WORK/out"
    f=$(timed floor "$WORK/out/floor" "$image")
    rm -rf "$WORK/out"
    echo "$image run $run: gpufleet ${g}s  gpufleet+zTOC ${gi}s  containerd ${c}s  skopeo+umoci ${s}s  floor ${f}s" >&2
    RESULT[$image,gpufleet]+="$g "; RESULT[$image,indexed]+="$gi "; RESULT[$image,containerd]+="$c "; RESULT[$image,skopeo]+="$s "; RESULT[$image,floor]+="$f "
  done
  rm -rf "$WORK/out"
done

BENCH_TMP_USED=$BENCH_TMP python3 - "$IMAGES" "$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)" \
  "${RESULT[cublas,gpufleet]}" "${RESULT[cublas,containerd]}" "${RESULT[cublas,skopeo]}" "${RESULT[cublas,floor]}" "${RESULT[cublas,indexed]}" \
  "${RESULT[tenlayer,gpufleet]}" "${RESULT[tenlayer,containerd]}" "${RESULT[tenlayer,skopeo]}" "${RESULT[tenlayer,floor]}" "${RESULT[tenlayer,indexed]}" <<'PY'
import json, os, platform, statistics, sys
images, commit = json.loads(sys.argv[1]), sys.argv[2]
vals = [[float(x) for x in a.split()] for a in sys.argv[3:]]
def case(info, g, c, s, f, gi):
    gm, cm, sm, fm, gim = (statistics.median(v) for v in (g, c, s, f, gi))
    return {"gpufleet_s": gm, "gpufleet_ztoc_s": gim, "containerd_s": cm, "skopeo_umoci_s": sm, "floor_s": fm,
            "speedup_vs_containerd": round(cm / gm, 2), "speedup_vs_skopeo_umoci": round(sm / gm, 2),
            "ratio_to_floor": round(gm / fm, 2), "runs": {"gpufleet": g, "gpufleet_ztoc": gi, "containerd": c, "skopeo_umoci": s, "floor": f},
            "layers": info["layers"], "bytes_compressed": info["bytes_compressed"], "bytes_uncompressed": info["bytes_uncompressed"],
            "source": info["source"]}
one = case(images["cublas"], *vals[0:5])
ten = case(images["tenlayer"], *vals[5:10])
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
out = {"bench": "pull", **one, "ten_layer": ten, "machine": {"cpu": cpu, "cores": os.cpu_count(), "kernel": platform.release()},
       "work_dir": os.environ.get("BENCH_TMP_USED", ""), "commit": commit}
print(json.dumps(out))
PY
