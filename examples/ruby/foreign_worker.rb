# frozen_string_literal: true

# For the tests only (config.ru mounts it when ZEN_EXAMPLE_AGENT_CLI names
# the agent_cli binary): GET /foreign?calls=N&ip=IP makes the worker that
# serves it act as a host of a foreign worker. It asks the gem for the
# endpoint (agent.worker_endpoint) and runs agent_cli, a program that
# speaks only the agent's wire protocol and shares nothing with the gem,
# N times: `agent_cli call PORT calculate_rate_limits ...` for GET /limited
# from IP. The answer is JSON: this worker's pid and agent_cli's outputs.
#
# agent_cli reads the secret as hex on its stdin, from this process's
# memory through a pipe: never an argument, the environment or a file.

require "json"
require "open3"
require "uri"

module ZenExample
  class ForeignWorker
    def initialize(app, agent_cli)
      @app = app
      @agent_cli = agent_cli
    end

    def call(env)
      return @app.call(env) unless env["PATH_INFO"] == "/foreign"

      query = URI.decode_www_form(env["QUERY_STRING"].to_s).to_h
      calls = Integer(query.fetch("calls", "1"))
      ip = query.fetch("ip")
      endpoint = ZenAgent.agent.worker_endpoint
      # agent_cli connects to 127.0.0.1, the agent's default host.
      unless endpoint[:host] == "127.0.0.1"
        return reply(500, error: "agent listens on #{endpoint[:host]}")
      end

      answers = Array.new(calls) { call_agent_cli(endpoint, ip) }
      reply(200, pid: Process.pid, answers: answers)
    end

    private

    def call_agent_cli(endpoint, ip)
      request = JSON.generate([{ "method" => "GET", "path" => "/limited" }, ip, nil])
      output, status = Open3.capture2(
        @agent_cli, "call", endpoint[:port].to_s, "calculate_rate_limits",
        request, "--timeout=10",
        stdin_data: "#{endpoint[:secret].unpack1('H*')}\n"
      )
      status.success? ? output.strip : "FAILED #{status.exitstatus}: #{output.strip}"
    end

    def reply(code, **body)
      [code, { "content-type" => "application/json" }, [JSON.generate(body)]]
    end
  end
end
