# frozen_string_literal: true

# Runs the example app (config.ru) under a real pre-forking server with 4
# workers and checks what the zen_agent gem promises there:
#   * one client IP's 60 requests to a route limited to 10 per window:
#     exactly 10 admitted, answered by several workers;
#   * every request served is one track_request in the master's heartbeat;
#   * a settings change made in the master reaches every worker (the time
#     it took is printed; the bound asserted is generous);
#   * a SIGKILLed worker is replaced and serves with the current settings;
#   * the master serves /metrics;
#   * a foreign worker (agent_cli, speaking only the wire protocol), run
#     by a worker with the endpoint the gem returned, counts in the same
#     limit: its 5 calls and 60 requests through the workers admit exactly
#     10;
#   * the server's own stop signal ends every worker (nothing left over).
#
#   ruby server_test.rb <mode> <app_dir> <state_dir>
#   mode: puma_preload | puma_before_fork | puma_fork_worker | unicorn_preload
#
# Run by server_test.sh, which installs the gem first. Every wait is
# bounded; the server's process group is killed and reaped on any exit.

require "json"
require "net/http"
require "socket"

MODE, APP_DIR, STATE_DIR = ARGV
SERVERS = {
  "puma_preload" => [%w[puma -C puma_preload.rb config.ru], :TERM],
  "puma_before_fork" => [%w[puma -C puma_before_fork.rb config.ru], :TERM],
  "puma_fork_worker" => [%w[puma -C puma_fork_worker.rb config.ru], :TERM],
  "unicorn_preload" => [%w[unicorn -c unicorn.rb config.ru], :QUIT]
}.freeze
COMMAND, STOP_SIGNAL = SERVERS.fetch(MODE)
WORKERS = 4
SETTINGS_BOUND_MS = 1000 # the target is 50 ms; this only catches a failure

$LOAD_PATH.unshift(APP_DIR)
require "zen_example" # the config documents

def log(text)
  $stdout.puts "#{MODE}: #{text}"
  $stdout.flush
end

def fail!(text)
  log "FAIL: #{text}"
  exit 1
end

def check(condition, text)
  fail!(text) unless condition
  log "ok: #{text}"
end

def now
  Process.clock_gettime(Process::CLOCK_MONOTONIC)
end

# Polls the block until it returns a truthy value; fails after `seconds`.
def wait_for(what, seconds: 30, interval: 0.01)
  deadline = now + seconds
  loop do
    value = yield
    return value if value
    fail!("timed out after #{seconds} s waiting for #{what}") if now > deadline

    sleep interval
  end
end

def free_port
  server = TCPServer.new("127.0.0.1", 0)
  server.addr[1]
ensure
  server&.close
end

# A process that still runs (not a zombie awaiting its reaper).
def running?(pid)
  File.read("/proc/#{pid}/stat").split(") ").last.split.first != "Z"
rescue Errno::ENOENT, Errno::ESRCH
  false
end

# ---- The server ------------------------------------------------------

PORT = free_port
$requests_sent = 0

server_env = {
  "PORT" => PORT.to_s,
  "ZEN_EXAMPLE_STATE_DIR" => STATE_DIR,
  "ZEN_EXAMPLE_FLUSH_MS" => "100"
}
server_log = File.join(STATE_DIR, "server.log")
MASTER = Process.spawn(server_env, *COMMAND, chdir: APP_DIR, pgroup: true,
                                             %i[out err] => server_log)
at_exit do
  begin
    Process.kill(:KILL, -MASTER) # the whole process group we started
  rescue Errno::ESRCH
    nil
  end
  begin
    Process.wait(MASTER)
  rescue Errno::ECHILD
    nil
  end
  if $!.is_a?(SystemExit) && !$!.success?
    $stdout.puts "---- server log ----", File.read(server_log)
  end
end

def parent_of(pid)
  Integer(File.read("/proc/#{pid}/stat").split(") ").last.split[1])
end

def worker_files
  Dir[File.join(STATE_DIR, "worker-*")].to_h do |path|
    [Integer(File.basename(path).delete_prefix("worker-")), path]
  end
end

def live_workers
  worker_files.select { |pid, _| running?(pid) }
end

# When each worker saw config `updated_at`, in CLOCK_MONOTONIC ns.
def seen_at(path, updated_at)
  File.readlines(path).each do |line|
    value, ns = line.split
    return Integer(ns) if Integer(value) == updated_at
  end
  nil
