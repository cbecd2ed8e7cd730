# frozen_string_literal: true

# The rate-limit decision from Ruby through the zen_agent gem, timed per
# call with the same settings and loop as bench/capi_rate_limit.c (the C
# baseline), so that the difference is the binding's cost. Prints one line
# per case:  <process> <route> p50=<ns> p90=<ns> p99=<ns>
#
#   ruby bench/ruby_rate_limit.rb [calls]     (the gem installed, or -I lib)

require "zen_agent"

CONFIG = {
  "success" => true, "serviceId" => 1, "configUpdatedAt" => 1,
  "heartbeatIntervalInMS" => 600_000,
  "endpoints" => [{
    "method" => "GET", "route" => "/limited", "forceProtectionOff" => false,
    "graphql" => nil, "allowedIPAddresses" => [],
    "rateLimiting" => { "enabled" => true, "maxRequests" => 1_000_000,
                        "windowSizeInMS" => 60_000 }
  }],
  "blockedUserIds" => [], "allowedIPAddresses" => [], "receivedAnyStats" => false
}.freeze

def measure(agent, who, route, calls)
  latencies = Array.new(calls)
  calls.times do |i|
    start = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
    agent.rate_limit(method: "GET", route: route, ip: "1.2.3.4")
    latencies[i] = Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond) - start
  end
  latencies.sort!
  puts "#{who} #{route} p50=#{latencies[calls / 2]} " \
       "p90=#{latencies[calls * 9 / 10]} p99=#{latencies[calls * 99 / 100]}"
  $stdout.flush
end

calls = [Integer(ARGV[0] || 200_000), 100].max
agent = ZenAgent.start(config: CONFIG)
%w[/limited /other].each { |route| measure(agent, "parent", route, calls) }
pid = fork do
  %w[/limited /other].each { |route| measure(agent, "worker", route, calls) }
end
Process.wait(pid)
exit($?.success? ? 0 : 1)
