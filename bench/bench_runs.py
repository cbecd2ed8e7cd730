"""The measurements of bench/report.py: each benchmark binary run as a
fresh process, repeated with the systems interleaved, and the machine it
ran on. Every function returns the parsed JSON lines of its runs.
"""

import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # Debian's, the one tools/setup.sh installs.

ECHO_SYSTEMS = ["raw_tcp", "raw_unix", "zen", "zen_spin", "zen_unix", "grpc",
                "python"]
PLACEMENTS = {
    "split": "server on CPU 0, client on CPU 1",
    "shared": "server and client both on CPU 0",
}
SCALE_CHILDREN = [1, 8, 32, 64]
SETTINGS_SIZES = [1024, 100 * 1024, 1024 * 1024]
SETTINGS_VARIANTS = ["agent_server", "spliced", "spliced_handler",
                     "reprint_simdjson", "reprint_protobuf"]

class Runner:
    def __init__(self, bin_dir, out_dir, quick):
        self.bin = bin_dir
        self.quick = quick
        self.log = open(os.path.join(out_dir, "raw.jsonl"), "w")

    def run(self, argv):
        done = subprocess.run(argv, capture_output=True, text=True,
                              timeout=300, check=False)
        lines = [l for l in done.stdout.splitlines() if l.startswith("{")]
        if done.returncode != 0 or not lines:
            sys.stderr.write("FAILED: %s\n%s%s" % (" ".join(argv), done.stdout,
                                                   done.stderr))
            raise SystemExit(1)
        result = json.loads(lines[-1])
        self.log.write(json.dumps(result) + "\n")
        self.log.flush()
        return result

    def binary(self, name, *args):
        return self.run([os.path.join(self.bin, name)] + list(args))

    def python(self, *args):
        return self.run([PYTHON, os.path.join(HERE, "python_peer.py")] +
                        list(args))


def median(values):
    return statistics.median(values) if values else float("nan")


def med(results, key):
    return median([r[key] for r in results])


def echo_runs(runner, reps):
    # The split placement's figures swing most with the VM's other load:
    # two more repetitions for them, and a longer 8-thread phase.
    reps = reps if runner.quick else reps + 2
    calls = ["--calls=%d" % (3000 if runner.quick else 10000),
             "--mt_calls=%d" % (16000 if runner.quick else 32000)]
    out = {p: {s: [] for s in ECHO_SYSTEMS} for p in PLACEMENTS}
    for _ in range(reps):
        for placement in PLACEMENTS:
            flag = "--placement=" + placement
            for system in ECHO_SYSTEMS:
                if system == "grpc":
                    r = runner.binary("grpc_compare", "--mode=echo", flag,
                                      *calls)
                elif system == "python":
                    r = runner.python("--mode=echo", flag, *calls)
                else:
                    r = runner.binary("echo_compare", "--system=" + system,
                                      flag, *calls)
                out[placement][system].append(r)
    return out


def handshake_runs(runner, reps):
    n = "--connects=%d" % (500 if runner.quick else 2000)
    systems = ["raw_hmac", "zen", "zen_channel", "grpc", "python"]
    out = {s: [] for s in systems}
    for _ in range(reps):
        for system in systems:
            if system == "grpc":
                r = runner.binary("grpc_compare", "--mode=handshake", n)
            elif system == "python":
                r = runner.python("--mode=handshake", n)
            else:
                r = runner.binary("handshake_compare", "--system=" + system, n)
            out[system].append(r)
    return out


def scale_runs(runner, reps):
    total = "--total_calls=%d" % (6000 if runner.quick else 20000)
    out = {(s, k): [] for s in ("raw", "zen") for k in SCALE_CHILDREN}
    for _ in range(reps):
        for k in SCALE_CHILDREN:
            for system in ("raw", "zen"):
                out[(system, k)].append(runner.binary(
                    "scale_compare", "--system=" + system,
                    "--children=%d" % k, total))
    return out


def settings_runs(runner, reps):
    millis = "--millis=%d" % (150 if runner.quick else 400)
    out = {(v, b): [] for v in SETTINGS_VARIANTS for b in SETTINGS_SIZES}
    for _ in range(reps):
        for size in SETTINGS_SIZES:
            for variant in SETTINGS_VARIANTS:
                out[(variant, size)].append(runner.binary(
                    "settings_compare", "--variant=" + variant,
                    "--bytes=%d" % size, millis))
    return out


PROPAGATION_WORKERS = [1, 8, 64]
# The reference's workers poll every 10 s (after a random 1..10 s start).
REFERENCE_POLL_S = 10


def propagation_runs(runner, reps):
    updates = "--updates=%d" % (20 if runner.quick else 100)
    out = {n: [] for n in PROPAGATION_WORKERS}
    for _ in range(reps):
        for n in PROPAGATION_WORKERS:
            out[n].append(runner.binary("settings_propagation",
                                        "--workers=%d" % n, updates))
    # Our client polling every second (watch off), once: what a worker
    # under a reference parent gets, scaled to the reference's 10 s below.
    out["poll"] = [runner.binary("settings_propagation", "--workers=64",
                                 "--mode=poll", "--poll_ms=1000",
                                 "--updates=%d" % (5 if runner.quick else 10))]
    return out


def micro_runs(runner, out_dir):
    path = os.path.join(out_dir, "micro.json")
    argv = [os.path.join(runner.bin, "micro_bench"),
            "--benchmark_min_time=%s" % ("0.05" if runner.quick else "0.2"),
            "--benchmark_repetitions=3",
            "--benchmark_report_aggregates_only=true",
            "--benchmark_out=" + path, "--benchmark_out_format=json"]
    subprocess.run(argv, capture_output=True, check=True, timeout=300)
    with open(path) as f:
        data = json.load(f)
    rows = []
    for b in data["benchmarks"]:
        if b.get("aggregate_name") == "median":
            rows.append((b["run_name"], b["cpu_time"], b["time_unit"]))
    return rows


def command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True,
                              check=False).stdout.strip()
    except OSError:
        return "?"


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    packages = ["g++-12", "libgrpc++-dev", "libprotobuf-dev", "libabsl-dev",
                "libssl-dev", "libsimdjson-dev", "libbenchmark-dev",
                "python3"]
    versions = command_output(
        ["dpkg-query", "-W", "-f=${Package} ${Version}\\n"] + packages)
    commit = command_output(["git", "-C", HERE, "rev-parse", "--short",
                             "HEAD"])
    # Changes to docs/ (this report's own output, its prose) do not change
    # what was measured.
    dirty = command_output(["git", "-C", HERE, "status", "--porcelain",
                            "--untracked-files=no", "--", ":(top)",
                            ":(top,exclude)docs"])
    return {
        "cpu": "%s, %d CPUs" % (cpu, os.cpu_count()),
        "kernel": platform.release(),
        "versions": versions.replace("\n", "; "),
        "python": command_output([PYTHON, "--version"]),
        "commit": commit + (" (with uncommitted changes)" if dirty else ""),
    }
