#!/usr/bin/python3
"""The example app under Debian's real gunicorn, 4 workers, with the
zen_agent package as built (copied outside the repository first).

  gunicorn_test.py --mode=preload|hook|gthread|max_requests PACKAGE_DIR EXAMPLE_DIR

preload: sync workers, preload_app (the app module starts the agent in the
master). hook: sync workers without preload (gunicorn.conf.py's when_ready
starts it). gthread: 4 workers of 4 threads calling at once. max_requests:
sync workers recycled every 40 requests.

In each: one client's 60 requests to a route limited to 10 per window admit
exactly 10 across the workers; a settings change made in the master reaches
every worker (the time is printed); every request served is one
track_request in the master's heartbeat; a SIGKILLed worker is replaced and
serves the current settings; the master's /metrics; a graceful stop leaves
no process, socket or file behind.
"""

import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import gunicorn_harness as h

MODES = {
    "preload": (["--preload"], {"transport": "tcp"}),
    "hook": ([], {"transport": "unix"}),
    "gthread": (["--worker-class", "gthread", "--threads", "4"], {"transport": "unix"}),
    "max_requests": (["--max-requests", "40", "--max-requests-jitter", "0"], {"transport": "unix"}),
}


class Traffic:
    """Requests from many clients (X-Forwarded-For), many at once."""

    def __init__(self, server):
        self.server = server

    def get(self, path, ip="198.51.100.1"):
        return self.server.get(path, headers={"X-Forwarded-For": ip})

    def many(self, paths_and_ips, threads=8):
        with ThreadPoolExecutor(threads) as pool:
            return list(pool.map(lambda pi: self.get(*pi), paths_and_ips))


def config_with_limit(limit, marker):
    return json.dumps(
        {
            "configUpdatedAt": 1700000000000 + marker,
            "endpoints": [
                {
                    "method": "GET",
                    "route": "/api/limited",
                    "forceProtectionOff": False,
                    "allowedIPAddresses": [],
                    "rateLimiting": {
                        "enabled": True,
                        "maxRequests": limit,
                        "windowSizeInMS": 600000,
                    },
                }
            ],
        }
    )


def check_rate_limit(traffic, ip):
    results = traffic.many([("/api/limited", ip)] * 60, threads=8)
    statuses = [status for status, _ in results]
    admitted = statuses.count(200)
    h.check(statuses.count(429) + admitted == 60, f"unexpected statuses {set(statuses)}")
    h.check(admitted == 10, f"{admitted} of 60 admitted under a limit of 10, want 10")
    pids = {json.loads(body)["pid"] for status, body in results if status == 200}
    print(f"rate limit: 10 of 60 admitted, by {len(pids)} worker(s)")


def check_propagation(server, traffic, generation, waiters):
    """Changes the settings in the master while requests wait in the
    workers for the new generation; returns the slowest worker's delay (ms).
    Only waiters that started before the change measure it; rounds repeat
    (each a new change) until such waiters covered every worker."""
    for round_number in range(8):
        generation += 1
        workers = h.wait_for(lambda: len(server.workers()) == 4 and server.workers(), "4 workers")
        path = f"/zen/status?wait_for_generation={generation}"
        with ThreadPoolExecutor(waiters) as pool:
            futures = [pool.submit(traffic.get, path) for _ in range(waiters)]
            # Let the waiters reach the workers (they wait 5 s at most).
            time.sleep(min(0.3 * 2**round_number, 2.0))
            reply = json.loads(server.admin("/config", "PUT", config_with_limit(10, generation)))
            h.check(reply["generation"] == generation, f"master at {reply}, want {generation}")
            answers = [json.loads(f.result()[1]) for f in futures]
        h.check(all(a["generation"] == generation for a in answers), f"stale worker: {answers}")
        applied = reply["applied_at_ns"]
        # Only a request that was already waiting when the change was made
        # measures how long the change took to arrive.
        delays = {}
        for a in answers:
            if a["started_at_ns"] < applied:
                delay_ms = (a["seen_at_ns"] - applied) / 1e6
                delays[a["pid"]] = max(delays.get(a["pid"], 0.0), delay_ms)
        if set(delays) >= workers:
            slowest = max(delays[pid] for pid in workers)
            print(f"settings change reached all {len(workers)} workers in {slowest:.2f} ms")
            h.check(slowest < 2000, f"a settings change took {slowest:.0f} ms to reach a worker")
            return generation
    raise h.Failure("no round had a waiter in every worker")


def check_heartbeat(server):
    def counted():
        stats = server.heartbeat()["stats"]["requests"]
        served = server.served
        h.check(stats["total"] <= served, f"{stats['total']} events > {served} served")
        return stats["total"] == server.served and stats

    stats = h.wait_for(counted, f"{server.served} track_request events in the heartbeat")
    throttled = server.throttled
    h.check(stats["rateLimited"] == throttled, f"rateLimited {stats}, sent {throttled}")
    print(f"heartbeat: {server.served} requests served = {stats['total']} events")


def metric(text, name, method):
    found = re.search(rf'^{name}{{method="{method}"}} (\d+)$', text, re.M)
    h.check(found is not None, f"{name}{{method={method}}} missing from /metrics")
    return int(found.group(1))


