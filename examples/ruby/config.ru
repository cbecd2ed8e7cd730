# frozen_string_literal: true

# Rack entry point. Under preload (Puma's preload_app!, Unicorn's
# preload_app true) this file runs in the master, which starts the agent
# here; without preload it runs in each worker, which finds the agent the
# master started in its before_fork hook.
require_relative "zen_example"

ZenExample.start_agent unless ZenAgent.agent
# The tests' foreign worker (foreign_worker.rb); not part of the example.
if (agent_cli = ENV["ZEN_EXAMPLE_AGENT_CLI"])
  require_relative "foreign_worker"
  use ZenExample::ForeignWorker, agent_cli
end
run ZenExample::App.new
