#!/usr/bin/env bash
# rpc_cli end to end: `serve` in the background, `call` against it, the
# secret on stdin only.
set -euo pipefail
CLI=tools/rpc_cli/rpc_cli
SECRET=$(printf '5a%.0s' $(seq 32))
WRONG=$(printf '11%.0s' $(seq 32))
tmp=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT

mkfifo "$tmp/in"
"$CLI" serve < "$tmp/in" > "$tmp/out" &
SERVER=$!
exec 3> "$tmp/in"
echo "$SECRET" >&3
for _ in $(seq 100); do grep -q '^PORT ' "$tmp/out" && break; sleep 0.05; done
PORT=$(awk '/^PORT /{print $2}' "$tmp/out")
[ -n "$PORT" ] || { echo "no PORT line"; exit 1; }

call() { echo "$SECRET" | "$CLI" call "$PORT" "$@"; }
expect() { local want=$1; shift; local got; got=$(call "$@"); [ "$got" = "$want" ] || { echo "call $*: want $want got $got"; exit 1; }; }

expect '{"a":1}' echo '{"a":1}'
expect '"hi"' echo --args '["hi"]'
expect '5' add '{"a":2,"b":3}'
expect '6' add --args '[1,2,3]'
expect 'null' ping
expect 'null' noop
expect '"first"' repeat
expect '"safe result"' risky
expect '"ok"' early
expect '"xxxx"' big '{"n":4}'
expect '"done"' slow '{"seconds":0.05}'
if out=$(call fail 2>&1); then echo "fail succeeded: $out"; exit 1; fi
echo "$out" | grep -q 'boom' || { echo "fail said: $out"; exit 1; }
if out=$(call slow '{"seconds":2}' --timeout 0.2 2>&1); then echo "timeout ignored"; exit 1; fi
echo "$out" | grep -q 'DEADLINE_EXCEEDED' || { echo "timeout said: $out"; exit 1; }
if out=$(echo "$WRONG" | "$CLI" call "$PORT" ping 2>&1); then echo "wrong secret accepted"; exit 1; fi
if out=$(echo "nothex" | "$CLI" call "$PORT" ping 2>&1); then echo "bad secret accepted"; exit 1; fi

# End of stdin stops the server cleanly with exit 0.
exec 3>&-
wait "$SERVER"

# The same over the Unix-domain transport: serve --unix prints UNIX <path>,
# call unix:<path> reaches it, and the socket's private directory is gone
# once the server has stopped.
mkfifo "$tmp/in2"
"$CLI" serve --unix < "$tmp/in2" > "$tmp/out2" &
SERVER=$!
exec 4> "$tmp/in2"
echo "$SECRET" >&4
for _ in $(seq 100); do grep -q '^UNIX ' "$tmp/out2" && break; sleep 0.05; done
SOCK=$(awk '/^UNIX /{print $2}' "$tmp/out2")
[ -S "$SOCK" ] || { echo "no UNIX line or no socket: '$SOCK'"; exit 1; }
[ "$(stat -c %a "$(dirname "$SOCK")")" = 700 ] || { echo "directory not 0700"; exit 1; }
got=$(echo "$SECRET" | "$CLI" call "unix:$SOCK" echo '{"a":1}')
[ "$got" = '{"a":1}' ] || { echo "unix echo: got $got"; exit 1; }
if echo "$WRONG" | "$CLI" call "unix:$SOCK" ping 2>/dev/null; then echo "wrong secret accepted over unix"; exit 1; fi
if echo "$SECRET" | "$CLI" call "nonsense" ping 2>/dev/null; then echo "bad target accepted"; exit 1; fi
exec 4>&-
wait "$SERVER"
[ ! -e "$SOCK" ] && [ ! -e "$(dirname "$SOCK")" ] || { echo "socket left behind"; exit 1; }
echo "rpc_cli ok"
