# frozen_string_literal: true

# Puma's fork_worker: worker 0 loads the app and forks workers 1..3 (the
# master's grandchildren). The master starts the agent in before_fork; the
# grandchildren use it as any worker does. (0: no automatic refork.)
require_relative "zen_example"

workers 4
threads 2, 2
fork_worker 0
bind "tcp://127.0.0.1:#{ENV.fetch('PORT', '9292')}"

before_fork { ZenExample.start_agent }
on_worker_boot { ZenExample.worker_booted }
