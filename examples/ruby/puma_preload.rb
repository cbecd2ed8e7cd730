# frozen_string_literal: true

# Puma cluster mode with preload_app!: config.ru (and so the agent) loads
# in the master, before the workers fork.
require_relative "zen_example"

workers 4
threads 2, 2
preload_app!
bind "tcp://127.0.0.1:#{ENV.fetch('PORT', '9292')}"

on_worker_boot { ZenExample.worker_booted }
