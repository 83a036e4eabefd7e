#!/bin/sh
# A fake client-go exec credential plugin for tests/kube/credentials_test.cc. POSIX sh.
#
# Usage: fake_exec_plugin.sh STATE_DIR [MODE [ARGS...]]
#   Every run appends a line to STATE_DIR/runs (so concurrent runs are all counted), saves
#   KUBERNETES_EXEC_INFO to STATE_DIR/exec_info.json, and answers token-N, N = runs so far.
# Environment:
#   FAKE_PLUGIN_EXPIRY       status.expirationTimestamp to return (RFC 3339); none when unset
#   FAKE_PLUGIN_API_VERSION  apiVersion to answer (default client.authentication.k8s.io/v1)
#   FAKE_PLUGIN_SLEEP        seconds to wait before answering (default 0)
# MODE:
#   token (default)  a bearer token
#   lines FILE       the bearer token on line N of FILE (N = runs so far)
#   cert CERT KEY    clientCertificateData/clientKeyData from the two PEM files
#   fail             a hint on stderr, exit 1
#   badjson          non-JSON on stdout
#   hang             sleeps far longer than any test timeout
#   noisy            1 MB on stderr before answering (a reader of stdout alone would deadlock)
set -eu

dir=$1
mode=${2:-token}

echo run >> "$dir/runs"
n=$(wc -l < "$dir/runs" | tr -d ' ')
printf '%s' "${KUBERNETES_EXEC_INFO-}" > "$dir/exec_info.json"
sleep "${FAKE_PLUGIN_SLEEP:-0}"

version=${FAKE_PLUGIN_API_VERSION:-client.authentication.k8s.io/v1}
expiry=""
if [ -n "${FAKE_PLUGIN_EXPIRY:-}" ]; then
  expiry=",\"expirationTimestamp\":\"$FAKE_PLUGIN_EXPIRY\""
fi

# A PEM file as the body of a JSON string (newlines as \n).
json_lines() {
  awk 'BEGIN { ORS = "\\n" } { print }' "$1"
}

case $mode in
  token)
    printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"token-%s"%s}}\n' \
      "$version" "$n" "$expiry"
    ;;
  lines)
    token=$(sed -n "${n}p" "$3")
    printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"%s"%s}}\n' \
      "$version" "$token" "$expiry"
    ;;
  cert)
    cert=$(json_lines "$3")
    key=$(json_lines "$4")
    printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"clientCertificateData":"%s","clientKeyData":"%s"%s}}\n' \
      "$version" "$cert" "$key" "$expiry"
    ;;
  fail)
    echo "fake-plugin: credentials for profile gpu have expired; run 'fake-plugin login'" >&2
    exit 1
    ;;
  badjson)
    echo "this is not json"
    ;;
  hang)
    echo "fake-plugin: waiting for a browser login" >&2
    sleep 60
    ;;
  noisy)
    head -c 1000000 /dev/zero | tr '\0' 'x' >&2
    printf '{"apiVersion":"%s","kind":"ExecCredential","status":{"token":"token-%s"}}\n' \
      "$version" "$n"
    ;;
  *)
    echo "fake-plugin: unknown mode $mode" >&2
    exit 2
    ;;
esac
