#!/usr/bin/env python3
"""Counts the test cases of one `bazel test` run for CI's closing line.

Usage: count_test_results.py BAZEL_LOG TESTLOGS_DIR
Prints "PASSED FAILED" (two integers) on stdout, and one line per failed
target on stderr.

A target's test cases come from the JUnit XML Bazel leaves in
TESTLOGS_DIR/<package>/<name>/test.xml: GoogleTest writes one with a
<testcase> per TEST, and for any other test (sh_test, a crash, a timeout)
Bazel writes one with a single <testcase> holding an <error>. A testcase with
a <failure> or <error> child failed; every other one passed.

Every target the log reports as not passed counts at least one failure even
when its XML shows none (a binary that passed every case and then failed at
exit, e.g. LeakSanitizer's report; an XML from an earlier run), and a target
that never ran (FAILED TO BUILD, NO STATUS) counts one.

A FLAKY target (failed, then passed when Bazel ran it again: the ASan config
retries once, see .bazelrc) counts as its passing attempt, unless a failed
attempt's log holds a sanitizer's report: a memory error seen once is a
failure however the retry went. Each flaky target is named on stderr.
"""
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

_STATUS = re.compile(
    r"^(//\S+)\s+(?:\(cached\) )?"
    r"(PASSED|FAILED TO BUILD|FAILED|FLAKY|TIMEOUT|NO STATUS|INCOMPLETE)\b",
    re.M)

# What AddressSanitizer, LeakSanitizer, UBSan and TSan print on a finding.
_SANITIZER_REPORT = re.compile(
    r"ERROR: (?:AddressSanitizer|LeakSanitizer)|runtime error:|"
    r"WARNING: ThreadSanitizer")


def sanitizer_reported(target_dir):
    """Whether a failed attempt Bazel kept under target_dir reported a finding."""
    for log in sorted(target_dir.rglob("test_attempts/*.log")):
        if _SANITIZER_REPORT.search(log.read_text(errors="replace")):
            return True
    return False


def count_xml(path):
    """Returns (passed, failed) test cases in one JUnit XML file, or None."""
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        return None
    passed = failed = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        else:
            passed += 1
    return passed, failed


def count(log_text, testlogs):
    passed = failed = 0
    statuses = {}
    for target, status in _STATUS.findall(log_text):
        # With --runs_per_test a target is reported once per summary line;
        # keep the worst.
        if statuses.get(target, "PASSED") == "PASSED":
            statuses[target] = status
    for target, status in sorted(statuses.items()):
        target_dir = testlogs / target[2:].replace(":", "/")
        ok = status == "PASSED"
        if status == "FLAKY":
            ok = not sanitizer_reported(target_dir)
            print(f"flaky: {target} failed once, "
                  f"{'passed on retry' if ok else 'with a sanitizer report'}",
                  file=sys.stderr)
        cases = None
        if status not in ("FAILED TO BUILD", "NO STATUS"):
            cases = count_xml(target_dir / "test.xml")
        if cases is None:
            cases = (1, 0) if ok else (0, 1)
        case_passed, case_failed = cases
        if not ok and case_failed == 0:
            case_failed = 1
        if not ok:
            print(f"failed: {target} {status} ({case_failed} failed cases)",
                  file=sys.stderr)
        passed += case_passed
        failed += case_failed
    return passed, failed


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    log_text = pathlib.Path(argv[1]).read_text(errors="replace")
    passed, failed = count(log_text, pathlib.Path(argv[2]))
    print(passed, failed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
