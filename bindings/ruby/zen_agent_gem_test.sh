#!/usr/bin/env bash
# Installs the built .gem into a fresh GEM_HOME, as a user would (nothing
# from the network: its one dependency is Debian's ruby-ffi), and runs the
# gem's tests from a scratch directory outside the repository.
set -euo pipefail

gem_file="$(realpath "$1")"
test_script="$(realpath "$2")"
library="$3"

# The gem carries the library this build made. One built with a sanitizer
# cannot be loaded into Debian's uninstrumented ruby (the runtime must come
# first), and ThreadSanitizer does not support the forked workers anyway.
if grep -qa -e __tsan_init -e __asan_init "$library"; then
  echo "SKIP: the library was built with a sanitizer"
  exit 0
fi

work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/zen_gem.XXXXXX")"
export HOME="$work" GEM_HOME="$work/gems"
unset RUBYLIB RUBYOPT GEM_PATH
cd "$work"
timeout 120 gem install --local --no-document "$gem_file"
cp "$test_script" "$work/test.rb"
exec timeout 240 ruby test.rb
