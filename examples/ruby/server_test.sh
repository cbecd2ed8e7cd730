#!/usr/bin/env bash
# Installs the zen_agent gem from the built .gem into a fresh GEM_HOME (as
# a user would), copies the example app out of the repository and runs
# server_test.rb against it under one server.
#
#   server_test.sh <mode> <zen_agent.gem> <libzen_agent.so.1> <agent_cli> \
#     <app files...>
set -euo pipefail

mode="$1"
gem_file="$(realpath "$2")"
library="$3"
# The foreign worker a worker runs (foreign_worker.rb, mounted by config.ru
# when this is set).
export ZEN_EXAMPLE_AGENT_CLI="$(realpath "$4")"
shift 4

# A library built with a sanitizer cannot load into Debian's uninstrumented
# ruby, and ThreadSanitizer does not support forked workers of a threaded
# master anyway: the default suite runs this test.
if grep -qa -e __tsan_init -e __asan_init "$library"; then
  echo "SKIP: the library was built with a sanitizer"
  exit 0
fi

work="$(mktemp -d "${TEST_TMPDIR:-/tmp}/zen_${mode}.XXXXXX")"
export HOME="$work" GEM_HOME="$work/gems"
unset RUBYLIB RUBYOPT GEM_PATH
mkdir -p "$work/app" "$work/state"
for f in "$@"; do cp "$f" "$work/app/"; done
cd "$work"
timeout 120 gem install --local --no-document "$gem_file" >/dev/null
exec timeout 270 ruby app/server_test.rb "$mode" "$work/app" "$work/state"