end

# ---- HTTP ------------------------------------------------------------

def app_get(path, ip: "192.0.2.1")
  $requests_sent += 1
  Net::HTTP.start("127.0.0.1", PORT, open_timeout: 10, read_timeout: 20) do |http|
    http.get(path, "X-Forwarded-For" => ip)
  end
end

def control_port
  @control_port ||= Integer(File.read(File.join(STATE_DIR, "control_port")))
end

def control(method, path, body = nil)
  Net::HTTP.start("127.0.0.1", control_port, open_timeout: 10, read_timeout: 20) do |http|
    request = method == :put ? Net::HTTP::Put.new(path) : Net::HTTP::Get.new(path)
    request.body = body if body
    response = http.request(request)
    fail!("control #{method} #{path}: #{response.code} #{response.body}") unless response.code == "200"
    response.body
  end
end

def heartbeat_snapshot
  JSON.parse(control(:get, "/heartbeat?keep=1"))
end

def requests_in_heartbeat
  heartbeat_snapshot.dig("stats", "requests", "total")
end

# `count` requests to GET /limited from `ip`, 12 at a time: their
# [code, pid] answers.
def limited_burst(count, ip)
  queue = Queue.new
  count.times { queue << true }
  12.times { queue << nil }
  answers = Queue.new
  Array.new(12) do
    Thread.new do
      while queue.pop
        response = app_get("/limited", ip: ip)
        answers << [response.code, response.body[/pid=(\d+)/, 1]]
      end
    end
  end.each(&:join)
  Array.new(answers.size) { answers.pop }
end

# ---- The checks ------------------------------------------------------

wait_for("the master's control port", seconds: 60) do
  File.exist?(File.join(STATE_DIR, "control_port"))
end
wait_for("#{WORKERS} workers", seconds: 60) { live_workers.size == WORKERS }
wait_for("the app to answer", seconds: 60) do
  app_get("/").code == "200"
rescue SystemCallError, Net::OpenTimeout
  $requests_sent -= 1
  false
end
log "master #{MASTER}, workers #{live_workers.keys.sort.join(' ')}"
grandchildren = live_workers.keys.count { |pid| parent_of(pid) != MASTER }
if MODE == "puma_fork_worker"
  check(grandchildren == WORKERS - 1, "#{grandchildren} workers forked by worker 0")
else
  check(grandchildren.zero?, "every worker forked by the master")
end

# 1. One IP, 60 requests, limit 10 per window: exactly 10 admitted.
answers = limited_burst(60, "203.0.113.7")
admitted = answers.count { |code, _| code == "200" }
throttled = answers.count { |code, _| code == "429" }
pids = answers.map(&:last).uniq
check(admitted == 10 && throttled == 50,
      "60 requests from one IP: #{admitted} admitted, #{throttled} throttled")
check(pids.size >= 2, "answered by #{pids.size} workers (#{pids.sort.join(' ')})")

# 2. N requests served = N track_request events in the master's heartbeat.
sent = $requests_sent
# A request's two events may reach the master in different flushes.
snapshot = wait_for("the heartbeat to count the #{sent} requests so far", seconds: 30) do
  beat = heartbeat_snapshot
  requests = beat["stats"]["requests"]
  beat if requests["total"] >= sent && requests["rateLimited"] >= 50
end
check(snapshot.dig("stats", "requests", "total") == sent,
      "heartbeat counts #{sent} requests")
check(snapshot.dig("stats", "requests", "rateLimited") == 50,
      "heartbeat counts 50 rate-limited requests")
control(:get, "/heartbeat") # ends the period
n = 40
n.times { |i| app_get("/", ip: "198.51.100.#{i}") }
wait_for("the heartbeat to count #{n} new requests", seconds: 30) do
  requests_in_heartbeat >= n
end
check(requests_in_heartbeat == n, "a new period: #{n} requests, #{n} track_request events")

# 3. A settings change in the master reaches every worker.
workers = live_workers
check(workers.size == WORKERS, "#{WORKERS} workers running")
started = Integer(control(:put, "/config", JSON.generate(ZenExample.config(updated_at: 2))))
latencies = workers.map do |pid, path|
  seen = wait_for("worker #{pid} to apply config 2", seconds: 10, interval: 0.002) do
    seen_at(path, 2)
  end
  (seen - started) / 1e6
