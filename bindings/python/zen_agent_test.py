#!/usr/bin/python3
"""The zen_agent package as built, imported from a copy outside the
repository: its API against real forked processes and the real library.

  zen_agent_test.py PACKAGE_DIR     # the directory that holds zen_agent/

Bad input raises zen_agent.Error with a code and a message (never a crash),
a worker inherits the master's agent and may not call the master's
functions, a blocked call lets other threads run (the GIL is released), and
a worker whose master died gets Error(UNAVAILABLE) at once.
"""

import ctypes
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import unittest

LIMITED = {
    "endpoints": [
        {
            "method": "GET",
            "route": "/limited",
            "forceProtectionOff": False,
            "allowedIPAddresses": [],
            "rateLimiting": {"enabled": True, "maxRequests": 3, "windowSizeInMS": 600000},
        }
    ]
}
# A forked child reports with its exit status; this bounds every wait.
WAIT_S = 20


def in_child(body):
    """Runs body() in a fork()ed child; returns its exit status (0: body
    returned True). The child never returns into the test runner."""
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            outcome = body()
            code = 0 if outcome is True else 1
            if code:
                print(f"child: {outcome!r}", file=sys.stderr)
        except BaseException as e:  # Report, never unwind into unittest.
            print(f"child: {type(e).__name__}: {e}", file=sys.stderr)
        finally:
            os._exit(code)
    return reap(pid)


def reap(pid):
    give_up = time.monotonic() + WAIT_S
    while time.monotonic() < give_up:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    return "timed out"


class ZenAgentTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.agent = zen_agent.start(
            config=LIMITED, client={"rate_limit_timeout_ms": 2000, "flush_interval_ms": 50}
        )

    @classmethod
    def tearDownClass(cls):
        cls.agent.stop()

    def test_the_rate_limit_path_asked_for(self):
        # ZEN_AGENT_PURE_PYTHON=1 (the pure_python test) is ctypes alone;
        # else the C module must have loaded: a broken build of it would
        # otherwise pass unseen on the slower path.
        pure = os.environ.get("ZEN_AGENT_PURE_PYTHON") == "1"
        self.assertEqual(zen_agent._fast_rate_limit is None, pure)

    def test_version_and_roles(self):
        self.assertEqual(zen_agent.version(), "1.1.0")
        self.assertIs(zen_agent.agent(), self.agent)
        self.assertTrue(self.agent.is_master)
        self.assertEqual(self.agent.config_generation, 1)
        self.assertEqual(json.loads(self.agent.config_json), LIMITED)

    def test_worker_endpoint_is_the_masters_address_and_secret(self):
        endpoint = self.agent.worker_endpoint()
        self.assertEqual(sorted(endpoint), ["host", "port", "secret"])
        self.assertEqual(endpoint["host"], "127.0.0.1")
        self.assertIsInstance(endpoint["port"], int)
        self.assertIsInstance(endpoint["secret"], bytes)
        self.assertEqual(len(endpoint["secret"]), 32)
        self.assertNotEqual(endpoint["secret"], bytes(32))
        # The port is the agent server's: it accepts a connection.
        socket.create_connection((endpoint["host"], endpoint["port"]), timeout=WAIT_S).close()
        # A worker gets the same three values.
        self.assertEqual(in_child(lambda: self.agent.worker_endpoint() == endpoint), 0)

    def test_start_twice_is_refused(self):
        with self.assertRaises(zen_agent.Error) as caught:
            zen_agent.start()
        self.assertEqual(caught.exception.code, zen_agent.StatusCode.ALREADY_EXISTS)

    def test_start_with_bad_input_leaves_no_agent(self):
        def fresh_process():
            zen_agent._agent = None  # Forget the inherited one: a new tree.
            for options, config in (({"client": {"nope": 1}}, None), ({}, "{")):
                try:
                    zen_agent.start(config=config, **options)
                    return False
                except zen_agent.Error as e:
                    if e.code != zen_agent.StatusCode.INVALID_ARGUMENT or zen_agent.agent():
                        return False
                    if options and "client.nope" not in e.message:
                        return False
            return zen_agent.start(config=LIMITED).config_generation == 1

        self.assertEqual(in_child(fresh_process), 0)

    def test_a_worker_completes_an_attack_wave(self):
        # The master's detector counts every worker's probes: the 15th
        # (its default threshold) from one IP completes the wave.
        def worker():
            agent = zen_agent.agent()
            answers = [
                agent.record_attack_wave(ip="198.51.100.9", method="GET", path=f"/.env{n}")
                for n in range(15)
            ]
            samples = answers[-1]
            return (
                answers[:-1] == [None] * 14
                and isinstance(samples, list)
                and {"method": "GET", "url": "/.env0"} in samples
            ) or answers[-2:]

        self.assertEqual(in_child(worker), 0)

    def test_bad_config_keeps_the_previous(self):
        before = self.agent.config_json
        for bad in ("{\"endpoints\":", b"\xff", "[1, 2]"):
            with self.assertRaises(zen_agent.Error) as caught:
                self.agent.update_config(bad)
            self.assertEqual(caught.exception.code, zen_agent.StatusCode.INVALID_ARGUMENT)
            self.assertTrue(caught.exception.message)
        self.assertEqual(self.agent.config_json, before)
        with self.assertRaises(zen_agent.Error):
            self.agent.update_config({"not": {1, 2}})  # Not JSON-serializable.

    def test_bad_arguments(self):
        cases = [
            lambda: self.agent.rate_limit(method=1, route="/", ip="1.2.3.4"),
            lambda: self.agent.rate_limit(method="GET", route="/\udc80", ip="1.2.3.4"),
            lambda: self.agent.track({"type": "no_such_event"}),
            lambda: self.agent.track("{"),
            lambda: self.agent.record_attack_wave(ip=None, method="GET", path="/.env"),
            lambda: self.agent.heartbeat(agent_info="[1]"),
        ]
        for case in cases:
            with self.assertRaises(zen_agent.Error) as caught:
                case()
            self.assertEqual(caught.exception.code, zen_agent.StatusCode.INVALID_ARGUMENT)

    def test_worker_inherits_the_agent_and_shares_the_limit(self):
        ip = "203.0.113.1"

        def worker():
            agent = zen_agent.agent()
            answers = [agent.rate_limit(method="GET", route="/limited", ip=ip) for _ in range(2)]
            unlimited = agent.rate_limit(method="GET", route="/other", ip=ip)
            try:
                agent.metrics()
                return False
            except zen_agent.Error as e:
                master_only = e.code == zen_agent.StatusCode.FAILED_PRECONDITION
            agent.track([{"type": "track_request"}] * 3)
            # The settings arrive by themselves (the master decided the
            # calls above either way); wait for them, bounded.
            give_up = time.monotonic() + WAIT_S
            while agent.config_generation < 1 and time.monotonic() < give_up:
                time.sleep(0.001)
            generation = agent.config_generation
            agent.stop()  # Flushes the three events.
            try:
                agent.rate_limit(method="GET", route="/limited", ip=ip)
                return False
            except zen_agent.Error as e:
                stopped = e.code == zen_agent.StatusCode.CANCELLED
            checks = {
                "stopped": stopped,
                "worker": not agent.is_master,
                "generation 1": generation == 1,
                "admitted twice": [a["throttled"] for a in answers] == [False, False],
                "discriminator": answers[0]["discriminator"] == ip,
                "no limit elsewhere": unlimited is None,
                "master only": master_only,
            }
            failed = [name for name, ok in checks.items() if not ok]
            return not failed or (failed, answers, generation)

        before = json.loads(self.agent.heartbeat())["stats"]["requests"]["total"]
        self.assertEqual(in_child(worker), 0)
        # Two of three admitted in the worker: one left, then throttled.
        third = self.agent.rate_limit(method="GET", route="/limited", ip=ip)
        fourth = self.agent.rate_limit(method="GET", route="/limited", ip=ip)
        self.assertEqual((third["throttled"], fourth["throttled"]), (False, True))
        self.assertGreater(fourth["time_remaining"], 0)
        after = json.loads(self.agent.heartbeat())["stats"]["requests"]["total"]
        self.assertEqual(after - before, 3)
        self.assertIn("zen_agent_server_calls_total", self.agent.metrics())

    def test_a_blocked_call_releases_the_gil(self):
        # The master stops answering (SIGSTOP from the test, its grandparent
        # here) while a worker thread waits on rate_limit; another thread of
        # the worker must keep running meanwhile.
        def worker():
            agent = zen_agent.agent()
            agent.poll_settings()  # Connected.
            master = os.getppid()
            in_call = threading.Event()
            done = threading.Event()
            ticks_during_call = []

            def call():
                in_call.set()
                agent.rate_limit(method="GET", route="/limited", ip="203.0.113.2")
                done.set()

            os.kill(master, signal.SIGSTOP)
            try:
                # SIGSTOP takes effect asynchronously: wait until every
                # thread of the master is seen stopped.
                give_up = time.monotonic() + WAIT_S
                while not all_stopped(master) and time.monotonic() < give_up:
                    time.sleep(0.001)
                thread = threading.Thread(target=call)
                thread.start()
                in_call.wait()
                ticks = 0
                while not done.is_set():  # Runs while the call waits: no GIL held.
                    ticks += 1
                    time.sleep(0.001)
                ticks_during_call.append(ticks)
                thread.join()
            finally:
                os.kill(master, signal.SIGCONT)
            return ticks_during_call[0] > 10 or ("ticks", ticks_during_call)

        def master():
            agent = zen_agent.agent()
            return in_child(worker) == 0 and agent.is_master

        # A master of its own, so that SIGSTOP does not stop the test.
        status = in_child(lambda: fresh_master_runs(master))
        self.assertEqual(status, 0)

    def test_orphaned_worker_gets_unavailable_at_once(self):
        read_end, write_end = os.pipe()

        def master():
            def worker():
                agent = zen_agent.agent()
                agent.poll_settings()
                os.write(write_end, b"c")  # Connected; now kill the master.
                while agent.master_alive:
                    time.sleep(0.001)
                start = time.monotonic()
                try:
                    agent.rate_limit(method="GET", route="/limited", ip="203.0.113.3")
                    outcome = "answered"
                except zen_agent.Error as e:
                    outcome = e.code.name
                elapsed = time.monotonic() - start
                os.write(write_end, f"{outcome} {elapsed:.4f} {os.getpid()}\n".encode())
                return True

            pid = os.fork()
            if pid == 0:
                os._exit(0 if worker() else 1)
            time.sleep(WAIT_S)  # SIGKILLed by the test long before.
            return False

        set_child_subreaper()  # The orphaned worker comes back to us.
        pid = os.fork()
        if pid == 0:
            os._exit(0 if fresh_master_runs(master) else 1)
        with os.fdopen(read_end, "rb") as reader:
            os.close(write_end)
            self.assertEqual(reader.read(1), b"c")
            os.kill(pid, signal.SIGKILL)
            reap(pid)
            outcome, seconds, worker = reader.readline().decode().split()
        worker_status = reap(int(worker))
        self.assertEqual(outcome, "UNAVAILABLE")
        self.assertLess(float(seconds), 1.0)
        self.assertEqual(worker_status, 0)
        print(f"orphaned worker: UNAVAILABLE after {float(seconds) * 1e3:.2f} ms")


