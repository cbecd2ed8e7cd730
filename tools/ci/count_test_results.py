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
"""
import pathlib
import re
import sys
import xml.etree.ElementTree as ET

_STATUS = re.compile(
    r"^(//\S+)\s+(?:\(cached\) )?"
    r"(PASSED|FAILED TO BUILD|FAILED|FLAKY|TIMEOUT|NO STATUS|INCOMPLETE)\b",
    re.M)


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
        ok = status == "PASSED"
        cases = None
        if status not in ("FAILED TO BUILD", "NO STATUS"):
            xml = testlogs / target[2:].replace(":", "/") / "test.xml"
            cases = count_xml(xml)
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
