#!/usr/bin/env bash
# libzen_agent.so as a host sees it:
#  - its SONAME carries the header's ZEN_AGENT_ABI_MAJOR;
#  - it exports exactly the functions the header declares (no C++ symbol,
#    none of what it links statically; `nm -D --defined-only`);
#  - every library it needs is found (ldd), and a host that only dlopen()s
#    it can call it (Python's ctypes, as a binding would).
#
#  - every library it needs comes from a package listed in
#    runtime_debian_packages.txt (what bindings declare as dependencies).
#
#   exports_test.sh LIBRARY HEADER PACKAGES
set -euo pipefail

lib=$1 header=$2 packages=$3
fail=0

major=$(sed -n 's/^#define ZEN_AGENT_ABI_MAJOR \([0-9]*\)$/\1/p' "$header")
version=$(sed -n 's/^#define ZEN_AGENT_VERSION_STRING "\(.*\)"$/\1/p' "$header")
soname=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [[ "$soname" != "libzen_agent.so.$major" ]]; then
  echo "SONAME is '$soname', want 'libzen_agent.so.$major'" >&2
  fail=1
fi

# Every defined dynamic symbol with global binding (an upper-case type
# letter), but the version node itself (type A).
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[B-Z]$/ {print $3}' |
  sed 's/@.*//' | sort)
declared=$(grep -o 'ZEN_AGENT_API [^(]*\bzen_[a-z_]*(' "$header" |
  sed 's/.*\b\(zen_[a-z_]*\)($/\1/' | sort)
if [[ -z "$declared" ]]; then
  echo "no function found in $header" >&2
  fail=1
fi
if [[ "$exported" != "$declared" ]]; then
  echo "exported symbols differ from the header's functions:" >&2
  diff <(echo "$declared") <(echo "$exported") >&2 || true
  fail=1
fi
# Local dynamic symbols are not exported (no other object can bind to
# them): thread-locals that the library's TLS relocations name.
locals=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[a-z]$/' | wc -l)
echo "exports_test: $(echo "$exported" | wc -l) exported functions;" \
  "$locals local dynamic symbols"

# ldd's output is read whole first: `ldd | grep -q` under pipefail fails
# when grep exits at its match while ldd still writes (SIGPIPE).
deps=$(ldd "$lib")
if grep -q 'not found' <<<"$deps"; then
  echo "libraries not found:" >&2
  grep 'not found' <<<"$deps" >&2
  fail=1
fi

# A sanitizer build (--config=asan/tsan) needs its runtime loaded first and
# brings its own libraries: what follows is about the library as shipped.
# (Found by the runtime's entry point it calls: GCC links that runtime as
# a shared library, clang's ASan into the program.)
if grep -qa -e __asan_init -e __tsan_init "$lib"; then
  echo "exports_test: sanitizer build; packages and dlopen not checked"
  exit $fail
fi

# Each resolved library's owning Debian package must be listed. One dpkg
# query for them all (each costs a scan of dpkg's file lists); a library is
# known to dpkg under /lib or /usr/lib, whichever its package installed.
listed=$(grep -v '^#' "$packages")
mapfile -t needed < <(awk '$2 == "=>" && $3 ~ /^\// {print $1}' <<<"$deps")
queries=()
for name in "${needed[@]}"; do
  queries+=("/lib/x86_64-linux-gnu/$name" "/usr/lib/x86_64-linux-gnu/$name")
done
owners=$(dpkg -S "${queries[@]}" 2>/dev/null || true)
for name in "${needed[@]}"; do
  owner=$(awk -v n="$name" '{p = $NF; sub(".*/", "", p)} p == n {print $1; exit}' \
    <<<"$owners")
  owner=${owner%%:*}
  if [[ -z "$owner" ]] || ! grep -qx "$owner" <<<"$listed"; then
    echo "$name comes from '${owner:-no package}'," \
      "not listed in $(basename "$packages")" >&2
    fail=1
  fi
done

got=$(python3 - "$lib" <<'PY'
import ctypes
import sys

lib = ctypes.CDLL(sys.argv[1])
lib.zen_agent_version.restype = ctypes.c_char_p
print(lib.zen_agent_version().decode())
PY
) || { echo "python3 could not load $lib" >&2; fail=1; }
if [[ "$got" != "$version" ]]; then
  echo "zen_agent_version() through dlopen: '$got', want '$version'" >&2
  fail=1
fi
exit $fail