end
slowest = latencies.max
log "settings change to every worker: #{format('%.2f', slowest)} ms " \
    "(per worker: #{latencies.map { |l| format('%.2f', l) }.join(' ')})"
check(slowest < SETTINGS_BOUND_MS, "every worker applied it within #{SETTINGS_BOUND_MS} ms")

# 4. A SIGKILLed worker is replaced and serves with the current settings.
control(:put, "/config", JSON.generate(ZenExample.config(updated_at: 3)))
live_workers.each do |pid, path|
  wait_for("worker #{pid} to apply config 3", seconds: 10) { seen_at(path, 3) }
end
known = worker_files.keys
victim = live_workers.keys.max # under fork_worker, one of worker 0's children
Process.kill(:KILL, victim)
log "killed worker #{victim}"
replacement = wait_for("a new worker", seconds: 60, interval: 0.05) do
  (live_workers.keys - known).first
end
wait_for("worker #{replacement} to apply config 3", seconds: 10) do
  seen_at(worker_files.fetch(replacement), 3)
end
wait_for("#{WORKERS} workers again", seconds: 30) { live_workers.size == WORKERS }
body = wait_for("worker #{replacement} to answer a request", seconds: 60, interval: 0) do
  response = app_get("/", ip: "198.51.100.200")
  response.body if response.body.include?("pid=#{replacement} ")
end
check(body.include?("config=3"), "replacement #{replacement} serves with config 3: #{body.strip}")

# 5. The master serves /metrics.
metrics = control(:get, "/metrics")
# Rate-limit decisions: questions the master's server answered, plus checks
# the workers counted in the shared zone the master mapped before forking
# (those never cross its server; the limit of 10 fits a zone window).
calls = metrics[/^zen_agent_server_calls_total\{method="calculate_rate_limits"\} (\d+)/, 1]
in_zone = metrics[/^zen_agent_rate_limit_zone_checks_total (\d+)/, 1]
check(calls && in_zone && Integer(calls) + Integer(in_zone) >= 60 && Integer(in_zone) > 0,
      "master /metrics: #{calls} calculate_rate_limits calls, #{in_zone} decided in the shared zone")

# 6. A foreign worker under the gem's master: a worker asks the gem for the
# endpoint and runs agent_cli with it; agent_cli's calls and the workers'
# requests count in one limit of 10.
if ENV["ZEN_EXAMPLE_AGENT_CLI"]
  ip = "203.0.113.9"
  foreign = JSON.parse(app_get("/foreign?calls=5&ip=#{ip}", ip: ip).body)
  answers = foreign.fetch("answers")
  check(live_workers.key?(foreign.fetch("pid")),
        "agent_cli run by worker #{foreign['pid']} with the gem's worker_endpoint")
  check(answers.size == 5 && answers.all? { |a| a.start_with?('{"throttled":false,') } &&
        answers.last.include?('"current_requests":5,'),
        "agent_cli's 5 calculate_rate_limits admitted, counting 1..5: #{answers.last}")
  answers = limited_burst(60, ip)
  admitted = answers.count { |code, _| code == "200" }
  throttled = answers.count { |code, _| code == "429" }
  check(admitted == 5 && throttled == 55,
        "then 60 requests through the workers: #{admitted} admitted, #{throttled} " \
        "throttled (10 overall)")
  last = JSON.parse(app_get("/foreign?calls=1&ip=#{ip}", ip: ip).body).fetch("answers")
  check(last.size == 1 && last.first.start_with?('{"throttled":true,'),
        "agent_cli's next call is throttled: #{last.first}")
end

# 7. The server's own stop signal ends every worker.
everyone = worker_files.keys
Process.kill(STOP_SIGNAL, MASTER)
wait_for("the master to exit on SIG#{STOP_SIGNAL}", seconds: 60, interval: 0.05) do
  Process.wait(MASTER, Process::WNOHANG)
end
log "master exited: #{$?.inspect}"
leftover = wait_for("every worker to be gone", seconds: 10, interval: 0.05) do
  left = everyone.select { |pid| running?(pid) }
  left.empty? ? [] : nil
end
check(leftover.empty?, "no worker left after SIG#{STOP_SIGNAL} (#{everyone.size} workers ran)")
unclean = (everyone - [victim]).reject do |pid|
  File.exist?(File.join(STATE_DIR, "exited-#{pid}"))
end
check(unclean.empty?, "every worker but the killed one left through its normal exit " \
                      "(unclean: #{unclean.join(' ')})")
log "PASSED"
