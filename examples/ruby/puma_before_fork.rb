# frozen_string_literal: true

# Puma cluster mode without preload: each worker loads the app itself, so
# the master starts the agent in before_fork, just before the first fork.
require_relative "zen_example"

workers 4
threads 2, 2
bind "tcp://127.0.0.1:#{ENV.fetch('PORT', '9292')}"

before_fork { ZenExample.start_agent }
on_worker_boot { ZenExample.worker_booted }
