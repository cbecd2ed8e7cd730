#!/usr/bin/env bash
# agent_cli end to end, through real processes: `serve` (the real
# AgentServer, loaded from config and firewall-lists files) in the
# background, `call` of every WorkerAgent method through the generated Stub,
# `describe`; the secret on stdin only. Every client command is bounded by
# `timeout`, every wait for a server by a loop, and the EXIT trap always
# kills and reaps the servers.
set -euo pipefail
CLI=tools/agent_cli/agent_cli
SECRET=$(printf '5a%.0s' $(seq 32))
WRONG=$(printf '11%.0s' $(seq 32))
tmp=$(mktemp -d)
SERVERS=()
cleanup() {
  for pid in "${SERVERS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in "${SERVERS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Waits (at most 5 s) for server $1 to exit; its status in $STATUS.
wait_exit() {
  local pid=$1
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -0 "$pid" 2>/dev/null && fail "server $pid still running"
  STATUS=0
  wait "$pid" || STATUS=$?
}

# The reference's runtime config: one route rate-limited to 3 per minute.
MAX_REQUESTS=3
cat > "$tmp/config.json" <<JSON
{"success":true,"serviceId":1,"configUpdatedAt":1700000000000,
 "heartbeatIntervalInMS":600000,"block":false,"blockedUserIds":[],
 "allowedIPAddresses":[],
 "endpoints":[{"method":"GET","route":"/limited","forceProtectionOff":false,
   "allowedIPAddresses":[],"graphql":null,
   "rateLimiting":{"enabled":true,"maxRequests":$MAX_REQUESTS,
     "windowSizeInMS":60000}}]}
JSON
echo '{"blockedIPAddresses":[]}' > "$tmp/firewall.json"

# serve: PORT line, then serve until stdin closes.
mkfifo "$tmp/in"
"$CLI" serve --config="$tmp/config.json" \
  --firewall-lists="$tmp/firewall.json" < "$tmp/in" > "$tmp/out" 2> "$tmp/err" &
SERVER=$!
SERVERS+=("$SERVER")
exec 3> "$tmp/in"
echo "$SECRET" >&3
for _ in $(seq 100); do grep -q '^PORT ' "$tmp/out" && break; sleep 0.05; done
PORT=$(awk '/^PORT /{print $2}' "$tmp/out")
[ -n "$PORT" ] || { cat "$tmp/err"; fail "no PORT line"; }

call() { echo "$SECRET" | timeout 10 "$CLI" call "$PORT" "$@"; }
expect() {
  local want=$1; shift
  local got
  got=$(call "$@") || fail "call $*: exit $? ($got)"
  [ "$got" = "$want" ] || fail "call $*: want $want got $got"
}
# A call that must fail with `ERROR <code> ...` and a non-zero exit.
expect_error() {
  local code=$1; shift
  local got
  if got=$(call "$@"); then fail "call $* succeeded: $got"; fi
  [[ "$got" == "ERROR $code "* ]] || fail "call $*: want ERROR $code, got $got"
}

expect 'null' ping
expect 'null' ping '[]'

# Settings: everything when the child has nothing, `{}` when up to date.
got=$(call updated_settings '[null,null]')
[[ "$got" == '{"config":{"success":true,'*'"windowSizeInMS":60000}}]},"config_generation":1,"firewall_lists":{"blockedIPAddresses":[]},"firewall_lists_generation":1}' ]] ||
  fail "updated_settings [null,null]: $got"
expect '{}' updated_settings '[1,1]'
expect '{"firewall_lists":{"blockedIPAddresses":[]},"firewall_lists_generation":1}' \
  updated_settings '[1,0]'
expect '{}' updated_settings '{"known_config_generation":1,"known_firewall_lists_generation":1}'

# Rate limits: MAX_REQUESTS pass, the next is throttled; no limit elsewhere.
LIMITED='[{"method":"GET","path":"/limited"},"203.0.113.7",null]'
for i in $(seq "$MAX_REQUESTS"); do
  got=$(call calculate_rate_limits "$LIMITED")
  [[ "$got" == '{"throttled":false,"discriminator":"203.0.113.7","current_requests":'"$i"',"max_requests":3,'* ]] ||
    fail "calculate_rate_limits #$i: $got"
done
got=$(call calculate_rate_limits "$LIMITED")
[[ "$got" == '{"throttled":true,'* ]] || fail "not throttled after $MAX_REQUESTS: $got"
expect 'null' calculate_rate_limits '[{"method":"GET","path":"/free"},"203.0.113.7",null]'
# With an actor, limits count per user.
got=$(call calculate_rate_limits '[{"method":"GET","path":"/limited"},"203.0.113.7",{"id":"u1","name":"Ann","firstSeenAt":1700000000000,"lastSeenAt":1700000000000}]')
[[ "$got" == '{"throttled":false,"discriminator":"actor:u1","current_requests":1,'* ]] ||
  fail "calculate_rate_limits with actor: $got"

# Attack waves: null until the 15th request, then the distinct samples
# (unwrapped), oldest first.
for i in $(seq 14); do
  expect 'null' record_attack_wave "[\"198.51.100.9\",\"GET\",\"/probe$((i % 2))\"]"
done
expect '[{"method":"GET","url":"/probe1"},{"method":"GET","url":"/probe0"},{"method":"POST","url":"/.env"}]' \
  record_attack_wave '["198.51.100.9","POST","/.env"]'
# Flagged: the next one is null again.
expect 'null' record_attack_wave '["198.51.100.9","GET","/x"]'

expect 'null' send_collector_events '[[{"type":"track_request"},{"type":"track_scan","sink_name":"mysql2","sink_kind":"sql_op","duration":0.002,"has_errors":false},{"type":"track_user","actor":{"id":"u1","firstSeenAt":1700000000000,"lastSeenAt":1700000001000}}]]'

# Errors: unknown method, malformed or ill-fitting ARGS_JSON, wrong secret.
expect_error UNIMPLEMENTED no_such_method
expect_error INVALID_ARGUMENT calculate_rate_limits '[{"method":"GET"'
expect_error INVALID_ARGUMENT calculate_rate_limits '"not an array"'
expect_error INVALID_ARGUMENT calculate_rate_limits '["not a route"]'
expect_error INVALID_ARGUMENT ping '[1] trailing'
if got=$(echo "$WRONG" | timeout 10 "$CLI" call "$PORT" ping); then
  fail "wrong secret accepted: $got"
fi
[[ "$got" == "ERROR "* ]] || fail "wrong secret: $got"
# The server survived all of it.
expect 'null' ping

# describe: every method, with its arguments and fields' JSON keys.
timeout 10 "$CLI" describe > "$tmp/describe"
for m in ping updated_settings send_collector_events calculate_rate_limits \
  record_attack_wave report_metrics; do
  grep -q "^  $m: " "$tmp/describe" || fail "describe lacks $m"
done
grep -q 'args: positional \[route, client_ip, actor\] or kwargs' "$tmp/describe" ||
  fail "describe lacks calculate_rate_limits' args"
grep -q '^message zen.agent.Actor$' "$tmp/describe" || fail "describe lacks Actor"

# End of stdin stops the server cleanly with exit 0.
exec 3>&-
wait_exit "$SERVER"
[ "$STATUS" = 0 ] || { cat "$tmp/err"; fail "serve exited $STATUS"; }
# Its last line: the heartbeat the reference's parent would send, with the
# events folded.
STATS=$(sed -n 's/^STATS //p' "$tmp/out")
[ -n "$STATS" ] || fail "no STATS line"
python3 - "$STATS" <<'PY' || fail "STATS: $STATS"
import json, sys
doc = json.loads(sys.argv[1])
assert doc["type"] == "heartbeat", doc
stats = doc["stats"]
assert stats["requests"]["total"] == 1, stats
ops = stats["operations"]
assert ops["mysql2"]["kind"] == "sql_op" and ops["mysql2"]["total"] == 1, ops
assert [u["id"] for u in doc["users"]] == ["u1"], doc["users"]
PY

# SIGTERM stops it cleanly too.
mkfifo "$tmp/in2"
"$CLI" serve < "$tmp/in2" > "$tmp/out2" &
SERVER2=$!
SERVERS+=("$SERVER2")
exec 4> "$tmp/in2"
echo "$SECRET" >&4
for _ in $(seq 100); do grep -q '^PORT ' "$tmp/out2" && break; sleep 0.05; done
grep -q '^PORT ' "$tmp/out2" || fail "no PORT line from the second server"
kill -TERM "$SERVER2"
wait_exit "$SERVER2"
exec 4>&-
[ "$STATUS" = 0 ] || fail "serve exited $STATUS on SIGTERM"

# --unix: UNIX <path>, and call unix:<path> reaches the same methods.
mkfifo "$tmp/in5"
"$CLI" serve --unix < "$tmp/in5" > "$tmp/out5" &
SERVER5=$!
SERVERS+=("$SERVER5")
exec 5> "$tmp/in5"
echo "$SECRET" >&5
for _ in $(seq 100); do grep -q '^UNIX ' "$tmp/out5" && break; sleep 0.05; done
SOCK=$(awk '/^UNIX /{print $2}' "$tmp/out5")
[ -S "$SOCK" ] || fail "no UNIX line or no socket: '$SOCK'"
got=$(echo "$SECRET" | timeout 10 "$CLI" call "unix:$SOCK" ping) || fail "unix ping: $got"
[ "$got" = null ] || fail "unix ping: $got"
exec 5>&-
wait_exit "$SERVER5"
[ "$STATUS" = 0 ] || fail "serve --unix exited $STATUS"
[ ! -e "$SOCK" ] || fail "socket left behind"

# An invalid config file: a clear error and a non-zero exit.
echo '{"endpoints": [' > "$tmp/bad.json"
if echo "$SECRET" | timeout 10 "$CLI" serve --config="$tmp/bad.json" \
  > /dev/null 2> "$tmp/err3"; then
  fail "serve accepted an invalid config"
fi
grep -q -- "--config=$tmp/bad.json" "$tmp/err3" || fail "error was: $(cat "$tmp/err3")"

echo "agent_cli ok"
