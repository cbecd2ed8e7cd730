"""The master's side of the example: starting the agent once, and a small
admin HTTP server on loopback that serves the agent's Prometheus metrics
and heartbeat and takes new settings.

In production the master would fetch its settings from the remote API and
call agent.update_config() with each new document; here PUT /config is that
source, so a test (or you, with any HTTP client) can play it.
"""

import json
import logging
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import zen_agent

log = logging.getLogger("zen_agent.master")

# The settings the example starts with (the product API's config document):
# 10 requests per minute per client on /api/limited.
DEFAULT_CONFIG = {
    "configUpdatedAt": 1700000000000,
    "heartbeatIntervalInMS": 600000,
    "block": True,
    "endpoints": [
        {
            "method": "GET",
            "route": "/api/limited",
            "forceProtectionOff": False,
            "allowedIPAddresses": [],
            "rateLimiting": {"enabled": True, "maxRequests": 10, "windowSizeInMS": 60000},
        }
    ],
    "blockedUserIds": [],
    "allowedIPAddresses": [],
    "excludedUserIdsFromRateLimiting": [],
}


def start_agent():
    """The agent of this process tree: started here the first time (in the
    master, before the workers fork), the inherited one afterwards.

    ZEN_CONFIG_FILE names a config document to start with (else
    DEFAULT_CONFIG); ZEN_AGENT_OPTIONS is a JSON object of agent options.
    """
    agent = zen_agent.agent()
    if agent is not None:
        return agent
    config = DEFAULT_CONFIG
    path = os.environ.get("ZEN_CONFIG_FILE")
    if path:
        with open(path, encoding="utf-8") as f:
            config = f.read()
    options = json.loads(os.environ.get("ZEN_AGENT_OPTIONS") or "{}")
    agent = zen_agent.start(config=config, **options)
    log.info("zen_agent %s started in pid %d", zen_agent.version(), os.getpid())
    return agent


_admin = None


def close_admin_in_worker():
    """A forked worker's copy of the admin server's listening socket is of
    no use to it: closing it (gunicorn's post_fork hook) leaves the port to
    the master alone."""
    if _admin is not None:
        _admin.socket.close()


class _AdminHandler(BaseHTTPRequestHandler):
    agent = None  # Set by serve_admin.

    def do_GET(self):
        if self.path == "/metrics":
            self._reply(200, self.agent.metrics(), "text/plain; version=0.0.4; charset=utf-8")
        elif self.path == "/heartbeat":
            self._reply(200, self.agent.heartbeat(), "application/json")
        elif self.path == "/config":
            self._reply(200, self.agent.config_json or "null", "application/json")
        else:
            self._reply(404, "not found\n")

    def do_PUT(self):
        if self.path == "/config":
            update, generation = self.agent.update_config, "config_generation"
        elif self.path == "/firewall_lists":
            update, generation = self.agent.update_firewall_lists, "firewall_lists_generation"
        else:
            return self._reply(404, "not found\n")
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        applied_at_ns = time.monotonic_ns()
        try:
            update(body)
        except zen_agent.Error as e:
            return self._reply(400, json.dumps({"error": e.code.name, "message": e.message}))
        # applied_at_ns lets a caller measure how long the change takes to
        # reach the workers (CLOCK_MONOTONIC is one clock for the machine).
        reply = {"generation": getattr(self.agent, generation), "applied_at_ns": applied_at_ns}
        self._reply(200, json.dumps(reply), "application/json")

    def _reply(self, code, text, content_type="text/plain; charset=utf-8"):
        data = text.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format, *args):
        log.debug("admin: " + format, *args)


def serve_admin(agent, host, port):
    """Serves GET /metrics, /heartbeat, /config and PUT /config,
    /firewall_lists on host:port from a thread of this (the master)
    process. Keep host a loopback address: the endpoint has no
    authentication."""
    handler = type("AdminHandler", (_AdminHandler,), {"agent": agent})
    global _admin
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    _admin = server
    thread = threading.Thread(target=server.serve_forever, name="zen-admin", daemon=True)
    thread.start()
    return server
