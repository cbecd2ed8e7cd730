#!/usr/bin/python3
"""Python's multiprocessing.connection with an authkey, the HMAC-authenticated
parent/child channel most people reach for, measured as bench/ measures this
library: server in this process, client in a fork()ed child, pinned with
sched_setaffinity. Prints one JSON line.

  python_peer.py --mode=echo --placement=split|shared [--calls=N] [--warmup=N]
  python_peer.py --mode=handshake [--connects=2000]

echo: the child sends (id, "echo", payload) with Connection.send (pickle, as
users do), the parent answers (id, payload); the payload is the benchmarks'
~40-byte JSON value as a dict. handshake: Client(address, authkey=...)
against a Listener whose accept() runs the server side of the challenge.
"""

import json
import os
import sys
import time
from multiprocessing.connection import Client, Listener

PAYLOAD = {"user": "u-1234", "path": "/api/items", "n": 42}
SERVER_CPU = 0


def flags():
    out = {}
    for arg in sys.argv[1:]:
        if arg.startswith("--"):
            key, _, value = arg[2:].partition("=")
            out[key] = value
    return out


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p * len(values)))]


def run_child(body):
    """Forks; the child runs body() and _exits with its return value."""
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = body()
        finally:
            os._exit(code)
    return pid


def echo(f):
    placement = f.get("placement", "split")
    calls = int(f.get("calls", 10000))
    warmup = int(f.get("warmup", 2000))
    key = os.urandom(32)
    listener = Listener(("127.0.0.1", 0), authkey=key)
    read_fd, write_fd = os.pipe()

    def child():
        os.close(read_fd)
        os.sched_setaffinity(0, {1 if placement == "split" else 0})
        conn = Client(listener.address, authkey=key)
        for i in range(warmup):
            conn.send((i, "echo", PAYLOAD))
            conn.recv()
        latency = []
        start = time.perf_counter_ns()
        for i in range(calls):
            t = time.perf_counter_ns()
            conn.send((i, "echo", PAYLOAD))
            reply = conn.recv()
            latency.append((time.perf_counter_ns() - t) / 1e3)
            if reply[0] != i:
                return 1
        elapsed = (time.perf_counter_ns() - start) / 1e9
        conn.close()
        result = {
            "p50_us": percentile(latency, 0.5),
            "p99_us": percentile(latency, 0.99),
            "mean_us": sum(latency) / len(latency),
            "calls_per_s": calls / elapsed,
        }
        os.write(write_fd, json.dumps(result).encode())
        os.close(write_fd)
        return 0

    pid = run_child(child)
    os.close(write_fd)
    conn = listener.accept()
    try:
        while True:
            call_id, _method, payload = conn.recv()
            conn.send((call_id, payload))
    except EOFError:
        pass
    result = json.loads(os.read(read_fd, 65536).decode())
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return 1
    result.update({"bench": "echo", "system": "python", "placement": placement,
                   "threads": 0, "mt_calls_per_s": 0, "errors": 0,
                   "seq_calls": calls, "mt_calls": 0})
    print(json.dumps(result))
    return 0


def handshake(f):
    connects = int(f.get("connects", 2000))
    key = os.urandom(32)
    listener = Listener(("127.0.0.1", 0), authkey=key)
    read_fd, write_fd = os.pipe()

    def child():
        os.close(read_fd)
        os.sched_setaffinity(0, {1})
        us = []
        errors = 0
        for _ in range(connects):
            t = time.perf_counter_ns()
            try:
                conn = Client(listener.address, authkey=key)
            except Exception:  # noqa: BLE001 - counted, not raised
                errors += 1
                conn = None
            us.append((time.perf_counter_ns() - t) / 1e3)
            if conn is not None:
                conn.close()
        result = {"p50_us": percentile(us, 0.5), "p99_us": percentile(us, 0.99),
                  "errors": errors}
        os.write(write_fd, json.dumps(result).encode())
        os.close(write_fd)
        return 0

    pid = run_child(child)
    os.close(write_fd)
    for _ in range(connects):
        try:
            listener.accept().close()
        except Exception:  # noqa: BLE001 - the child counts its failures
            pass
    result = json.loads(os.read(read_fd, 65536).decode())
    os.waitpid(pid, 0)
    result.update({"bench": "handshake", "system": "python",
                   "connects": connects})
    print(json.dumps(result))
    return 0


def main():
    f = flags()
    os.sched_setaffinity(0, {SERVER_CPU})
    mode = f.get("mode", "echo")
    if mode == "echo":
        return echo(f)
    if mode == "handshake":
        return handshake(f)
    print("unknown --mode=" + mode, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
