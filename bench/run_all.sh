#!/usr/bin/env bash
# Runs every benchmark of bench/ side by side with the raw limit and the
# peers (gRPC C++, Python's multiprocessing.connection), writes the markdown
# report and the plot, and puts them in docs/benchmarks.md (between its
# generated-section markers) and docs/benchmarks.png.
#
#   bench/run_all.sh            # about 2.5 minutes on the 2-core VM once built
#   bench/run_all.sh --quick    # one repetition, fewer calls: tries the driver
#   bench/run_all.sh --no-docs  # leaves docs/ alone
#
# The report also lands in $BENCH_OUT (default /tmp/zen-bench-<time>).
set -euo pipefail
cd "$(dirname "$0")/.."

docs=(--docs=docs/benchmarks.md)
extra=()
for arg in "$@"; do
  case "$arg" in
    --no-docs) docs=() ;;
    --quick) extra+=(--quick) ;;
    *) echo "usage: bench/run_all.sh [--quick] [--no-docs]" >&2; exit 2 ;;
  esac
done

tools/setup.sh --tests --bench
out=${BENCH_OUT:-/tmp/zen-bench-$(date +%Y%m%d-%H%M%S)}
# gRPC's targets are tagged manual (kept out of //...), so name them.
bazel build -c opt //bench/... //bench:grpc_compare
bin=$(bazel info -c opt bazel-bin)/bench
/usr/bin/python3 bench/report.py --bin="$bin" --out="$out" "${docs[@]}" "${extra[@]}"
echo
echo "bench: report in $out/report.md"
