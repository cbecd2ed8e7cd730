#!/usr/bin/env bash
# Runs zen_agent_test.py with Debian's python3 on the built package.
#   zen_agent_test.sh TEST_PY PACKAGE_INIT_PY
set -euo pipefail
exec /usr/bin/python3 "$1" "$(dirname "$2")"
