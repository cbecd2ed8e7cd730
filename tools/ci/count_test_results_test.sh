#!/usr/bin/env bash
# CI's closing line must count every failed target. Feeds count_test_results.py
# a Bazel log and test logs as Bazel leaves them after a failing gtest (the
# real binary's XML: one case passed, one failed), a failing sh_test (the XML
# Bazel's own generate-xml.sh writes for it), a target that passed every case
# but exited non-zero, a timeout with no XML, a target that failed to build,
# and a passing one.
set -euo pipefail

count=$1 gtest=$2 xml_generator=$3
dir=$(mktemp -d "${TEST_TMPDIR:-/tmp}/count.XXXXXX")
logs=$dir/testlogs
mkdir -p "$logs/pkg/gtest_fails" "$logs/pkg/sh_fails" "$logs/pkg/exit_fails" \
  "$logs/pkg/times_out" "$logs/pkg/passes" \
  "$logs/pkg/flaky_hung/test_attempts" "$logs/pkg/flaky_asan/test_attempts"

# The gtest: 1 passed, 1 failed (its exit code is 1, as under Bazel).
if "$gtest" --gtest_output="xml:$logs/pkg/gtest_fails/test.xml" >"$dir/gtest.out" 2>&1; then
  echo "FAIL: the fixture gtest passed" >&2
  exit 1
fi
# The sh_test: Bazel writes its XML from the log and the exit code.
echo "FAIL: something" >"$dir/sh.log"
bash "$xml_generator" "$dir/sh.log" "$logs/pkg/sh_fails/test.xml" 1 1
# A gtest whose every case passed but whose binary failed at exit.
"$gtest" --gtest_filter=CountFixture.Passes \
  --gtest_output="xml:$logs/pkg/exit_fails/test.xml" >/dev/null
# A passing sh_test.
echo "ok" >"$dir/ok.log"
bash "$xml_generator" "$dir/ok.log" "$logs/pkg/passes/test.xml" 1 0
# Retried targets: the final attempt passed; what the failed one left.
for flaky in flaky_hung flaky_asan; do
  bash "$xml_generator" "$dir/ok.log" "$logs/pkg/$flaky/test.xml" 1 0
done
echo "-- Test timed out at 2026-12-07 04:30:00 UTC --" \
  >"$logs/pkg/flaky_hung/test_attempts/attempt_1.log"
echo "==22==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020" \
  >"$logs/pkg/flaky_asan/test_attempts/attempt_1.log"

cat >"$dir/bazel.log" <<'LOG'
INFO: Build completed, 4 tests FAILED, 6 total actions
//pkg:gtest_fails                                                        FAILED in 0.1s
  bazel-testlogs/pkg/gtest_fails/test.log
//pkg:sh_fails                                                           FAILED in 0.1s
//pkg:exit_fails                                                         FAILED in 0.1s
//pkg:times_out                                                         TIMEOUT in 60.0s
//pkg:never_built                                                FAILED TO BUILD
//pkg:passes                                                             PASSED in 0.1s
//pkg:flaky_hung                                  FLAKY, failed in 1 out of 2 in 15.2s
//pkg:flaky_asan                                   FLAKY, failed in 1 out of 2 in 0.3s
LOG

got=$(python3 "$count" "$dir/bazel.log" "$logs" 2>"$dir/stderr")
# Passed: gtest_fails 1, exit_fails 1, passes 1, flaky_hung 1, flaky_asan 1
# (its final attempt's case).
# Failed: gtest_fails 1, sh_fails 1, exit_fails 1, times_out 1, never_built 1,
# flaky_asan 1.
want="5 6"
if [ "$got" != "$want" ]; then
  echo "FAIL: counted '$got', want '$want'" >&2
  cat "$dir/stderr" >&2
  exit 1
fi
for target in gtest_fails sh_fails exit_fails times_out never_built flaky_asan; do
  grep -q "^failed: //pkg:$target " "$dir/stderr" ||
    { echo "FAIL: //pkg:$target not named" >&2; cat "$dir/stderr" >&2; exit 1; }
done
if grep -q "//pkg:passes" "$dir/stderr"; then
  echo "FAIL: a passing target was named as failed" >&2
  exit 1
fi
grep -q "^flaky: //pkg:flaky_hung failed once, passed on retry" "$dir/stderr" ||
  { echo "FAIL: the retried target not named" >&2; cat "$dir/stderr" >&2; exit 1; }
if grep -q "^failed: //pkg:flaky_hung" "$dir/stderr"; then
  echo "FAIL: a retry that passed without a sanitizer report counted failed" >&2
  exit 1
fi
echo PASS
