#!/usr/bin/env bash
# Bad input to `gpufleet smi` and `gpufleet agent`: a missing or broken libnvidia-ml, malformed
# config files, unknown strategies and profiles each give one clear error line and a non-zero
# exit (nvidia-smi's codes for smi), never a crash; the documented fallbacks hold.
source "$(dirname "$0")/lib.sh"

# expect_fail CODE PATTERN CMD...: exits with CODE (any non-zero when CODE is "nonzero"), prints a
# line matching PATTERN, and did not crash (no signal, no abort message).
expect_fail() {
  local code=$1 pattern=$2; shift 2
  set +e
  "$@" >"$WORK/out" 2>&1
  local rc=$?
  set -e
  if [[ $code == nonzero ]]; then
    [[ $rc -ne 0 && $rc -lt 128 ]] || { cat "$WORK/out"; fail "$*: exit $rc, want a non-zero exit without a crash"; }
  else
    [[ $rc -eq $code ]] || { cat "$WORK/out"; fail "$*: exit $rc, want $code"; }
  fi
  grep -Eq "$pattern" "$WORK/out" || { cat "$WORK/out"; fail "$*: no line matching '$pattern'"; }
  ! grep -Eqi "terminate called|Aborted|Segmentation|AddressSanitizer" "$WORK/out" || { cat "$WORK/out"; fail "$*: crashed"; }
}

# No driver: nvidia-smi's message and code 9.
expect_fail 9 "couldn't communicate with the NVIDIA driver.*not found under the driver roots" \
  "$GPUFLEET" smi --gpu-backend nvml --driver-root "$WORK/no-driver"
# A broken libnvidia-ml.so.1.
mkdir -p "$WORK/broken/usr/lib64"
echo "not a library" >"$WORK/broken/usr/lib64/libnvidia-ml.so.1"
expect_fail 255 "Failed to initialize NVML: libnvidia-ml.so.1 cannot be loaded" \
  "$GPUFLEET" smi --driver-root "$WORK/broken"
# auto on a node without a driver: "No devices were found" (nvidia-smi's code 6), no crash.
expect_fail 6 "No devices were found" "$GPUFLEET" smi --gpu-backend auto --driver-root "$WORK/no-driver"
# Unknown profiles and fields.
expect_fail 2 "names several GPU models" "$GPUFLEET" smi --mock h100
expect_fail 2 "not a GPU model" "$GPUFLEET" smi --mock z9000
expect_fail 2 "Field \"gpu.magic\" is not a valid field to query" "$GPUFLEET" smi --mock t4 --query-gpu=gpu.magic
expect_fail 2 "format: unknown option" "$GPUFLEET" smi --mock t4 --query-gpu=name --format=csv,pretty

# The agent: malformed and wrong config files, unknown strategies, a broken driver.
echo "version: v1
sharing:
  timeSlicing:
    resources: [{name: nvidia.com/gpu, replicas: 0}]" >"$WORK/zero.yaml"
expect_fail nonzero "replicas: must be at least 1, got 0" "$GPUFLEET" agent --mock l40s --config-file "$WORK/zero.yaml"
printf 'version: v1\nflags: [unclosed\n' >"$WORK/broken.yaml"
expect_fail nonzero "broken.yaml: .*line" "$GPUFLEET" agent --mock l40s --config-file "$WORK/broken.yaml"
expect_fail nonzero "no-such.yaml: cannot be read" "$GPUFLEET" agent --mock l40s --config-file "$WORK/no-such.yaml"
expect_fail nonzero "unknown MIG strategy \"both\"" "$GPUFLEET" agent --mock l40s --mig-strategy both
expect_fail nonzero "unknown device list strategy \"magic\"" "$GPUFLEET" agent --mock l40s --device-list-strategy envvar,magic
expect_fail nonzero "MIG_STRATEGY: unknown MIG strategy" env MIG_STRATEGY=sometimes "$GPUFLEET" agent --mock l40s
expect_fail nonzero "libnvidia-ml.so.1 cannot be loaded" "$GPUFLEET" agent --driver-root "$WORK/broken"
echo PASS
