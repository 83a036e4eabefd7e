#!/usr/bin/env bash
# A second, independent client: Debian's python3-kubernetes against `gpufleet apiserver`.
source "$(dirname "$0")/lib.sh"
# Debian's interpreter, where python3-kubernetes lives (a pyenv python3 may come first on PATH).
PY=/usr/bin/python3
if ! "$PY" -c 'import kubernetes' 2>/dev/null; then
  echo "SKIP: python3-kubernetes is not installed (scripts/install-deps.sh installs it)"; exit 77
fi
start_apiserver
"$PY" "$(dirname "$0")/python_client_check.py"
