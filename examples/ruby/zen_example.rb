# frozen_string_literal: true

# A Rack app protected by the zen_agent gem, and the few hooks a Puma or
# Unicorn config calls (puma_*.rb, unicorn.rb, config.ru). Environment:
#
#   ZEN_EXAMPLE_STATE_DIR   where the master writes its control port and
#                           each worker the settings it saw (tests read it)
#   ZEN_EXAMPLE_FLUSH_MS  how often workers send their events (10000)
#
# The master also serves a small control endpoint on loopback (its port in
# $ZEN_EXAMPLE_STATE_DIR/control_port): GET /metrics (Prometheus),
# GET /heartbeat[?keep=1], PUT /config (a new config document). A real
# deployment fetches settings from its product API instead.

require "json"
require "socket"
require "zen_agent"

module ZenExample
  # GET /limited is limited to 10 requests per minute per client IP.
  def self.config(updated_at: 1, max_requests: 10)
    {
      "success" => true, "serviceId" => 1, "configUpdatedAt" => updated_at,
      "heartbeatIntervalInMS" => 600_000,
      "endpoints" => [{
        "method" => "GET", "route" => "/limited",
        "forceProtectionOff" => false, "graphql" => nil,
        "allowedIPAddresses" => [],
        "rateLimiting" => { "enabled" => true, "maxRequests" => max_requests,
                            "windowSizeInMS" => 60_000 }
      }],
      "blockedUserIds" => [], "allowedIPAddresses" => [],
      "receivedAnyStats" => false
    }
  end

  def self.state_dir
    ENV["ZEN_EXAMPLE_STATE_DIR"]
  end

  def self.monotonic_ns
    Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
  end

  # In the master, before the workers fork (config.ru under preload, or
  # the server's before_fork hook without it). Idempotent.
  def self.start_agent
    return ZenAgent.agent if ZenAgent.agent

    flush_ms = Integer(ENV.fetch("ZEN_EXAMPLE_FLUSH_MS", "10000"))
    agent = ZenAgent.start(config: config,
                           client: { flush_interval_ms: flush_ms })
    agent.mark_middleware_installed
    ControlServer.new(agent).start if state_dir
    agent
  end

  # In each worker as it boots (Puma's on_worker_boot, Unicorn's
  # after_fork): connect now rather than on the first request, and (for the
  # tests) record when this worker sees each settings change.
  def self.worker_booted
    agent = ZenAgent.agent
    begin
      agent.poll_settings
    rescue ZenAgent::Error => e
      warn "zen_example: worker #{Process.pid}: #{e.message}"
    end
    return unless state_dir

    SettingsWatcher.new(agent, state_dir).start
    # A worker that leaves normally (not killed, not exit!) says so.
    at_exit { File.write(File.join(state_dir, "exited-#{Process.pid}"), "") }
  end

  # The app: every request is counted for the master's heartbeat; GET
  # /limited is rate limited across all workers.
  class App
    def call(env)
      agent = ZenAgent.agent
      agent.track(TRACK_REQUEST)
      ip = client_ip(env)
      route = env["PATH_INFO"]
      limit = agent.rate_limit(method: env["REQUEST_METHOD"], route: route, ip: ip)
      if limit && limit[:throttled]
        agent.track(TRACK_RATE_LIMITED)
        return [429, { "content-type" => "text/plain",
                       "retry-after" => limit[:time_remaining].to_s },
                ["throttled pid=#{Process.pid}\n"]]
      end

      sleep 0.005 if route == "/limited" # a little work, so requests spread
      [200, { "content-type" => "text/plain" }, [body(agent)]]
    end

    private

    TRACK_REQUEST = { "type" => "track_request" }.freeze
    TRACK_RATE_LIMITED = { "type" => "track_rate_limited_request" }.freeze

    # The example trusts X-Forwarded-For (it runs behind a proxy or a test
    # client); without it, the peer's address.
    def client_ip(env)
      forwarded = env["HTTP_X_FORWARDED_FOR"]
      return env["REMOTE_ADDR"] if forwarded.nil? || forwarded.empty?

      forwarded.split(",").first.strip
    end

    def body(agent)
      config = agent.config_json
      updated_at = config && JSON.parse(config)["configUpdatedAt"]
      "ok pid=#{Process.pid} config=#{updated_at}\n"
    end
  end

  # A worker thread that notes, in its own file, when this worker applied
  # each config document: "<configUpdatedAt> <CLOCK_MONOTONIC ns>" lines.
  # Reading the generation is a local read (no round trip), so polling it
  # every millisecond costs little.
  class SettingsWatcher
    def initialize(agent, dir)
      @agent = agent
      @path = File.join(dir, "worker-#{Process.pid}")
    end

    def start
      Thread.new do
        seen = -1
        loop do
          generation = @agent.config_generation
          if generation != seen
            seen = generation
            record
          end
          sleep 0.001
        end
      rescue ZenAgent::Error
        nil # stopped: the worker is exiting
      end
    end

    private

    def record
      now = ZenExample.monotonic_ns
      text = @agent.config_json
      updated_at = text ? JSON.parse(text)["configUpdatedAt"] : 0
      File.open(@path, "a") { |f| f.write("#{updated_at} #{now}\n") }
    end
  end

  # The master's loopback control endpoint (one request per connection).
  class ControlServer
    def initialize(agent)
      @agent = agent
      @server = TCPServer.new("127.0.0.1", 0)
      @master = Process.pid
    end

    def start
      port_file = File.join(ZenExample.state_dir, "control_port")
      File.write("#{port_file}.tmp", @server.addr[1].to_s)
      File.rename("#{port_file}.tmp", port_file)
      Thread.new { serve }
    end

    private

    def serve
      loop do
        client = @server.accept
        # Workers inherit this socket but never run this thread.
        handle(client) if Process.pid == @master
      rescue StandardError => e
        warn "zen_example control: #{e.class}: #{e.message}"
      ensure
        client&.close
      end
    end

    def handle(client)
      request_line = client.gets.to_s
      method, target = request_line.split
      length = 0
      while (line = client.gets) && line != "\r\n"
        name, value = line.split(":", 2)
        length = Integer(value.strip) if name.casecmp?("content-length")
      end
      body = length.positive? ? client.read(length) : ""
      status, text = respond(method, target.to_s, body)
      client.write("HTTP/1.1 #{status}\r\ncontent-type: text/plain; " \
                   "version=0.0.4; charset=utf-8\r\ncontent-length: " \
                   "#{text.bytesize}\r\nconnection: close\r\n\r\n#{text}")
    end

    def respond(method, target, body)
      case [method, target]
      in ["GET", "/metrics"] then ["200 OK", @agent.metrics]
      in ["GET", "/heartbeat"] then ["200 OK", @agent.heartbeat]
      in ["GET", "/heartbeat?keep=1"]
        ["200 OK", @agent.heartbeat(start_new_period: false)]
      in ["PUT", "/config"]
        before = ZenExample.monotonic_ns
        @agent.update_config(body)
        ["200 OK", "#{before}\n"]
      else ["404 Not Found", "not found\n"]
      end
    rescue ZenAgent::Error => e
      ["400 Bad Request", "#{e.code}: #{e.message}\n"]
    end
  end
end
