#!/usr/bin/env bash
# Fails, naming each one, if a tracked source file (.cc .h .py .sh .proto
# .bzl) is over 800 lines: a file past that has grown more than one subject
# and wants a split by purpose (docs/architecture.md, "Code shape"). A file
# is not split only to get under the limit: most are 100-400 lines, and one
# subject may well take 500.
#
# Like clock_use_test.sh, the sources are not inputs of this test: it finds
# the workspace through the symlink to its own script and is tagged
# "external", so Bazel runs it every time. It lists the files git tracks;
# where git cannot read the checkout, every such file below the workspace
# but bazel-* and .git.
set -euo pipefail

readonly max_lines=800

root=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
if [[ ! -f "$root/WORKSPACE" || ! -f "$root/tools/file_length_test.sh" ]]; then
  echo "file_length_test: cannot find the workspace (got $root)" >&2
  exit 1
fi
cd "$root"

if files=$(git ls-files -- '*.cc' '*.h' '*.py' '*.sh' '*.proto' '*.bzl' \
  2>/dev/null) && [[ -n "$files" ]]; then
  mapfile -t sources <<<"$files"
else
  mapfile -t sources < <(
    find . \( -path ./.git -o -name 'bazel-*' \) -prune -o -type f \
      \( -name '*.cc' -o -name '*.h' -o -name '*.py' -o -name '*.sh' -o \
      -name '*.proto' -o -name '*.bzl' \) -print | sed 's|^\./||' | sort
  )
fi

status=0
for file in "${sources[@]}"; do
  [[ -f "$file" ]] || continue  # Deleted in the work tree, not yet in git.
  lines=$(wc -l <"$file")
  if ((lines > max_lines)); then
    echo "$file: $lines lines, over $max_lines; split it by purpose" >&2
    status=1
  fi
done
if [[ $status == 0 ]]; then
  echo "file_length_test: ${#sources[@]} source files, none over" \
    "$max_lines lines"
fi
exit $status
