#!/usr/bin/env bash
# Runs the README's two quick-start commands as a new user would: on a
# pristine Debian 12 root (debootstrap minbase + ca-certificates + git), as
# root, in a fresh clone of the committed main, and prints each command's
# wall time and exit status. Nothing of this machine's installed packages,
# Bazel caches or work tree leaks in: the root has its own /usr, home and
# apt state, and the clone is of what is committed.
#
#   tools/fresh_check.sh [--rev REV] [--keep] [--only main|tests|ci]
#
# --only ci runs CI's script (.ci/run) there instead of the two commands:
# what CI costs on a machine with nothing cached.
#
# Needs root and the network to Debian's mirror (the one apt uses here).
# The minbase image is made once and kept in $ZEN_FRESH_DIR/base (by
# default in zen-fresh under the user's cache directory, ~/.cache); each
# run copies it, so every run starts from the same pristine root. --keep leaves the run's
# root behind for a look (its path is printed).
#
# The commands run in their own mount and PID namespaces, with the root
# made / by pivot_root (not chroot), so that Bazel's linux-sandbox can
# make its own mount namespaces inside, as on a real machine.
set -euo pipefail

rev=main
keep=0
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rev) rev=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --only) only=$2; shift 2 ;;
    *) echo "usage: $0 [--rev REV] [--keep] [--only main|tests|ci]" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "fresh_check: run as root" >&2; exit 1; }
"$(dirname "$0")/setup.sh" --fresh >/dev/null  # debootstrap

repo=$(cd "$(dirname "$0")/.." && pwd)
state=${ZEN_FRESH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/zen-fresh}
base=$state/base
mirror=$(sed -n 's|^URIs: *\(http[^ ]*/debian\)$|\1|p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
mirror=${mirror:-http://deb.debian.org/debian}

if [ ! -f "$base/.complete" ]; then
  echo "fresh_check: making the minbase image in $base (once)"
  rm -rf "$base"
  mkdir -p "$state"
  debootstrap --variant=minbase --include=ca-certificates,git bookworm \
    "$base" "$mirror" >"$state/debootstrap.log" 2>&1 ||
    { tail -20 "$state/debootstrap.log" >&2; exit 1; }
  touch "$base/.complete"
fi

root=$(mktemp -d "$state/run.XXXXXX")
cleanup() {
  if [ "$keep" = 1 ]; then echo "fresh_check: root kept in $root"; else rm -rf "$root"; fi
}
trap cleanup EXIT
cp -a "$base/." "$root/"
cp /etc/resolv.conf "$root/etc/resolv.conf"
git clone -q --no-hardlinks --branch "$rev" "$repo" "$root/srv/zen" 2>/dev/null ||
  { git clone -q --no-hardlinks "$repo" "$root/srv/zen" && git -C "$root/srv/zen" checkout -q "$rev"; }
echo "fresh_check: $(git -C "$root/srv/zen" log -1 --format='%h %s') on a pristine Debian 12 root"

# The commands, as the README gives them, each timed.
cat >"$root/srv/quick_start.sh" <<'INNER'
#!/bin/bash
cd /srv/zen
# Root's home in the new root, as a login would set it.
export HOME=$(getent passwd root | cut -d: -f6)
export DEBIAN_FRONTEND=noninteractive
run() {
  local name=$1 start status
  shift
  start=$(date +%s)
  "$@" >"/srv/$name.log" 2>&1
  status=$?
  echo "fresh_check: $* -> exit $status, $(( $(date +%s) - start )) s wall (log: /srv/$name.log)"
  tail -5 "/srv/$name.log" | sed 's/^/    /'
  return 0
}
if [ "${ONLY:-}" = ci ]; then
  run ci bash .ci/run
  exit 0
fi
[ "${ONLY:-main}" = tests ] || run main tools/run_main.sh
[ "${ONLY:-tests}" = main ] || run tests tools/run_tests.sh
INNER
chmod +x "$root/srv/quick_start.sh"

unshare --mount --pid --fork --propagation private /bin/bash -s "$root" "$only" <<'NS'
set -euo pipefail
root=$1 only=$2
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/tmp"
mount -t tmpfs tmpfs "$root/run"
mkdir -p "$root/.oldroot"
cd "$root"
pivot_root . .oldroot
umount -l /.oldroot
rmdir /.oldroot
exec /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  TERM=dumb LANG=C.UTF-8 ONLY="$only" /srv/quick_start.sh
NS
