# Helpers for the `gpufleet up` tests: start it in the background on free ports with a time
# scale, wait for "gpufleet is up", and source its env file the way a user would.
UP_PID=""
stop_up() {
  if [[ -n $UP_PID ]]; then kill "$UP_PID" 2>/dev/null || true; wait "$UP_PID" 2>/dev/null || true; UP_PID=""; fi
}
# start_up DATA_DIR LOG [extra flags...]
start_up() {
  local data=$1 log=$2; shift 2
  "$GPUFLEET" up --data-dir "$data" --time-scale "${TIME_SCALE:-20}" --api-listen 127.0.0.1:0 \
    --ec2-listen 127.0.0.1:0 "$@" >"$log.out" 2>"$log.err" &
  UP_PID=$!
  for _ in $(seq 1 300); do
    grep -q "gpufleet is up" "$log.out" 2>/dev/null && break
    kill -0 "$UP_PID" 2>/dev/null || { tail -20 "$log.err" >&2; fail "gpufleet up exited"; }
    sleep 0.1
  done
  grep -q "gpufleet is up" "$log.out" || { tail -20 "$log.err" >&2; fail "gpufleet up not ready in 30 s"; }
  [[ -f $data/kubeconfig && -f $data/env ]] || fail "no kubeconfig or env in $data"
  # A user's own AWS files must not change what the walkthrough sees.
  export AWS_CONFIG_FILE=$WORK/no-aws-config AWS_SHARED_CREDENTIALS_FILE=$WORK/no-aws-credentials
  unset AWS_PROFILE AWS_SESSION_TOKEN
  # shellcheck disable=SC1091
  source "$data/env"
}
# until_true SECONDS COMMAND...: polls every 0.2 s.
until_true() {
  local n=$(( $1 * 5 )); shift
  for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
