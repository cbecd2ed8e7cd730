#!/usr/bin/env bash
# Fails, naming the files, if library code reads the clock other than through
# base/clock.h: absl::Now() can deadlock in a forked child (base/clock.h says
# why), and absl/time/clock.h is where it lives. "Library code" is every
# directory but tests/, bench/ and examples/, test files included, since
# those fork too.
#
# The sources are not inputs of this test (listing every file, or a glob in
# every package, would be the alternative): it finds the workspace through
# the symlink to its own script, and is tagged "external" so that Bazel
# runs it every time instead of caching a result its inputs do not decide.
set -euo pipefail

root=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
if [[ ! -f "$root/WORKSPACE" || ! -f "$root/base/clock.h" ]]; then
  echo "clock_use_test: cannot find the workspace (got $root)" >&2
  exit 1
fi
cd "$root"

# Files allowed to use it anyway: none. An entry that no longer uses it
# would be an error, so the list can only shrink.
allowed=()

pattern='absl/time/clock\.h|absl::Now\(|absl::GetCurrentTimeNanos'
mapfile -t hits < <(
  find . \( -path ./tests -o -path ./bench -o -path ./examples -o \
    -path ./.git -o -name 'bazel-*' \) -prune -o \
    -type f \( -name '*.h' -o -name '*.cc' -o -name '*.inc' \) -print |
    sed 's|^\./||' | grep -v '^base/clock\.' | sort |
    xargs -r grep -lE "$pattern" || true
)

status=0
for file in "${hits[@]}"; do
  if [[ " ${allowed[*]} " != *" $file "* ]]; then
    echo "$file: reads the clock without base/clock.h (use zen::Now()," \
      "zen::SleepFor(); see base/clock.h):" >&2
    grep -nE "$pattern" "$file" | sed 's/^/  /' >&2
    status=1
  fi
done
for file in "${allowed[@]}"; do
  if [[ " ${hits[*]} " != *" $file "* ]]; then
    echo "$file: no longer reads the clock itself; remove it from the" \
      "allowed list in tools/clock_use_test.sh" >&2
    status=1
  fi
done
if [[ $status == 0 ]]; then
  echo "clock_use_test: ${#hits[@]} allowed files; the rest use base/clock.h"
fi
exit $status
