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
# Built outside Bazel's sandbox: the sandbox proves every input declared,
# which the test command (and CI) checks; here it would only cost CPU on
# every action (docs/build.md).
exec bazel run --ui_event_filters=-info,-stdout,-stderr --noshow_progress \
  --spawn_strategy=local //examples:prefork_server -- --self-test "$@"
