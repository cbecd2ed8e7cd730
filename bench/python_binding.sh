#!/usr/bin/env bash
# rate_limit from Python (the zen_agent package, with its C module and
# through ctypes alone) next to the same call from C through the same
# library, and next to multiprocessing.connection doing the same round trip
# (docs/benchmarks.md, "Python binding").
# Builds with -c opt; 3 repetitions, systems interleaved; prints one JSON
# line per run and, at the end, the median p50/p99 of each row.
#   bench/python_binding.sh [CALLS]
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-20000}
bazel build -c opt //bench:python_rate_limit_baseline //bindings/python:package >&2
bin=$(bazel info -c opt bazel-bin)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for rep in 1 2 3; do
  for where in master worker; do
    for placement in split shared; do
      [ "$where" = master ] && [ "$placement" = shared ] && continue
      nice -n -20 "$bin/bench/python_rate_limit_baseline" --where=$where \
        --placement=$placement --calls="$calls" | tee -a "$out"
      for pure in 0 1; do  # 1: rate_limit through ctypes alone
        ZEN_AGENT_PURE_PYTHON=$pure nice -n -20 /usr/bin/python3 \
          bench/python_rate_limit.py --system=zen \
          --package="$bin/bindings/python" --where=$where \
          --placement=$placement --calls="$calls" | tee -a "$out"
      done
    done
  done
  for placement in split shared; do
    nice -n -20 /usr/bin/python3 bench/python_rate_limit.py \
      --system=mp_connection --placement=$placement --calls="$calls" |
      tee -a "$out"
    nice -n -20 /usr/bin/python3 bench/python_rate_limit.py \
      --system=mp_connection --per_call=1 --placement=$placement \
      --calls=$((calls / 10)) --warmup=200 | tee -a "$out"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault((r["where"], r["placement"], r["system"]), []).append(r)
print("| where | placement | system | p50 µs | p99 µs |")
print("|---|---|---|---|---|")
for (where, placement, system), runs in sorted(rows.items()):
    p50 = statistics.median(r["p50_us"] for r in runs)
    p99 = statistics.median(r["p99_us"] for r in runs)
    print(f"| {where} | {placement} | {system} | {p50:.2f} | {p99:.2f} |")
PY
