# frozen_string_literal: true

# Unicorn with preload_app true: config.ru (and so the agent) loads in the
# master before the workers fork. QUIT stops it gracefully.
require_relative "zen_example"

worker_processes 4
listen "127.0.0.1:#{ENV.fetch('PORT', '8080')}"
preload_app true
timeout 30

after_fork { |_server, _worker| ZenExample.worker_booted }
