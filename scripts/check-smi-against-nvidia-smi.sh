#!/usr/bin/env bash
# On a machine with an NVIDIA GPU and driver: compares `gpufleet smi` (real NVML through dlopen)
# with the driver's own nvidia-smi, field by field (--query-gpu CSV), plus -L. Values that move
# between two readings (power, temperature, clocks, utilisation) are compared within a tolerance.
# Usage: scripts/check-smi-against-nvidia-smi.sh [build/gpufleet]. Exit 0 when they agree.
set -euo pipefail
GPUFLEET=${1:-build/gpufleet}
command -v nvidia-smi >/dev/null || { echo "SKIP: no nvidia-smi on this machine"; exit 77; }
FIELDS=index,name,uuid,pci.bus_id,driver_version,memory.total,memory.reserved,memory.used,memory.free,compute_cap,persistence_mode,compute_mode,pstate,power.limit,power.draw,temperature.gpu,utilization.gpu,utilization.memory,clocks.max.gr,clocks.max.sm,clocks.max.mem,clocks.gr,clocks.mem,pcie.link.gen.max,pcie.link.width.max,ecc.mode.current,ecc.errors.uncorrected.volatile.total,mig.mode.current,display_active,vbios_version,serial
MOVING=" power.draw temperature.gpu utilization.gpu utilization.memory clocks.gr clocks.mem memory.used memory.free pstate "
a=$(mktemp); b=$(mktemp); trap 'rm -f "$a" "$b"' EXIT
nvidia-smi --query-gpu=$FIELDS --format=csv,noheader,nounits >"$a"
"$GPUFLEET" smi --gpu-backend nvml --query-gpu=$FIELDS --format=csv,noheader,nounits >"$b"
python3 - "$a" "$b" "$FIELDS" "$MOVING" <<'PY'
import sys
a, b, fields, moving = open(sys.argv[1]).read().splitlines(), open(sys.argv[2]).read().splitlines(), sys.argv[3].split(","), sys.argv[4].split()
bad = 0
if len(a) != len(b):
    print(f"GPU count differs: nvidia-smi {len(a)}, gpufleet {len(b)}"); sys.exit(1)
for row_a, row_b in zip(a, b):
    for f, x, y in zip(fields, [v.strip() for v in row_a.split(",")], [v.strip() for v in row_b.split(",")]):
        same = x == y
        if not same and f in moving:
            try:
                same = abs(float(x) - float(y)) <= max(5.0, 0.15 * abs(float(x)))
            except ValueError:
                same = x[:1] == y[:1]  # P0 vs P2 and the like
        if not same:
            bad += 1
            print(f"{f}: nvidia-smi '{x}' vs gpufleet '{y}'")
print("agree" if bad == 0 else f"{bad} field(s) differ")
sys.exit(1 if bad else 0)
PY
diff <(nvidia-smi -L) <("$GPUFLEET" smi --gpu-backend nvml -L) && echo "-L agrees"
