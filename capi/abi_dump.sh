#!/usr/bin/env bash
# Writes the ABI of libzen_agent.so (abigail-tools' abidw) to OUT:
#
#   capi/abi_dump.sh LIBRARY SUPPRESSIONS OUT
#
# //capi:abi_check_test compares this with the committed baseline. To change
# the ABI on purpose, regenerate the baseline (docs/c_api.md, "ABI policy"):
#
#   bazel build //capi:libzen_agent.so.1 && capi/abi_dump.sh \
#     bazel-bin/capi/libzen_agent.so.1 capi/abi/noise.supp \
#     capi/abi/libzen_agent.so.1.abi
#
# What would differ between machines or builds and says nothing about the
# ABI is left out: paths (corpus, compilation directory, source locations),
# the architecture (x86-64 is the only one built), the DT_NEEDED list
# (Debian's library versions; docs/c_api.md lists them), and sequential
# type ids (content hashes instead, stable when unrelated types change).
set -euo pipefail

if [[ $# -ne 3 ]]; then
  echo "usage: $0 LIBRARY SUPPRESSIONS OUT" >&2
  exit 2
fi
exec abidw --no-corpus-path --no-comp-dir-path --no-show-locs \
  --no-architecture --no-elf-needed --type-id-style hash \
  --suppressions "$2" --out-file "$3" "$1"
