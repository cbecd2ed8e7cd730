# frozen_string_literal: true

# The zen_agent gem's API, as installed from the built .gem (run by
# zen_agent_gem_test.sh from a scratch directory). Each test starts its own
# agent in this process (the master) and forks real workers; every child is
# reaped, and every wait is bounded.

require "minitest/autorun"
require "socket"
require "timeout"
require "zen_agent"

# A config document limiting GET /limited to `max` requests per minute.
def limited_config(max, updated_at: 1)
  {
    "success" => true, "serviceId" => 1, "configUpdatedAt" => updated_at,
    "heartbeatIntervalInMS" => 600_000,
    "endpoints" => [{
      "method" => "GET", "route" => "/limited", "forceProtectionOff" => false,
      "graphql" => nil, "allowedIPAddresses" => [],
      "rateLimiting" => { "enabled" => true, "maxRequests" => max,
                          "windowSizeInMS" => 60_000 }
    }],
    "blockedUserIds" => [], "allowedIPAddresses" => [],
    "receivedAnyStats" => false
  }
end

class ZenAgentGemTest < Minitest::Test
  def setup
    @children = []
  end

  def teardown
    @children.each do |pid|
      Process.kill(:KILL, pid)
    rescue Errno::ESRCH
      nil
    end
    @children.each do |pid|
      Process.wait(pid)
    rescue Errno::ECHILD
      nil
    end
    ZenAgent.stop
  end

  # Forks a worker that runs the block with the inherited agent and returns
  # the block's value (Marshal over a pipe) to the caller of #join_worker.
  def fork_worker(&block)
    reader, writer = IO.pipe
    pid = fork do
      reader.close
      value = begin
        block.call(ZenAgent.agent)
      rescue Exception => e # rubocop:disable Lint/RescueException
        e
      end
      writer.write(Marshal.dump(value))
      writer.close
      exit!(0)
    end
    writer.close
    @children << pid
    [pid, reader]
  end

  def join_worker(worker, seconds: 30)
    pid, reader = worker
    data = Timeout.timeout(seconds) { reader.read }
    reader.close
    Process.wait(pid)
    @children.delete(pid)
    value = Marshal.load(data)
    raise value if value.is_a?(Exception)

    value
  end

  def test_the_library_is_the_one_inside_the_installed_gem
    gem_dir = Gem.loaded_specs.fetch("zen_agent").full_gem_path
    assert_equal File.join(gem_dir, "lib/zen_agent/libzen_agent.so.1"),
                 ZenAgent::Native::LIBRARY_PATH
    assert_nil ENV["LD_LIBRARY_PATH"]
    assert_equal ZenAgent::VERSION, ZenAgent.library_version
  end

  def test_start_refuses_an_unknown_option_naming_it
    error = assert_raises(ZenAgent::Error) { ZenAgent.start(no_such_option: 1) }
    assert_equal :INVALID_ARGUMENT, error.code
    assert_equal 3, error.status
    assert_includes error.message, "no_such_option"
    assert_nil ZenAgent.agent
  end

  def test_start_twice_is_refused_and_the_first_agent_stays
    agent = ZenAgent.start
    error = assert_raises(ZenAgent::Error) { ZenAgent.start }
    assert_equal :ALREADY_EXISTS, error.code
    assert_same agent, ZenAgent.agent
    assert agent.parent?
  end

  def test_a_bad_config_is_refused_and_the_previous_one_kept
    agent = ZenAgent.start(config: limited_config(10))
    text = agent.config_json
    assert_equal 1, agent.config_generation
    error = assert_raises(ZenAgent::Error) { agent.update_config("{not json") }
    assert_equal :INVALID_ARGUMENT, error.code
    refute_empty error.message
    assert_equal 1, agent.config_generation
    assert_equal text, agent.config_json
    assert_equal limited_config(10), JSON.parse(text)
  end

  def test_config_json_is_nil_before_any_config
    agent = ZenAgent.start
    assert_nil agent.config_json
    assert_equal 0, agent.config_generation
  end

  def test_four_workers_share_one_limit
    agent = ZenAgent.start(config: limited_config(10))
    workers = Array.new(4) do
      fork_worker do |a|
        Array.new(15) do
          a.rate_limit(method: "GET", route: "/limited", ip: "10.0.0.7")
        end
      end
    end
    answers = workers.flat_map { |w| join_worker(w) }
    assert_equal 60, answers.size
    assert_equal 10, answers.count { |r| r[:throttled] == false }
    assert(answers.all? { |r| r[:discriminator] == "10.0.0.7" })
    throttled = answers.find { |r| r[:throttled] }
    assert_operator throttled[:time_remaining], :>, 0
    assert_operator throttled[:time_remaining], :<=, 60
    assert_nil agent.rate_limit(method: "GET", route: "/open", ip: "10.0.0.7")
  end

  def test_an_actor_has_its_own_window
    agent = ZenAgent.start(config: limited_config(1))
    first = agent.rate_limit(method: "GET", route: "/limited", ip: "10.0.0.8",
                             actor_id: "u42")
    assert_equal({ throttled: false, discriminator: "actor:u42",
                   time_remaining: first[:time_remaining] }, first)
    again = agent.rate_limit(method: "GET", route: "/limited", ip: "10.0.0.9",
                             actor_id: "u42")
    assert again[:throttled]
  end

  def test_a_settings_change_reaches_every_worker
    agent = ZenAgent.start(config: limited_config(10))
    go_reader, go_writer = IO.pipe
    ready_reader, ready_writer = IO.pipe
    workers = Array.new(4) do
      fork_worker do |a|
        go_writer.close
        ready_reader.close
        a.poll_settings # connected, with generation 1
        before = a.config_generation
        ready_writer.puts "ready"
        ready_writer.close
        go_reader.read # the master changed the config
        deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 10
        sleep 0.001 while a.config_generation < 2 &&
                          Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
        [before, a.config_generation, a.config_json]
      end
    end
    go_reader.close
    ready_writer.close
    Timeout.timeout(30) { 4.times { ready_reader.gets } }
    agent.update_config(limited_config(20, updated_at: 2))
    go_writer.close
    expected = agent.config_json
    workers.each do |w|
      assert_equal [1, 2, expected], join_worker(w)
    end
  end

  def test_events_from_workers_are_folded_into_the_heartbeat
    agent = ZenAgent.start
    workers = Array.new(4) do |i|
      fork_worker do |a|
        (i + 1).times { a.track({ "type" => "track_request" }) }
        a.flush
        :sent
      end
    end
    workers.each { |w| assert_equal :sent, join_worker(w) }
    heartbeat = JSON.parse(agent.heartbeat)
    assert_equal "heartbeat", heartbeat["type"]
    assert_equal 1 + 2 + 3 + 4, heartbeat.dig("stats", "requests", "total")
    # The period ended: the next one starts empty.
    assert_equal 0, JSON.parse(agent.heartbeat).dig("stats", "requests", "total")
  end

  def test_a_worker_flushes_its_events_when_it_exits
    agent = ZenAgent.start
    pid = fork do
      3.times { ZenAgent.agent.track([{ "type" => "track_request" }]) }
      exit 0 # at_exit stops the worker's agent, which flushes
    end
    @children << pid
    Timeout.timeout(30) { Process.wait(pid) }
    @children.delete(pid)
    assert $?.success?
    heartbeat = JSON.parse(agent.heartbeat(start_new_period: false))
    assert_equal 3, heartbeat.dig("stats", "requests", "total")
  end

  def test_a_bad_event_is_refused
    agent = ZenAgent.start
    error = assert_raises(ZenAgent::Error) { agent.track({ "type" => "no_such_event" }) }
    assert_equal :INVALID_ARGUMENT, error.code
    assert_raises(ZenAgent::Error) { agent.track("[1,") }
  end

  def test_attack_wave_answers_nil_then_the_samples
    agent = ZenAgent.start(attack_wave: { threshold: 3 })
    answers = fork_worker do |a|
      %w[/.env /.git/config /wp-admin].map do |path|
        a.record_attack_wave(ip: "10.0.0.5", method: "GET", path: path)
      end
    end
    first, second, third = join_worker(answers)
    assert_nil first
    assert_nil second
    assert_kind_of Array, third
    assert_includes third, { "method" => "GET", "url" => "/.env" }
    assert_operator agent.stats.dig("server", "calls"), :>=, 3
  end

  def test_bad_arguments_are_clear_errors
    agent = ZenAgent.start(config: limited_config(10))
    error = assert_raises(TypeError) do
      agent.rate_limit(method: "GET", route: "/limited", ip: nil)
    end
    assert_includes error.message, "ip must be a String"
    assert_raises(TypeError) { agent.rate_limit(method: :GET, route: "/", ip: "10.0.0.1") }
    assert_raises(TypeError) { agent.record_attack_wave(ip: "10.0.0.1", method: "GET", path: 1) }
    assert_raises(TypeError) { agent.update_config(nil) }
    error = assert_raises(ZenAgent::Error) do
      agent.rate_limit(method: "GET", route: "/limited", ip: "\xff".b)
    end
    assert_equal :INVALID_ARGUMENT, error.code
    # None of these counted: the limit's ten requests are all still there.
    answers = Array.new(11) { agent.rate_limit(method: "GET", route: "/limited", ip: "10.0.0.1") }
    assert_equal 10, answers.count { |r| !r[:throttled] }
  end

  def test_metrics_are_prometheus_text
    agent = ZenAgent.start
    text = agent.metrics
    assert_match(/^# TYPE zen_agent_server_calls_total counter$/, text)
    assert_equal Encoding::UTF_8, text.encoding
  end

  def test_master_only_calls_fail_in_a_worker
    ZenAgent.start
    code = join_worker(fork_worker do |a|
      a.update_config("{}")
    rescue ZenAgent::Error => e
      e.code
    end)
    assert_equal :FAILED_PRECONDITION, code
  end

  def test_worker_endpoint_is_the_masters_listening_address_and_secret
    agent = ZenAgent.start
    endpoint = agent.worker_endpoint
    assert_equal %i[host port secret], endpoint.keys
    assert_equal "127.0.0.1", endpoint[:host]
    assert_kind_of Integer, endpoint[:port]
    assert_equal Encoding::BINARY, endpoint[:secret].encoding
    assert_equal 32, endpoint[:secret].bytesize
    refute_equal "\0".b * 32, endpoint[:secret]
    # The port is the agent server's: it accepts a connection.
    TCPSocket.new(endpoint[:host], endpoint[:port]).close
    # A worker gets the same three values (its post-fork hook may ask).
    assert_equal endpoint, join_worker(fork_worker(&:worker_endpoint))
  end

  def test_worker_endpoint_is_refused_for_a_unix_socket_agent
    agent = ZenAgent.start(transport: "unix")
    error = assert_raises(ZenAgent::Error) { agent.worker_endpoint }
    assert_equal :FAILED_PRECONDITION, error.code
    assert_includes error.message, "unix"
  end

  def test_calls_after_stop_are_cancelled
    agent = ZenAgent.start
    agent.stop
    agent.stop # idempotent
    error = assert_raises(ZenAgent::Error) do
      agent.rate_limit(method: "GET", route: "/", ip: "10.0.0.1")
    end
    assert_equal :CANCELLED, error.code
  end

  # A master in its own process (so this one can kill it) and its worker.
  # The worker reports over `report` and waits for lines on `commands`.
  def spawn_master_and_worker(options, &worker_body)
    report_reader, report_writer = IO.pipe
    command_reader, command_writer = IO.pipe
    master = fork do
      report_reader.close
      command_writer.close
      agent = ZenAgent.start(config: limited_config(1000), **options)
      worker = fork do
        agent.poll_settings # connected
        report_writer.puts "worker #{Process.pid}"
        report_writer.flush
        worker_body.call(agent, command_reader, report_writer)
        exit!(0)
      end
      command_reader.close
      Process.wait(worker)
      exit!(0)
    end
    report_writer.close
    command_reader.close
    @children << master
    line = Timeout.timeout(30) { report_reader.gets }
    worker = Integer(line.split.last)
    [master, worker, report_reader, command_writer]
  end

  def test_a_worker_whose_master_died_gets_unavailable_at_once
    master, worker, report, _commands = spawn_master_and_worker({}) do |agent, _, out|
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 20
      sleep 0.005 while agent.parent_alive? &&
                        Process.clock_gettime(Process::CLOCK_MONOTONIC) < deadline
      start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
      code = begin
        agent.flush
        :OK
      rescue ZenAgent::Error => e
        e.code
      end
      elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - start
      decided = agent.rate_limit(method: "GET", route: "/limited", ip: "10.0.0.3")
      out.puts "#{code} #{elapsed} #{decided[:throttled]}"
      out.flush
    end
    Process.kill(:KILL, master)
    Process.wait(master)
    @children.delete(master)
    @children << worker # not ours to wait for; teardown kills it if left
    code, elapsed, throttled = Timeout.timeout(30) { report.gets }.split
    assert_equal "UNAVAILABLE", code
    # "At once": no connect attempt, no timeout waited for. Generous bound.
    assert_operator Float(elapsed), :<, 0.5
    # Rate limits are then decided by the worker alone, without error.
    assert_equal "false", throttled
  end

  def test_a_waiting_call_releases_the_gvl
    options = { client: { rate_limit_timeout_ms: 600 } }
    master, _worker, report, commands =
      spawn_master_and_worker(options) do |agent, input, out|
        input.gets # the master is stopped now
        ticks = 0
        ticker = Thread.new { loop { ticks += 1; sleep 0.001 } }
        sleep 0.01 until ticks.positive?
        before = ticks
        start = Process.clock_gettime(Process::CLOCK_MONOTONIC)
        agent.rate_limit(method: "GET", route: "/limited", ip: "10.0.0.4")
        elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - start
        during = ticks - before
        ticker.kill
        out.puts "#{elapsed} #{during}"
        out.flush
      end
    Process.kill(:STOP, master)
    begin
      commands.puts "go"
      commands.flush
      elapsed, during = Timeout.timeout(30) { report.gets }.split
    ensure
      Process.kill(:CONT, master)
    end
    # The call waited for the stopped master's answer...
    assert_operator Float(elapsed), :>=, 0.5
    # ...and another thread of the worker ran meanwhile.
    assert_operator Integer(during), :>=, 10
  end
end
