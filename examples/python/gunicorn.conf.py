"""gunicorn settings and hooks for the example app (docs/python.md).

  cd examples/python && gunicorn -c gunicorn.conf.py app:application

Command-line flags override these (--preload, --worker-class gthread
--threads 4, --max-requests 500, ...). The agent lives in the master:
started before the first fork (by app.py when preloading, else in
when_ready), inherited by every worker, stopped when gunicorn exits.
ZEN_ADMIN_PORT (default 9191) is the master's loopback admin port
(/metrics, /heartbeat, PUT /config).
"""

import os

import zen_agent
import zen_master

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = 4
worker_class = "sync"
preload_app = False


def when_ready(server):
    """Master, listeners bound, before the first worker forks."""
    agent = zen_master.start_agent()
    agent.mark_middleware_installed()
    port = int(os.environ.get("ZEN_ADMIN_PORT", "9191"))
    zen_master.serve_admin(agent, "127.0.0.1", port)
    server.log.info("zen_agent admin on 127.0.0.1:%d", port)


def post_fork(server, worker):
    """Worker, right after fork()."""
    zen_master.close_admin_in_worker()


def post_worker_init(worker):
    """Worker, app loaded: connect to the master now rather than on the
    first request (which would otherwise pay for it)."""
    try:
        zen_agent.agent().poll_settings()
    except zen_agent.Error as e:
        worker.log.warning("zen_agent: %s", e)


def worker_exit(server, worker):
    """Worker, on its way out (max_requests, graceful stop): send its last
    events to the master."""
    agent = zen_agent.agent()
    if agent is not None:
        try:
            agent.stop()
        except zen_agent.Error as e:
            server.log.warning("zen_agent: %s", e)


def on_exit(server):
    """Master, after the workers are gone: stop the agent server."""
    agent = zen_agent.agent()
    if agent is not None:
        agent.stop()
