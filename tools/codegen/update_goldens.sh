#!/usr/bin/env bash
# Regenerates the checked-in goldens of protoc-gen-zenrpc from the plugin's
# current output. Run from anywhere in the workspace:
#   tools/codegen/update_goldens.sh
# then review the diff (git diff tools/codegen/testdata) and commit it with
# the plugin change that caused it.
set -euo pipefail

cd "$(dirname "$0")/../.."
bazel build //tools/codegen/testdata:golden_zenrpc_gen
for stem in golden long_names no_package no_services; do
  for ext in h cc; do
    out="bazel-bin/tools/codegen/testdata/${stem}.zenrpc.${ext}"
    golden="tools/codegen/testdata/${stem}.zenrpc.${ext}.golden"
    cp "${out}" "${golden}"
    chmod 644 "${golden}"
  done
done
echo "goldens updated; review with: git diff tools/codegen/testdata"
