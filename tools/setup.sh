#!/usr/bin/env bash
# Installs the Debian 12 packages this project needs, in tiers: each
# command installs only what it runs (a new user's first command should not
# wait for a fuzzing toolchain). Idempotent: packages already present are
# left alone and nothing is downloaded then. Needs root (or sudo) only when
# something is missing. Options add up.
#
#   tools/setup.sh           # building the library and the main job
#                            # (tools/run_main.sh)
#   tools/setup.sh --tests   # also what the test suite runs
#                            # (tools/run_tests.sh)
#   tools/setup.sh --clang   # also clang and lld: fuzzing (fuzz/run_fuzzers.sh)
#                            # and --config=asan, which is also the
#                            # thread-safety analysis (.ci/run)
#   tools/setup.sh --bench   # also the benchmarks' peers and tools
#                            # (bench/run_all.sh)
#   tools/setup.sh --fresh   # also debootstrap, for tools/fresh_check.sh
#   tools/setup.sh --all     # every tier
#   tools/setup.sh [TIERS] --list   # installs nothing; prints each package
#                            # of those tiers and its installed version
#
# tools/ci/programs_check.py reads the PACKAGES lists below: a program a
# tracked script runs must come from one of them (or from minbase).
set -euo pipefail

tests=0 clang=0 bench=0 fresh=0 list=0
for arg in "$@"; do
  case "$arg" in
    --tests) tests=1 ;;
    --clang) clang=1 ;;
    --bench) bench=1 ;;
    --fresh) fresh=1 ;;
    --all) tests=1 clang=1 bench=1 fresh=1 ;;
    --list) list=1 ;;
    *) echo "setup: unknown option $arg (see the top of $0)" >&2; exit 2 ;;
  esac
done

PACKAGES=(
  # Build system and toolchain.
  bazel-bootstrap bazel-rules-cc bazel-rules-java bazel-platforms
  build-essential g++ pkg-config
  # Libraries the code links.
  protobuf-compiler libprotobuf-dev libprotoc-dev libabsl-dev libssl-dev
  libsimdjson-dev libre2-dev libcpp-httplib-dev
)
if [ "$tests" = 1 ]; then
  # Test frameworks and micro-benchmarks (built by `bazel test //...`),
  # python3 for the tests' scripts, clang-format for codegen's golden test.
  PACKAGES+=(libgtest-dev libgmock-dev libbenchmark-dev python3 clang-format)
  # //capi:abi_check_test: abidw and abidiff, libzen_agent.so's ABI against
  # its committed baseline.
  PACKAGES+=(abigail-tools)
  # //bindings/ruby (the gem: `gem build`, and its test through Debian's
  # ruby-ffi) and //examples/ruby (the example Rack app under Puma and
  # Unicorn, 4 workers each).
  PACKAGES+=(ruby ruby-ffi ruby-rack puma unicorn)
  # //bindings/python: CPython's headers for the package's one C module
  # (_speedups.abi3.so); //examples/python:gunicorn_*_test run the example
  # app under Debian's real gunicorn.
  PACKAGES+=(python3-dev gunicorn)
fi
if [ "$clang" = 1 ]; then
  PACKAGES+=(clang libclang-rt-14-dev lld)
fi
if [ "$bench" = 1 ]; then
  # gRPC C++ as a peer (its targets are tagged manual), gnuplot for the
  # plot, valgrind for instructions_per_call.sh, python3 for the report.
  PACKAGES+=(libgrpc++-dev protobuf-compiler-grpc gnuplot-nox valgrind python3)
fi
if [ "$fresh" = 1 ]; then
  PACKAGES+=(debootstrap)
fi

if [ "$list" = 1 ]; then
  for p in "${PACKAGES[@]}"; do
    printf '%-28s %s\n' "$p" "$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || echo 'NOT INSTALLED')"
  done
  exit 0
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "setup: missing packages (${missing[*]}) and not root; run as root" >&2
    exit 1
  fi
fi

echo "setup: installing ${#missing[@]} missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -q >/tmp/zen-setup-apt-update.log 2>&1; then
  echo "setup: apt-get update failed; see /tmp/zen-setup-apt-update.log" >&2
  exit 1
fi
if ! $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/zen-setup-apt-install.log 2>&1; then
  echo "setup: apt-get install failed; see /tmp/zen-setup-apt-install.log" >&2
  tail -20 /tmp/zen-setup-apt-install.log >&2
  exit 1
fi
echo "setup: done"
