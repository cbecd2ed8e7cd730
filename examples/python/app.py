"""A small WSGI app behind ZenMiddleware, run by gunicorn.conf.py.

  GET /                 hello
  GET /api/limited      rate-limited: 10 requests a minute per client
  GET /zen/status       this worker's pid and settings generation; with
                        ?wait_for_generation=N it waits (up to 5 s) until
                        the worker has applied generation N and says when
                        it began and when it saw it (CLOCK_MONOTONIC ns),
                        to watch a change arrive
"""

import json
import os
import time
from urllib.parse import parse_qs

import zen_agent
from zen_master import start_agent
from zen_middleware import ZenMiddleware

# With preload_app = True gunicorn imports this module in the master before
# it forks: the agent starts here, and the workers inherit it. Without
# preload, gunicorn.conf.py's when_ready hook started it in the master
# already and this returns the inherited one.
start_agent()


def _json(start_response, value, status="200 OK"):
    data = json.dumps(value).encode("utf-8")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    start_response(status, headers)
    return [data]


def _status(environ, start_response):
    started_at_ns = time.monotonic_ns()
    agent = zen_agent.agent()
    query = parse_qs(environ.get("QUERY_STRING", ""))
    wanted = int(query.get("wait_for_generation", ["0"])[0])
    give_up = time.monotonic() + 5.0
    generation = agent.config_generation
    while generation < wanted and time.monotonic() < give_up:
        time.sleep(0.0002)
        generation = agent.config_generation
    return _json(
        start_response,
        {
            "pid": os.getpid(),
            "generation": generation,
            "started_at_ns": started_at_ns,
            "seen_at_ns": time.monotonic_ns(),
            "config_json": agent.config_json,
        },
    )


def demo_app(environ, start_response):
    path = environ.get("PATH_INFO") or "/"
    if path == "/zen/status":
        return _status(environ, start_response)
    if path in ("/", "/api/limited"):
        return _json(start_response, {"ok": True, "pid": os.getpid()})
    return _json(start_response, {"error": "not found"}, "404 Not Found")


application = ZenMiddleware(demo_app)
