#!/usr/bin/env bash
# Prints the key that stands for the installed versions of the system
# libraries the build reads headers and libraries from. System files are not
# Bazel action inputs, so the key goes into every action's environment
# (.bazelrc: --action_env=ZEN_SYSDEPS_KEY): an apt upgrade of one of them
# makes cached actions miss. Every command that builds exports it the same
# way, so they all share the disk cache:
#   ZEN_SYSDEPS_KEY=$(tools/sysdeps_key.sh) bazel build ...
# Only the build tier's libraries (tools/setup.sh without options): the key
# is then the same before and after `setup.sh --tests`, so the test command
# reuses what the main job built. The libraries wrapped through pkg-config
# (gtest among them) put their version on their users' command lines
# instead (tools/bazel/system_deps.bzl).
#
#   tools/sysdeps_key.sh --system-libs
# prints the key of every library the @system_libs repository wraps, the
# test tier's included, for ZEN_SYSTEM_LIBS_KEY: that repository is made
# anew when the value changes, so that a library installed after it was
# first made (gtest, by `setup.sh --tests` after the main job) is found.
# It is not in any action's environment, so it costs no cache hits.
set -u  # dpkg-query fails for a package not installed: the key then says so.
if [ "${1:-}" = "--system-libs" ]; then
  dpkg-query -W libssl-dev libsimdjson-dev libgtest-dev libgmock-dev \
    libbenchmark-dev libre2-dev libcpp-httplib-dev 2>/dev/null |
    md5sum | cut -c1-16
  exit 0
fi
dpkg-query -W libabsl-dev libprotobuf-dev libprotoc-dev libssl-dev \
  libsimdjson-dev libre2-dev libcpp-httplib-dev 2>/dev/null |
  md5sum | cut -c1-16
