#!/usr/bin/python3
"""rate_limit from Python, measured as bench/python_rate_limit_baseline.c
measures the same call from C: same server, same placement, same 1,000
client IPs under a limit never reached. Prints one JSON line.

  python_rate_limit.py --system=zen --package=DIR [--where=worker|master]
  python_rate_limit.py --system=mp_connection [--per_call=1]
      [--placement=split|shared] [--calls=N] [--warmup=N]

zen: the zen_agent package found in DIR (the directory that holds
zen_agent/, e.g. bazel-bin/bindings/python). worker: a fork()ed child asks
the master's agent server over loopback; master: the master asks its own
agent in process (no socket), which leaves the binding's own cost.
mp_connection: what a Python agent would do instead: the master runs a
multiprocessing.connection Listener with an authkey (HMAC handshake), a
thread answers each child's (method, route, ip) with the same dict the
binding returns, counting requests in a sliding window per (route, ip).
--per_call=1: the Python agent's way instead: a Unix socket without
authentication, a new connection and server thread per call.
"""

import json
import os
import sys
import threading
import time
from collections import deque

CONFIG = {
    "endpoints": [
        {
            "method": "GET",
            "route": "/api/limited",
            "forceProtectionOff": False,
            "allowedIPAddresses": [],
            "rateLimiting": {
                "enabled": True,
                "maxRequests": 1000000,
                "windowSizeInMS": 60000,
            },
        }
    ]
}
IPS = ["10.0.%d.%d" % (i // 250, i % 250) for i in range(1000)]
SERVER_CPU = 0


def flags():
    out = {}
    for arg in sys.argv[1:]:
        key, _, value = arg.lstrip("-").partition("=")
        out[key] = value
    return out


def measure(call, warmup, calls):
    """p50 and p99 in microseconds of `calls` timed calls after `warmup`."""
    clock = time.perf_counter_ns
    samples = [0] * calls
    for i in range(-warmup, calls):
        ip = IPS[(i + warmup) % 1000]
        start = clock()
        call(ip)
        elapsed = clock() - start
        if i >= 0:
            samples[i] = elapsed
    samples.sort()
    return samples[calls // 2] / 1000.0, samples[calls * 99 // 100] / 1000.0


def in_child(placement, body):
    """Runs body() in a fork()ed child pinned per placement; returns what it
    returned (through a pipe)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            os.sched_setaffinity(0, {1 if placement == "split" else 0})
            os.write(write_end, json.dumps(body()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        data = f.read()
    _, status = os.waitpid(pid, 0)
    if status != 0 or not data:
        raise SystemExit("the measuring child failed")
    return json.loads(data)


def run_zen(f, warmup, calls):
    sys.path.insert(0, f["package"])
    import zen_agent

    agent = zen_agent.start(config=CONFIG, client={"rate_limit_timeout_ms": 60000})

    def body():
        worker = zen_agent.agent()

        def call(ip):
            answer = worker.rate_limit(method="GET", route="/api/limited", ip=ip)
            if answer is None or answer["throttled"]:
                raise SystemExit("unexpected answer %r" % (answer,))

        return measure(call, warmup, calls)

    where = f.get("where", "worker")
    if where == "master":
        figures = body()
    else:
        figures = in_child(f.get("placement", "split"), body)
    agent.stop()
    # ZEN_AGENT_PURE_PYTHON=1: rate_limit through ctypes, not the C module.
    name = "python_zen_agent" if zen_agent._fast_rate_limit else "python_zen_agent_ctypes"
    return {"system": name, "where": where}, figures


def run_mp_connection(f, warmup, calls):
    from multiprocessing.connection import Client, Listener

    per_call = f.get("per_call") == "1"
    if per_call:
        # As the Python agent this replaces does it: a Unix socket, no
        # authentication, and a connection and a server thread per call.
        import tempfile

        authkey = None
        address = os.path.join(tempfile.mkdtemp(prefix="mpc-"), "agent.sock")
        listener = Listener(address, family="AF_UNIX")
    else:
        authkey = os.urandom(32)
        listener = Listener(("127.0.0.1", 0), authkey=authkey)
    windows = {}

    def serve():
        conn = listener.accept()  # runs the HMAC challenge both ways
        try:
            while True:
                method, route, ip = conn.recv()
                now = time.monotonic()
                window = windows.setdefault((method, route, ip), deque())
                while window and now - window[0] > 60.0:
                    window.popleft()
                window.append(now)
                conn.send(
                    {
                        "throttled": len(window) > 1000000,
                        "discriminator": ip,
                        "time_remaining": 60,
                    }
                )
        except EOFError:
            pass

    address = listener.address
    if per_call:

        def accept_forever():
            while True:
                conn = listener.accept()
                threading.Thread(target=answer_one, args=(conn,), daemon=True).start()

        def answer_one(conn):
            with conn:
                method, route, ip = conn.recv()
                conn.send({"throttled": False, "discriminator": ip, "time_remaining": 60})

        threading.Thread(target=accept_forever, daemon=True).start()
    else:
        threading.Thread(target=serve, daemon=True).start()

    def body():
        conn = None if per_call else Client(address, authkey=authkey)

        def call(ip):
            c = Client(address, authkey=authkey) if per_call else conn
            c.send(("GET", "/api/limited", ip))
            answer = c.recv()
            if per_call:
                c.close()
            if answer["throttled"]:
                raise SystemExit("unexpected answer")

        figures = measure(call, warmup, calls)
        if conn is not None:
            conn.close()
        return figures

    figures = in_child(f.get("placement", "split"), body)
    listener.close()  # Removes the Unix socket; its directory stays empty.
    if per_call:
        os.rmdir(os.path.dirname(address))
    name = "python_mp_connection_per_call" if per_call else "python_mp_connection"
    return {"system": name, "where": "worker"}, figures


def main():
    f = flags()
    warmup = int(f.get("warmup", "2000"))
    calls = int(f.get("calls", "20000"))
    os.sched_setaffinity(0, {SERVER_CPU})
    if f.get("system") == "zen":
        row, (p50, p99) = run_zen(f, warmup, calls)
    elif f.get("system") == "mp_connection":
        row, (p50, p99) = run_mp_connection(f, warmup, calls)
    else:
        raise SystemExit(__doc__)
    row.update(
        placement=f.get("placement", "split"),
        calls=calls,
        p50_us=round(p50, 2),
        p99_us=round(p99, 2),
    )
    print(json.dumps(row))


if __name__ == "__main__":
    main()
