#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR for SECONDS each, starting from the checked-in corpus
# (tests/fuzz/corpus/NAME, copied so the repository is not modified). Crashing inputs are kept in
# fuzz-artifacts/. Exits non-zero if any target finds a crash.
set -euo pipefail
BUILD_DIR=${1:-build-fuzz}
SECONDS_EACH=${2:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$ROOT/fuzz-artifacts"
status=0
for bin in "$BUILD_DIR"/tests/fuzz/fuzz_*; do
  [[ -x "$bin" ]] || continue
  name=$(basename "$bin"); name=${name#fuzz_}
  work=$(mktemp -d)
  cp -r "$ROOT/tests/fuzz/corpus/$name/." "$work/" 2>/dev/null || true
  echo "== fuzz $name for ${SECONDS_EACH}s"
  if ! "$bin" "$work" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$ROOT/fuzz-artifacts/$name-" -print_final_stats=1 2>"$work.log"; then
    echo "!! fuzz $name found a failure; see fuzz-artifacts/ and $work.log"
    tail -40 "$work.log"
    status=1
  else
    grep -E "stat::number_of_executed_units|cov:" "$work.log" | tail -2
  fi
  rm -rf "$work"
done
exit $status
