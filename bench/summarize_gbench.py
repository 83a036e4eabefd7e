#!/usr/bin/env python3
"""Folds a Google Benchmark JSON report into one JSON line: machine facts + median ns per op."""
import json
import platform
import subprocess
import sys


def git_commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    name, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        report = json.load(f)
    ctx = report.get("context", {})
    results = {}
    for b in report.get("benchmarks", []):
        if b.get("aggregate_name") not in (None, "median"):
            continue
        key = b.get("run_name", b["name"])
        entry = {"ns_per_op": round(b["real_time"] if b.get("time_unit") == "ns" else
                                    b["real_time"] * {"us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]], 2)}
        for counter in ("items_per_second", "bytes_per_second"):
            if counter in b:
                entry[counter] = round(b[counter], 1)
        results[key] = entry
    print(json.dumps({
        "benchmark": name,
        "commit": git_commit(),
        "machine": {"host": platform.node(), "cpus": ctx.get("num_cpus"),
                    "mhz": ctx.get("mhz_per_cpu"), "build": ctx.get("library_build_type"),
                    "kernel": platform.release()},
        "results": results,
        "context": {k: v for k, v in ctx.items() if k.startswith("gpufleet_")},
    }, sort_keys=True))


if __name__ == "__main__":
    main()
