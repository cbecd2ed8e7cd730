#!/usr/bin/env bash
# Fails, naming file and line, if a tracked file cites something a clone of
# this repository does not hold, so a reader cannot follow it:
#   * a Markdown file (NAME.md) that exists neither beside the citing file
#     nor from the workspace root;
#   * the project's old planning notes by name (the design, style and
#     reference-behaviour lists that lived outside the repository), the
#     folder they lived in, or items numbered in them ("reference item 5");
#   * issue numbers ("issue 12", "Issue #13"): the tracker is not in the
#     clone either.
# What the code relies on is written in docs/ (docs/architecture.md first);
# cite that.
#
# Like file_length_test.sh, the files are not inputs of this test: it finds
# the workspace through the symlink to its own script and is tagged
# "external", so Bazel runs it every time. It reads the files git tracks;
# where git cannot read the checkout, every file below the workspace but
# bazel-* and .git. Binary files and fuzz corpora are skipped.
set -euo pipefail

root=$(dirname "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")")
if [[ ! -f "$root/WORKSPACE" || ! -f "$root/tools/doc_citations_test.sh" ]]; then
  echo "doc_citations_test: cannot find the workspace (got $root)" >&2
  exit 1
fi
cd "$root"

if listed=$(git ls-files 2>/dev/null) && [[ -n "$listed" ]]; then
  mapfile -t files <<<"$listed"
else
  mapfile -t files < <(
    find . \( -path ./.git -o -name 'bazel-*' \) -prune -o -type f -print |
      sed 's|^\./||' | sort
  )
fi
# Fuzz corpora are bytes for a parser, not prose; this script names the
# patterns it looks for.
scanned=()
for f in "${files[@]}"; do
  [[ -f "$f" ]] || continue  # Deleted in the work tree, not yet in git.
  case "$f" in
    fuzz/corpus/*|tools/doc_citations_test.sh) continue ;;
  esac
  scanned+=("$f")
done

# Names of files a program writes, which look like citations but are not.
# "FILE:NAME" pairs; each must still occur, so the list can only shrink.
output_names=(
  "bench/report.py:OUT/report.md"
  "bench/report.py:report.md"
  "bench/run_all.sh:out/report.md"
)

status=0
fail() {
  echo "$1" >&2
  status=1
}

# 1. Markdown files that are not there. URLs are someone else's files.
declare -A seen_output=()
while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  name=${rest#*:}
  for allowed in "${output_names[@]}"; do
    if [[ "$allowed" == "$file:$name" ]]; then
      seen_output[$allowed]=1
      continue 2
    fi
  done
  [[ -f "$(dirname "$file")/$name" || -f "$name" ]] && continue
  fail "$file:$line: cites $name, which this repository does not hold"
done < <(
  grep -IHnoE '(https?://[^[:space:])>`"]*|[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md)\b' \
    "${scanned[@]}" | grep -vE '^[^:]+:[0-9]+:https?://' || true
)
for allowed in "${output_names[@]}"; do
  [[ -n "${seen_output[$allowed]:-}" ]] ||
    fail "doc_citations_test: $allowed no longer occurs; drop it from the list"
done

# 2. The old notes, their folder, their numbered items, and issue numbers.
notes='REFERENCE[-_ ]BEHAVIOU?RS|\bDESIGN\.md|\bSTYLE\.md|\.\./shared\b'
numbers='\b[Ii]ssues? #?[0-9]+|\b[Rr]eference items? [0-9]+|\(items? [0-9]+'
while IFS= read -r hit; do
  fail "${hit%%:*}:$(cut -d: -f2 <<<"$hit"): cites what the repository does not hold: $(cut -d: -f3- <<<"$hit")"
done < <(grep -IHnoE "$notes|$numbers" "${scanned[@]}" || true)

if [[ $status == 0 ]]; then
  echo "doc_citations_test: ${#scanned[@]} files, every citation held"
else
  echo "Cite docs/ instead (docs/architecture.md first)." >&2
fi
exit $status
