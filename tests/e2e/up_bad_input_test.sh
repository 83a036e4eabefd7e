#!/usr/bin/env bash
# `gpufleet up` refuses what it cannot run, with one clear line and a non-zero exit, and leaves
# nothing half-started: a second `up` on a running data directory, busy ports (the API server's,
# then the emulator's after the API server started), a corrupt state database, a data directory
# that is a file, a bad --time-scale. `down` and `status` on a directory nothing runs in.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
source "$HERE/up_lib.sh"
trap 'stop_up; [[ -n ${HOLDER:-} ]] && kill $HOLDER 2>/dev/null; cleanup' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
listening() { python3 -c 'import socket,sys; s=socket.socket(); sys.exit(0 if s.connect_ex(("127.0.0.1",int(sys.argv[1])))==0 else 1)' "$1"; }
# expect_refusal NAME PATTERN COMMAND...: exits non-zero, says PATTERN on stderr, in one line.
expect_refusal() {
  local name=$1 pattern=$2; shift 2
  local rc=0
  timeout 60 "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  [[ $rc != 0 && $rc != 124 ]] || fail "$name: exit $rc, want a refusal: $(cat "$WORK/$name.err")"
  grep -q "^error: .*$pattern" "$WORK/$name.err" || fail "$name: want '$pattern' in: $(cat "$WORK/$name.err")"
  grep -q "gpufleet is up" "$WORK/$name.out" && fail "$name: claimed to be up"
  return 0
}

# Nothing runs yet: status says so (exit 3), down is a no-op.
rc=0; "$GPUFLEET" status --data-dir "$WORK/none" >"$WORK/status.out" || rc=$?
expect_eq "$rc" "3" "status exit code"
grep -q "not running" "$WORK/status.out" || fail "status: $(cat "$WORK/status.out")"
"$GPUFLEET" down --data-dir "$WORK/none" | grep -q "not running" || fail "down when nothing runs"

# A second up on a running data directory.
start_up "$WORK/a" "$WORK/first"
expect_refusal second "already running with data directory .*(pid $UP_PID)" \
  "$GPUFLEET" up --data-dir "$WORK/a" --api-listen 127.0.0.1:0 --ec2-listen 127.0.0.1:0
kill -0 "$UP_PID" || fail "the first gpufleet up died"
kubectl --kubeconfig "$WORK/a/kubeconfig" get nodepool gpu >/dev/null || fail "the first cluster stopped serving"
stop_up

# Busy ports: the API server's; then the emulator's, after the API server is up (it must stop again).
python3 -c 'import socket,time; s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(300)' >"$WORK/holder" &
HOLDER=$!
until_true 10 test -s "$WORK/holder" || fail "no port holder"
BUSY=$(cat "$WORK/holder")
expect_refusal api-port "API server.*127.0.0.1:$BUSY" "$GPUFLEET" up --data-dir "$WORK/b" --api-listen "127.0.0.1:$BUSY" --ec2-listen 127.0.0.1:0
API_PORT=$(free_port)
expect_refusal ec2-port "EC2 emulator.*127.0.0.1:$BUSY" "$GPUFLEET" up --data-dir "$WORK/b" --api-listen "127.0.0.1:$API_PORT" --ec2-listen "127.0.0.1:$BUSY"
listening "$API_PORT" && fail "the API server still listens after the emulator failed"
rc=0; "$GPUFLEET" status --data-dir "$WORK/b" >/dev/null || rc=$?
expect_eq "$rc" "3" "the lock is released after a failed start"
ls "$WORK/b/env" 2>/dev/null && fail "env written by a failed start"
# The same directory starts cleanly afterwards.
start_up "$WORK/b" "$WORK/b-ok"
stop_up

# A corrupt state database is refused by name, and left as it was for the operator.
mkdir -p "$WORK/c"
head -c 8192 /dev/urandom >"$WORK/c/state.db"
cp "$WORK/c/state.db" "$WORK/c-state.db"
expect_refusal corrupt "state.db" "$GPUFLEET" up --data-dir "$WORK/c" --api-listen 127.0.0.1:0 --ec2-listen 127.0.0.1:0
cmp -s "$WORK/c/state.db" "$WORK/c-state.db" || fail "the corrupt state.db was modified"
# The same for the emulator's database (after a good first start).
start_up "$WORK/d" "$WORK/d-ok"
stop_up
head -c 8192 /dev/urandom >"$WORK/d/ec2/ec2.db"
expect_refusal corrupt-ec2 "ec2.db" "$GPUFLEET" up --data-dir "$WORK/d" --api-listen 127.0.0.1:0 --ec2-listen 127.0.0.1:0

# A data directory that is a file; a time scale that is not positive.
touch "$WORK/file"
expect_refusal dir-is-file "data directory $WORK/file" "$GPUFLEET" up --data-dir "$WORK/file"
expect_refusal time-scale "time-scale" "$GPUFLEET" up --data-dir "$WORK/e" --time-scale 0
echo "PASS up_bad_input_test"
