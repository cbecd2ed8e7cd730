# frozen_string_literal: true

# Rack entry point. Under preload (Puma's preload_app!, Unicorn's
# preload_app true) this file runs in the master, which starts the agent
# here; without preload it runs in each worker, which finds the agent the
# master started in its before_fork hook.
require_relative "zen_example"

ZenExample.start_agent unless ZenAgent.agent
run ZenExample::App.new
