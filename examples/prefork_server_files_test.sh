#!/usr/bin/env bash
# prefork_server in its normal mode: settings from files that it re-reads
# when they change, limits and blocks enforced through the agent, and a
# clean stop on SIGTERM.
set -uo pipefail

server="$1"

# ThreadSanitizer's runtime does not support threads in children forked from
# a multi-threaded parent ("dup thread with used id", exit 66), which is
# exactly what a pre-fork server is; the library's code paths are covered by
# the single-process TSan tests in agent/. The default and ASan suites run
# this test.
if grep -qa __tsan_init "$server"; then
  echo "SKIP: built with ThreadSanitizer"
  exit 0
fi
dir="${TEST_TMPDIR:-/tmp}/files_test.$$"
mkdir -p "$dir"
out="$dir/server.out"
config="$dir/config.json"
lists="$dir/lists.json"

fail() {
  echo "FAIL: $*" >&2
  echo "--- server output:" >&2
  cat "$out" >&2
  [ -n "${server_pid:-}" ] && kill -KILL "$server_pid" 2>/dev/null
  exit 1
}

cat >"$config" <<'JSON'
{"configUpdatedAt": 1, "endpoints": [{"method": "GET", "route": "/api/limited",
 "rateLimiting": {"enabled": true, "maxRequests": 2, "windowSizeInMS": 60000}}]}
JSON
cat >"$lists" <<'JSON'
{"blockedIPAddresses": []}
JSON

# One GET with X-Forwarded-For over bash's /dev/tcp; prints the status code
# and remembers the answering worker in $dir/workers.
get() {
  local path="$1" ip="$2" response
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: %s\r\nConnection: close\r\n\r\n' \
    "$path" "$ip" >&3
  response=$(timeout 5 cat <&3)
  exec 3<&-
  printf '%s\n' "$response" | tr -d '\r' | awk 'tolower($1) == "x-worker-pid:" {print $2}' >>"$dir/workers"
  printf '%s\n' "$response" | head -1 | awk '{print $2}'
}

# No rate-limit zone (--rate-limit-zone-bytes=0): the three rate-limit
# questions below must cross the socket, so that /metrics counts them on
# both sides. The self-test covers workers deciding in the zone.
"$server" --port=0 --workers=2 --config="$config" --firewall-lists="$lists" \
  --rate-limit-zone-bytes=0 \
  --agent-polling-interval=100ms --agent-polling-jitter=0 \
  --agent-flush-interval=100ms --settings-check-interval=100ms \
  --stats-interval=500ms --metrics-port=0 >"$out" 2>&1 &
server_pid=$!

port=""
for _ in $(seq 100); do
  port=$(sed -n 's|^prefork_server: [^,]*, http://127.0.0.1:\([0-9]*\)/,.*|\1|p' "$out")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || fail "no listening banner"
metrics_port=$(sed -n 's|.*metrics on http://127.0.0.1:\([0-9]*\)/metrics$|\1|p' "$out")
[ -n "$metrics_port" ] || fail "no metrics endpoint in the banner"

# The limit from the file: 2 per window for one client, across workers.
codes="$(get /api/limited 203.0.113.5) $(get /api/limited 203.0.113.5) $(get /api/limited 203.0.113.5)"
[ "$codes" = "200 200 429" ] || fail "limit of 2: got $codes"

# GET /metrics on the parent: its server's count of those three rate-limit
# questions at once, the workers' own count after their next flush (100 ms).
# Plain HTTP over bash's /dev/tcp, as get() above: the test needs no client
# program that a fresh machine lacks.
metrics_response() {
  exec 4<>"/dev/tcp/127.0.0.1/$metrics_port" || return 1
  printf 'GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&4
  timeout 5 cat <&4 | tr -d '\r'
  exec 4<&-
}
scrape() {  # The body: what follows the first empty line.
  metrics_response | sed '1,/^$/d'
}
# Whole responses into variables before matching: with pipefail, a grep -q
# or sed q that stops reading early would fail the pipeline by SIGPIPE.
response=$(metrics_response)
sed '/^$/q' <<<"$response" | grep -i '^content-type:' | grep 'version=0.0.4' >/dev/null ||
  fail "/metrics not served as text format 0.0.4"
scraped=0
for _ in $(seq 50); do
  body=$(scrape)
  if grep -x 'zen_agent_server_calls_total{method="calculate_rate_limits"} 3' <<<"$body" >/dev/null &&
     grep -x 'zen_agent_worker_calls_total{method="calculate_rate_limits"} 3' <<<"$body" >/dev/null; then
    scraped=1
    break
  fi
  sleep 0.1
done
[ "$scraped" = 1 ] || { scrape >&2; fail "/metrics does not count 3 rate-limit calls"; }

# A new firewall lists file, renamed into place, blocks an address.
[ "$(get /api/hello 203.0.113.9)" = "200" ] || fail "203.0.113.9 refused before the change"
cat >"$lists.new" <<'JSON'
{"blockedIPAddresses": [{"key": "test", "source": "test", "description": "",
  "ips": ["203.0.113.9"]}]}
JSON
mv "$lists.new" "$lists"
blocked=0
for _ in $(seq 50); do
  # Two workers: both must have the new lists.
  if [ "$(get /api/hello 203.0.113.9)" = "403" ] &&
     [ "$(get /api/hello 203.0.113.9)" = "403" ] &&
     [ "$(get /api/hello 203.0.113.9)" = "403" ]; then
    blocked=1
    break
  fi
  sleep 0.1
done
[ "$blocked" = 1 ] || fail "203.0.113.9 not refused after the lists changed"

# A malformed document is refused and the previous one stays.
echo '{"blockedIPAddresses": [' >"$lists.new"
mv "$lists.new" "$lists"
sleep 0.5
[ "$(get /api/hello 203.0.113.9)" = "403" ] || fail "a malformed file replaced the lists"
grep -q "settings not updated" "$out" || fail "the malformed file was not reported"

# SIGTERM: workers stop, the parent prints its last statistics and exits 0.
sleep 0.6  # At least one statistics line.
kill -TERM "$server_pid"
wait "$server_pid"
status=$?
server_pid=""
[ "$status" = 0 ] || fail "exit status $status after SIGTERM"
grep -q '^stats: ' "$out" || fail "no statistics line"
grep -q '^prefork_server: stopped$' "$out" || fail "no clean stop"
for pid in $(sort -u "$dir/workers"); do
  kill -0 "$pid" 2>/dev/null && fail "worker $pid still running"
done
cat "$out"
echo "PASS"
