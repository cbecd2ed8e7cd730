#!/usr/bin/env bash
# Builds every fuzz target with --config=fuzz (clang-14, libFuzzer, ASan,
# UBSan, LeakSanitizer) and runs each for a bounded time, starting from its
# checked-in corpus. Fails if any target crashes, leaks, times out on one
# input (10 s) or runs out of memory (2.5 GiB).
#
#   fuzz/run_fuzzers.sh [SECONDS_PER_TARGET] [--merge] [--only TARGET]...
#                       [--jobs N] [-- BAZEL_BUILD_FLAGS...]
#
# SECONDS_PER_TARGET defaults to 60 (what CI runs). --merge adds the inputs
# that reached new coverage to fuzz/corpus/<target>/ (minimized), for long
# runs whose corpus is worth keeping: `fuzz/run_fuzzers.sh 3600 --merge`
# fuzzes every target for an hour. A crashing input is saved next to the
# log (FUZZ_OUT, a temporary directory by default) and printed; add it to
# fuzz/corpus/<target>/ with the fix so the corpus replay test keeps it
# fixed. Prints one line per target: executions, coverage (edges and
# features, as libFuzzer counts them), corpus size. Targets run N at a time
# (default: one per CPU), each a single libFuzzer process on one core, so
# each gets as many executions as when they ran one after another.
set -uo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(frame_fuzzer envelope_fuzzer handshake_fuzzer stub_json_fuzzer
  settings_fuzzer agent_server_fuzzer heartbeat_fuzzer rate_limit_zone_fuzzer)

seconds=60
merge=0
jobs=$(nproc)
targets=()
bazel_flags=(--config=fuzz)
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; bazel_flags+=("$@"); break ;;
    --merge) merge=1 ;;
    --only) shift; targets+=("$1") ;;
    --jobs) shift; jobs=$1 ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) seconds=$1 ;;
  esac
  shift
done
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")

tools/setup.sh --tests --clang
ZEN_SYSDEPS_KEY=$(tools/sysdeps_key.sh)
export ZEN_SYSDEPS_KEY

labels=()
for t in "${targets[@]}"; do labels+=("//fuzz:$t"); done
echo "=== fuzz: building ${#targets[@]} targets"
if ! bazel build "${bazel_flags[@]}" "${labels[@]}"; then
  echo "fuzz: build failed"
  exit 1
fi
bin_dir=$(bazel info "${bazel_flags[@]}" bazel-bin 2>/dev/null)/fuzz

out=${FUZZ_OUT:-$(mktemp -d /tmp/zen-fuzz.XXXXXX)}
mkdir -p "$out"
# Fuzzes one target; its summary line goes to $out/$t/line, and a failure
# also leaves $out/$t/failed with what to print about it.
fuzz_one() {
  local t=$1 dir="$out/$1"
  mkdir -p "$dir/corpus"
  local log="$dir/log"
  # New inputs go to the scratch corpus (the first directory); the
  # checked-in one is only read.
  "$bin_dir/$t" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2560 \
    -print_final_stats=1 -artifact_prefix="$dir/" \
    "$dir/corpus" "fuzz/corpus/$t" >"$log" 2>&1
  local rc=$?
  local execs last cov ft corp line
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | grep ' cov: ' | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p' <<<"$last")
  line=$(printf '%-20s %4ss  execs %-10s cov %-6s ft %-7s corpus %s' "$t" \
    "$seconds" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
  if [ "$rc" -ne 0 ]; then
    line="$line  FAILED (exit $rc)"
    {
      grep -E 'ERROR|FUZZ_CHECK|SUMMARY|Test unit written' "$log" | head -20
      for artifact in "$dir"/crash-* "$dir"/leak-* "$dir"/timeout-* "$dir"/oom-*; do
        [ -e "$artifact" ] || continue
        echo "--- $artifact (base64):"
        base64 "$artifact" | head -40
      done
    } >"$dir/failed"
  elif [ "$merge" -eq 1 ]; then
    "$bin_dir/$t" -merge=1 "fuzz/corpus/$t" "$dir/corpus" >"$dir/merge.log" 2>&1 ||
      echo "fuzz: merging the corpus of $t failed (see $dir/merge.log)"
  fi
  echo "$line" >"$dir/line"
}

for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
  echo "=== fuzz: $t for ${seconds}s (log: $out/$t/log)"
  fuzz_one "$t" &
done
wait

status=0
summary=()
for t in "${targets[@]}"; do
  if [ -e "$out/$t/failed" ]; then
    status=1
    echo "--- $t failed:"
    cat "$out/$t/failed"
  fi
  summary+=("$(cat "$out/$t/line" 2>/dev/null || echo "$t  FAILED (no result)")")
done

echo "=== fuzz summary"
printf '%s\n' "${summary[@]}"
exit "$status"
