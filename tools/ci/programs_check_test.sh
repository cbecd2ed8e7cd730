#!/usr/bin/env bash
# Every program a tracked shell script runs is on a fresh Debian 12 machine
# once tools/setup.sh has run (programs_check.py says how that is decided).
# First, the checker itself must catch a script that runs a program from
# outside that set (a test once ran a program setup.sh did not install).
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

# The checker itself first, on a workspace of its own where nothing is
# installed by setup.sh and minbase lacks gzip: a test script that runs
# gzip (installed on every machine, so its package is found) and one that
# runs a program no machine has must both fail, each named. Neither script
# runs; the checker only reads them.
bad=$(mktemp -d "${TEST_TMPDIR:-/tmp}/programs.XXXXXX")
mkdir -p "$bad/tools/ci"
printf 'PACKAGES=()\n' >"$bad/tools/setup.sh"
grep -vx gzip "$root/tools/ci/minbase_packages.txt" >"$bad/tools/ci/minbase_packages.txt"
printf '#!/bin/bash\nset -e\ngzip -t "$1"\n' >"$bad/unlisted_test.sh"
printf '#!/bin/bash\nset -e\nzen-no-such-program --version\n' >"$bad/missing_test.sh"
printf 'sh_test(name = "unlisted_test", srcs = ["unlisted_test.sh"])\nsh_test(name = "missing_test", srcs = ["missing_test.sh"])\n' >"$bad/BUILD.bazel"
if out=$(python3 "$check" "$bad"); then
  echo "FAIL: the checker passed scripts that run what a fresh machine lacks:" >&2
  echo "$out" >&2
  exit 1
fi
grep -q 'unlisted_test.sh: runs `gzip`: from package gzip' <<<"$out" ||
  { echo "FAIL: the checker did not name gzip's package:" >&2; echo "$out" >&2; exit 1; }
grep -q 'missing_test.sh: runs `zen-no-such-program`: not installed' <<<"$out" ||
  { echo "FAIL: the checker did not name the missing program:" >&2; echo "$out" >&2; exit 1; }

python3 "$check" "$root"