def check_metrics(server, at_least, previous=None):
    """Rate-limit decisions the master's /metrics accounts for: questions
    its server answered, plus checks the workers counted in the shared zone
    it mapped before forking (those never cross its server). Each limit here
    (10) fits a zone window, so once traffic ran the zone must have some."""
    text = server.admin("/metrics")
    asked = metric(text, "zen_agent_server_calls_total", "calculate_rate_limits")
    found = re.search(r"^zen_agent_rate_limit_zone_checks_total (\d+)$", text, re.M)
    h.check(found is not None, "zen_agent_rate_limit_zone_checks_total missing from /metrics")
    in_zone = int(found.group(1))
    calls = asked + in_zone
    h.check(calls >= at_least, f"/metrics: {asked} asked + {in_zone} in the zone, want >= {at_least}")
    h.check(at_least == 0 or in_zone > 0, f"/metrics: no decision in the shared zone ({asked} asked)")
    h.check(previous is None or calls >= previous, f"/metrics went back: {previous} -> {calls}")
    return calls


def check_sigkill(server, traffic, generation):
    before = server.workers()
    victim = min(before)
    os.kill(victim, signal.SIGKILL)

    def replaced():
        pids = server.workers()
        return len(pids) == 4 and victim not in pids and pids

    newcomers = h.wait_for(replaced, "gunicorn to replace the killed worker") - before
    expected = server.admin("/config")

    def served_by_newcomer():
        _, body = traffic.get("/zen/status")
        answer = json.loads(body)
        return answer if answer["pid"] in newcomers else None

    answer = h.wait_for(served_by_newcomer, "a request served by the new worker", interval=0)
    h.check(answer["generation"] == generation, f"new worker at generation {answer['generation']}")
    h.check(answer["config_json"] == expected, "new worker's config differs from the master's")
    print(f"worker {victim} SIGKILLed; {answer['pid']} serves generation {generation}")


def run_mode(mode, package_dir, example_dir):
    flags, options = MODES[mode]
    root = tempfile.mkdtemp(prefix="zen-gunicorn-", dir=os.environ.get("TEST_TMPDIR"))
    site, app = h.install(package_dir, example_dir, root)
    if h.sanitized(os.path.join(site, "zen_agent", "libzen_agent.so.1")):
        print("SKIP: the library is built with a sanitizer runtime python3 cannot load")
        return
    # What the server may leave behind goes here. Short, under /tmp: a Unix
    # socket's path has at most 107 bytes, and the sandbox's TMPDIR is long.
    run_dir = tempfile.mkdtemp(prefix="zen-gunicorn-", dir="/tmp")
    # Events flushed every 50 ms, so the heartbeat check waits little; a
    # master slower than 1 s on a loaded machine still decides every limit.
    options = dict(options, client={"flush_interval_ms": 50, "rate_limit_timeout_ms": 5000})
    if options["transport"] == "unix":
        options["unix_parent_dir"] = run_dir
    server = h.Gunicorn(site, app, run_dir, flags, options)
    try:
        run_checks(mode, server, run_dir)
    except BaseException:
        print(server.log_tail(), file=sys.stderr)
        raise
    finally:
        server.kill()
        shutil.rmtree(run_dir, ignore_errors=True)


def run_checks(mode, server, run_dir):
    server.ready()
    traffic = Traffic(server)
    first_workers = server.workers()
    calls = check_metrics(server, 0)
    check_rate_limit(traffic, "203.0.113.10")
    calls = check_metrics(server, 60, calls)
    if mode == "max_requests":
        seen = set(first_workers)
        for batch in range(8):
            traffic.many([("/", f"198.51.100.{batch}")] * 40)
            seen |= server.workers()
            calls = check_metrics(server, calls, calls)
        h.check(len(seen) > 4, f"no worker was recycled: {sorted(seen)}")
        print(f"max_requests: {len(seen) - 4} worker(s) recycled and replaced")
        check_rate_limit(traffic, "203.0.113.11")
    # gthread: a worker takes many at once, so more waiters to cover all 4.
    generation = check_propagation(server, traffic, 1, 32 if mode == "gthread" else 4)
    # Requests now carry the new limit (10 per window again, a new client).
    check_rate_limit(traffic, "203.0.113.12")
    check_heartbeat(server)
    check_sigkill(server, traffic, generation)
    check_heartbeat(server)
    check_metrics(server, calls, calls)
    check_graceful_stop(server, run_dir)


def check_graceful_stop(server, run_dir):
    workers = server.workers()
    os.kill(server.pid, signal.SIGTERM)
    code = server.process.wait(timeout=60)
    h.check(code == 0, f"gunicorn exited with {code} on SIGTERM")
    h.wait_for(lambda: not any(h.alive(p) for p in workers), "the workers to exit", timeout=10)
    h.check(h.refuses(server.port) and h.refuses(server.admin_port), "a port still listens")
    left = os.listdir(run_dir)
    h.check(not left, f"left behind in the run directory: {left}")
    print("graceful stop: no process, socket or file left")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--mode=")]
    mode = next(a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--mode="))
    h.check(mode in MODES and len(args) == 2, __doc__)
    h.main_guard(lambda: run_mode(mode, args[0], args[1]))


if __name__ == "__main__":
    main()
