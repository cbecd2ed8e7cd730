#!/usr/bin/env bash
# Every program a tracked shell script runs is on a fresh Debian 12 machine
# once tools/setup.sh has run (programs_check.py says how that is decided).
# First, the checker itself must catch a script that runs a program from
# outside that set.
#
# Like file_length_test.sh, it reads the workspace through the symlink to
# its own script and is tagged "external": Bazel runs it every time.
set -euo pipefail

root=$(dirname "$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")")
if [[ ! -f "$root/WORKSPACE" || ! -f "$root/tools/ci/programs_check.py" ]]; then
  echo "programs_check_test: cannot find the workspace (got $root)" >&2
  exit 1
fi
check=$root/tools/ci/programs_check.py

# A workspace with one test script that runs curl, which neither setup.sh
# nor minbase brings.
bad=$(mktemp -d "${TEST_TMPDIR:-/tmp}/programs.XXXXXX")
mkdir -p "$bad/tools/ci"
cp "$root/tools/setup.sh" "$bad/tools/"
cp "$root/tools/ci/minbase_packages.txt" "$bad/tools/ci/"
printf '#!/bin/bash\nset -e\nstatus=$(curl -s "http://127.0.0.1:1/" | head -1)\n' >"$bad/probe_test.sh"
printf 'sh_test(name = "probe_test", srcs = ["probe_test.sh"])\n' >"$bad/BUILD.bazel"
if out=$(python3 "$check" "$bad"); then
  echo "FAIL: the checker passed a script that runs curl:" >&2
  echo "$out" >&2
  exit 1
fi
grep -q 'probe_test.sh: runs `curl`' <<<"$out" ||
  { echo "FAIL: the checker did not name curl:" >&2; echo "$out" >&2; exit 1; }

python3 "$check" "$root"
