#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing, fuzzing and
# benchmarking this project need. Idempotent: packages already present are
# left alone and nothing is downloaded then. Needs root (or sudo) only when
# something is missing.
#
#   tools/setup.sh           # building and testing
#   tools/setup.sh --bench   # also the benchmarks' peers and plotting
#                            # (bench/run_all.sh runs this)
set -euo pipefail

PACKAGES=(
  # Build system and toolchain.
  bazel-bootstrap bazel-rules-cc bazel-rules-java bazel-platforms
  build-essential g++ pkg-config clang libclang-rt-14-dev clang-format
  # Libraries the code links.
  protobuf-compiler libprotobuf-dev libprotoc-dev libabsl-dev libssl-dev
  libsimdjson-dev libre2-dev libcpp-httplib-dev
  # CPython's headers, for the Python package's one C module
  # (//bindings/python:_speedups.abi3.so).
  python3-dev
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev python3
  # The Python binding's tests run the example app under Debian's real
  # gunicorn (//examples/python:gunicorn_*_test). tools/run_main.sh's job
  # does not need it.
  gunicorn
)
if [ "${1:-}" = "--bench" ]; then
  # Only bench/run_all.sh needs these: gRPC C++ as a peer (its targets are
  # tagged manual) and gnuplot for the plot. Python is above already.
  PACKAGES+=(libgrpc++-dev protobuf-compiler-grpc gnuplot-nox)
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
