"""What gunicorn_test.py needs around a real gunicorn: the zen_agent
package and the example copied outside the repository, a server started in
its own session and always killed, HTTP calls with deadlines, and the
master's children read from /proc.
"""

import ctypes
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

GUNICORN = "/usr/bin/gunicorn"
EXAMPLE_FILES = ["app.py", "gunicorn.conf.py", "zen_master.py", "zen_middleware.py"]


class Failure(Exception):
    pass


def check(condition, what):
    if not condition:
        raise Failure(what)


def wait_for(predicate, what, timeout=20.0, interval=0.02):
    """Polls predicate() until it returns a true value (returned), or fails
    naming `what` after `timeout` seconds."""
    give_up = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > give_up:
            raise Failure(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def free_port():
    # The test's own network namespace (Bazel sandbox): nobody else binds.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install(package_dir, example_dir, root):
    """Copies the built package and the example under `root` (outside the
    repository), as a user would install them; returns (site, app) dirs."""
    site, app = os.path.join(root, "site"), os.path.join(root, "app")
    shutil.copytree(package_dir, os.path.join(site, "zen_agent"))
    os.makedirs(app)
    for name in EXAMPLE_FILES:
        shutil.copy(os.path.join(example_dir, name), app)
    for d in (site, app):
        for dirpath, _, files in os.walk(d):
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o644)
    return site, app


def sanitized(library):
    """True when the library was built with ASan/TSan: their runtimes must
    be the first library a process loads, which python3 is not. Found by
    the runtime's entry point the library calls (__asan_init, __tsan_init):
    GCC links that runtime as a shared library, clang's ASan into the
    program, so ldd does not show both."""
    with open(library, "rb") as f:
        image = f.read()
    return b"__asan_init" in image or b"__tsan_init" in image


def request(port, path, method="GET", body=None, headers=None, timeout=10.0):
    """One request on a new connection: (status, body text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        conn.close()


def refuses(port):
    with socket.socket() as s:
        s.settimeout(2.0)
        return s.connect_ex(("127.0.0.1", port)) != 0


def children(pid):
    """The pids whose parent is `pid` (gunicorn's live workers)."""
    out = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            out.add(int(entry))
    return out


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _die_with_parent():
    # In the child before exec: should this test die without cleaning up,
    # the kernel SIGKILLs the master (its workers then exit on their own
    # when they see their parent gone).
    libc = ctypes.CDLL(None, use_errno=True)
    PR_SET_PDEATHSIG = 1
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Gunicorn:
    """One gunicorn master (and its workers) in a session of its own."""

    def __init__(self, site, app, run_dir, flags, agent_options):
        self.port, self.admin_port = free_port(), free_port()
        self.log_path = os.path.join(os.path.dirname(site), "gunicorn.log")
        env = dict(os.environ)
        env.update(
            PYTHONPATH=site,
            TMPDIR=run_dir,
            ZEN_ADMIN_PORT=str(self.admin_port),
            ZEN_AGENT_OPTIONS=json.dumps(agent_options),
            PYTHONDONTWRITEBYTECODE="1",
        )
        command = [GUNICORN, "-c", "gunicorn.conf.py", "-b", f"127.0.0.1:{self.port}"]
        command += ["--worker-tmp-dir", run_dir, "--graceful-timeout", "10"]
        command += flags + ["app:application"]
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=app, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent,
            )
        self.pid = self.process.pid
        self.lock = threading.Lock()
        self.served = 0
        self.throttled = 0

    def kill(self):
        """SIGKILLs the whole session and reaps the master; idempotent."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass

    def log_tail(self, lines=40):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def workers(self):
        return children(self.pid)

    def get(self, path, headers=None):
        """A request to the app; every answer is counted (served,
        throttled) for the heartbeat check."""
        status, text = request(self.port, path, headers=headers)
        with self.lock:
            self.served += 1
            self.throttled += status == 429
        return status, text

    def admin(self, path, method="GET", body=None):
        status, text = request(self.admin_port, path, method=method, body=body)
        check(status == 200, f"admin {method} {path}: {status} {text}")
        return text

    def heartbeat(self):
        return json.loads(self.admin("/heartbeat"))

    def ready(self, workers=4):
        def up():
            try:
                return (
                    len(self.workers()) == workers
                    and self.get("/zen/status")[0] == 200
                    and request(self.admin_port, "/metrics")[0] == 200
                )
            except OSError:
                check(self.process.poll() is None, "gunicorn exited while starting")
                return False

        wait_for(up, "gunicorn, its 4 workers and the admin port", timeout=60)


def main_guard(run):
    """Runs run() so that a failure, SIGTERM (Bazel's timeout) or anything
    else still ends every server it started; exits 0 only on success."""

    def on_term(signum, frame):
        raise SystemExit(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    try:
        run()
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
