#!/usr/bin/env bash
# Instructions each side of a call costs, counted by valgrind's callgrind:
# deterministic, so it shows what a change to the hot path bought even on a
# loaded machine, where timings swing. Runs echo_compare twice (1,000 and
# 3,000 timed calls after 1,000 warm-up, both processes on one CPU) and
# prints the difference per call, for the server and the client process.
#
#   bench/instructions_per_call.sh [system]    # zen (default), zen_unix,
#                                              # zen_rate_limits, raw_tcp...
set -euo pipefail
cd "$(dirname "$0")/.."
system="${1:-zen}"
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
bazel build -c opt //bench:echo_compare >&2
bin="$(bazel info -c opt bazel-bin)/bench/echo_compare"
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

# Total instructions of each process of one run: server (the parent, lower
# pid) first.
totals() {
  local calls="$1" dir="${work}/${1}"
  mkdir -p "${dir}"
  valgrind --tool=callgrind --callgrind-out-file="${dir}/cg.%p" "${bin}" \
    --system="${system}" --placement=shared --threads=0 --warmup=1000 \
    --calls="${calls}" >/dev/null 2>&1
  for f in $(ls "${dir}"/cg.* | sort -t. -k2 -n); do
    grep -m1 '^summary:' "${f}" | awk '{print $2}'
  done
}

paste <(totals 1000) <(totals 3000) |
  awk -v s="${system}" 'NR == 1 {side = "server"} NR == 2 {side = "client"}
       {printf "%s %s: %.0f instructions per call\n", s, side, ($2 - $1) / 2000}'
