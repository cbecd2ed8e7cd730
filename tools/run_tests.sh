#!/usr/bin/env bash
# Quick start, command 2: installs what is missing and runs the whole test
# suite. Extra arguments go to `bazel test` (e.g. --config=asan).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --tests
# System headers and libraries are not action inputs: key the cache on their
# versions so an apt upgrade rebuilds (see .bazelrc).
ZEN_SYSDEPS_KEY=$(tools/sysdeps_key.sh)
export ZEN_SYSDEPS_KEY
exec bazel test "$@" //...
