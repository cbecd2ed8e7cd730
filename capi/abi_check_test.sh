#!/usr/bin/env bash
# Fails when libzen_agent.so's ABI differs from the committed baseline
# (capi/abi/), printing abidiff's report: an incompatible change needs a
# new major version (a new SONAME); a compatible one (functions added, and
# nothing else) needs the baseline regenerated and ZEN_AGENT_ABI_MINOR
# raised.
# docs/c_api.md, "ABI policy", says how.
#
#   abi_check_test.sh LIBRARY BASELINE SUPPRESSIONS ABI_DUMP_SCRIPT
set -euo pipefail

lib=$1 baseline=$2 supp=$3 dump=$4
# A sanitizer build (--config=asan/tsan) instruments the library and its
# debug info describes the same ABI as the plain build's, which this test
# checks. Such a build calls its runtime's __asan_init or __tsan_init (GCC
# links the runtime as a shared library, clang's ASan into the program, so
# ldd does not show both).
if grep -qa -e __asan_init -e __tsan_init "$lib"; then
  echo "abi_check_test: sanitizer build; the ABI is checked without one"
  exit 0
fi
current="${TEST_TMPDIR:-$(mktemp -d)}/current.abi"
"$dump" "$lib" "$supp" "$current"

status=0
report=$(abidiff --suppressions "$supp" "$baseline" "$current") || status=$?
# abidiff's exit status is a bit field: 1 error, 2 usage error, 4 the ABI
# changed, 8 the change is incompatible.
if (( status == 0 )); then
  echo "abi_check_test: the ABI matches $(basename "$baseline")"
  exit 0
fi
echo "$report"
# abidiff says "incompatible" (8) only when symbols went away; a changed
# type (a struct's size, a member's offset) is a plain change (4), and
# breaks hosts as surely. Only functions added, nothing else, is compatible.
only_added='Functions changes summary: 0 Removed, 0 Changed(, [0-9]+ filtered out)?, [0-9]+ Added'
if (( status & 3 )); then
  echo "abi_check_test: abidiff failed (status $status)" >&2
elif (( status & 8 )) || ! grep -Eq "$only_added" <<<"$report" ||
  grep -Eq 'Variables changes summary: [1-9]|Variables changes summary: 0 Removed, [1-9]' <<<"$report"; then
  echo "abi_check_test: INCOMPATIBLE ABI change (above). Undo it, or make" \
    "a new major version: docs/c_api.md, \"Changing the ABI\"." >&2
else
  echo "abi_check_test: compatible ABI change (above: functions added)." \
    "Regenerate the baseline and raise ZEN_AGENT_ABI_MINOR:" \
    "docs/c_api.md, \"Changing the ABI\"." >&2
fi
exit 1
