#!/usr/bin/env bash
# Quick start, command 2: installs what is missing and runs the whole test
# suite. Extra arguments go to `bazel test` (e.g. --config=asan).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --tests
# System headers and libraries are not action inputs: key the cache on their
# versions so an apt upgrade rebuilds (see .bazelrc).
ZEN_SYSDEPS_KEY=$(tools/sysdeps_key.sh)
# Changed by the test tier's libraries: @system_libs is made anew and finds
# gtest, which was not installed when the main job first made it.
ZEN_SYSTEM_LIBS_KEY=$(tools/sysdeps_key.sh --system-libs)
export ZEN_SYSDEPS_KEY ZEN_SYSTEM_LIBS_KEY
# Only the test targets and what they depend on: the benchmarks and demo
# binaries no test runs are 7 % of a cold build's compile time
# (docs/build.md); .ci/run's build stage still compiles them.
exec bazel test --build_tests_only "$@" //...