def fresh_master_runs(body):
    """In a child of the test: forget the inherited agent, start a master of
    its own, run body(). Its workers ask the master for every rate limit (no
    shared zone): the tests that use it are about that call blocking on a
    stopped master, or failing at once when it is gone. (With the zone, a
    worker decides without the master, even an orphaned one.)"""
    zen_agent._agent = None
    zen_agent.start(
        config=LIMITED,
        client={"rate_limit_timeout_ms": 300},
        rate_limit_zone={"enabled": False},
    )
    return body()


def all_stopped(pid):
    """True when every thread of `pid` is in state T (stopped)."""
    states = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        states.append(stat[stat.rindex(")") + 2])
    return bool(states) and all(state in "tT" for state in states)


def set_child_subreaper():
    PR_SET_CHILD_SUBREAPER = 36
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


if __name__ == "__main__":
    package_dir = sys.argv.pop(1)
    site = tempfile.mkdtemp(prefix="zen-site-", dir=os.environ.get("TEST_TMPDIR"))
    shutil.copytree(package_dir, os.path.join(site, "zen_agent"))
    library = os.path.join(site, "zen_agent", "libzen_agent.so.1")
    # A sanitizer build calls its runtime's __asan_init or __tsan_init: GCC
    # links that runtime as a shared library, clang's ASan into the program,
    # so ldd does not show both; python3 can host neither.
    with open(library, "rb") as f:
        image = f.read()
    if b"__asan_init" in image or b"__tsan_init" in image:
        print("SKIP: the library is built with a sanitizer runtime python3 cannot load")
        sys.exit(0)
    sys.path.insert(0, site)
    import zen_agent

    unittest.main(verbosity=2)
