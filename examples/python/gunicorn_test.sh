#!/usr/bin/env bash
# Runs gunicorn_test.py (the example app under Debian's gunicorn) with
# Debian's python3, the one gunicorn runs on.
#   gunicorn_test.sh TEST_PY --mode=MODE PACKAGE_INIT_PY EXAMPLE_APP_PY
# The package and example directories are those of the two files given.
set -euo pipefail
test_py=$1 mode=$2 package_init=$3 example_app=$4
exec /usr/bin/python3 "$test_py" "$mode" "$(dirname "$package_init")" \
  "$(dirname "$example_app")"
