"""ZenMiddleware: the per-request part of zen_agent for any WSGI app.

Wrap the app once (Flask: ``app.wsgi_app = ZenMiddleware(app.wsgi_app)``,
Django: ``application = ZenMiddleware(get_wsgi_application())``). In every
request it asks the agent shared by all gunicorn workers whether this
client is over the route's rate limit (answering 429 with Retry-After if
so) and counts the request for the master's statistics.
"""

import logging
import time

import zen_agent

log = logging.getLogger("zen_agent.middleware")

TRACK_REQUEST = [{"type": "track_request"}]
TRACK_RATE_LIMITED = [{"type": "track_request"}, {"type": "track_rate_limited_request"}]


def client_ip(environ):
    """The client's address. Only trust X-Forwarded-For behind a proxy you
    run (one that overwrites it); this example's tests send it to play many
    clients from one machine."""
    forwarded = environ.get("HTTP_X_FORWARDED_FOR")
    if forwarded:
        return forwarded.split(",")[0].strip()
    return environ.get("REMOTE_ADDR", "")


def path_route(environ):
    """The route to rate-limit by. A framework knows its route template
    ("/users/<id>"); pass a function that returns it instead of the path."""
    return environ.get("PATH_INFO") or "/"


class ZenMiddleware:
    def __init__(self, app, route_of=path_route, ip_of=client_ip):
        self.app = app
        self.route_of = route_of
        self.ip_of = ip_of
        self._last_warning = 0.0

    def __call__(self, environ, start_response):
        agent = zen_agent.agent()
        if agent is None:  # No agent started: serve unprotected.
            return self.app(environ, start_response)
        try:
            answer = agent.rate_limit(
                method=environ.get("REQUEST_METHOD", "GET"),
                route=self.route_of(environ),
                ip=self.ip_of(environ),
            )
        except zen_agent.Error as e:
            # The master is unreachable (or gone): serve unprotected rather
            # than fail the site, and say so at most once a minute.
            self._warn(e)
            answer = None
        if answer is not None and answer["throttled"]:
            self._track(agent, TRACK_RATE_LIMITED)
            start_response(
                "429 Too Many Requests",
                [
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Retry-After", str(answer["time_remaining"])),
                ],
            )
            return [b"Too many requests\n"]
        self._track(agent, TRACK_REQUEST)
        return self.app(environ, start_response)

    def _track(self, agent, events):
        try:
            agent.track(events)
        except zen_agent.Error as e:
            self._warn(e)

    def _warn(self, error):
        now = time.monotonic()
        if now - self._last_warning >= 60.0:
            self._last_warning = now
            log.warning("zen_agent: %s", error)
