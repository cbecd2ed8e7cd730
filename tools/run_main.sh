#!/usr/bin/env bash
# Quick start, command 1: installs what is missing, builds and runs the main
# job: the pre-fork HTTP server's self-test (examples/prefork_server_main.cc).
# Extra arguments go to the server (e.g. --workers=8).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
# The same key as tools/run_tests.sh: the test command then reuses this
# build (.bazelrc, tools/sysdeps_key.sh).
ZEN_SYSDEPS_KEY=$(tools/sysdeps_key.sh)
ZEN_SYSTEM_LIBS_KEY=$(tools/sysdeps_key.sh --system-libs)
export ZEN_SYSDEPS_KEY ZEN_SYSTEM_LIBS_KEY
exec bazel run --ui_event_filters=-info,-stdout,-stderr --noshow_progress //examples:prefork_server -- --self-test "$@"
