"""The tables and the plot of bench/report.py, from the measurements of
bench_runs.py.
"""

import os
import shutil
import subprocess
import sys

from bench_runs import (ECHO_SYSTEMS, HERE, median, PLACEMENTS, PROPAGATION_WORKERS,
                        REFERENCE_POLL_S, SCALE_CHILDREN, SETTINGS_SIZES,
                        SETTINGS_VARIANTS, med)

def allocations(runs):
    """Heap allocations per sequential call, client / server (medians); n/a
    for a system whose binary does not count them (python)."""
    client = [r.get("client_allocs_per_call", -1) for r in runs]
    server = [r.get("server_allocs_per_call", -1) for r in runs]
    if not client or min(client) < 0 or min(server) < 0:
        return "n/a"
    return "%.2f / %.2f" % (median(client), median(server))


NAMES = {
    "raw_tcp": "raw TCP ping-pong (the limit)",
    "raw_unix": "raw Unix socket (reference)",
    "zen": "**zen** generated Stub → Service",
    "zen_spin": "**zen**, opt-in `spin_before_block` = 50 µs both sides",
    "zen_unix": "**zen**, opt-in Unix-domain transport",
    "zen_rate_limits": "**zen** agent's `calculate_rate_limits` → AgentServer",
    "grpc": "gRPC C++ sync unary",
    "python": "Python multiprocessing.connection",
    "raw_hmac": "raw HMAC exchange (the limit)",
    "zen_channel": "**zen** Channel::Create + first call",
    "raw": "raw TCP, thread per connection (the limit)",
    "agent_server": "**zen::AgentServer** (spliced, as shipped)",
    "spliced": "spliced, minimal generated Service",
    "spliced_handler": "spliced, plain handler, no re-validation",
    "reprint_simdjson": "parse + re-print per call, simdjson",
    "reprint_protobuf": "parse + re-print per call, protobuf Value",
}


def fmt(x, digits=1):
    if x != x:  # NaN
        return "n/a"
    if abs(x) >= 1000:
        return "{:,.0f}".format(x)
    return "{:.{}f}".format(x, digits)


def ratio(a, b):
    if not b or a != a or b != b or a == 0:
        return "n/a"
    return "%.2f×" % (a / b)


def echo_tables(echo, placement, lines, data):
    res = echo[placement]
    lim = {k: med(res["raw_tcp"], k) for k in
           ("p50_us", "p99_us", "calls_per_s", "mt_calls_per_s")}
    lines.append("| system | seq p50 (µs) | seq p99 (µs) | seq calls/s | "
                 "8 threads, 1 conn: calls/s | p50 ÷ limit | p99 ÷ limit | "
                 "calls/s ÷ limit | 8-thread ÷ limit | allocations per call: "
                 "client / server |")
    lines.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for system in ECHO_SYSTEMS:
        runs = res[system]
        p50, p99 = med(runs, "p50_us"), med(runs, "p99_us")
        cps, mt = med(runs, "calls_per_s"), med(runs, "mt_calls_per_s")
        mt_text = fmt(mt) if mt > 0 else "n/a"
        errors = sum(r.get("errors", 0) for r in runs)
        name = NAMES[system] + (" (%d errors)" % errors if errors else "")
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, fmt(p50), fmt(p99), fmt(cps), mt_text,
            ratio(p50, lim["p50_us"]), ratio(p99, lim["p99_us"]),
            ratio(cps, lim["calls_per_s"]),
            ratio(mt, lim["mt_calls_per_s"]) if mt > 0 else "n/a",
            allocations(runs)))
        data.append((placement, system, p50, p99, cps, mt))
    zen = {k: med(res["zen"], k) for k in lim}
    lines.append("")
    lines.append("zen against each peer (> 1 means zen is better):")
    lines.append("")
    lines.append("| peer | p50: peer ÷ zen | p99: peer ÷ zen | seq calls/s: "
                 "zen ÷ peer | 8 threads: zen ÷ peer |")
    lines.append("|---|---:|---:|---:|---:|")
    for peer in ("grpc", "python", "raw_unix"):
        p = {k: med(res[peer], k) for k in lim}
        lines.append("| %s | %s | %s | %s | %s |" % (
            NAMES[peer], ratio(p["p50_us"], zen["p50_us"]),
            ratio(p["p99_us"], zen["p99_us"]),
            ratio(zen["calls_per_s"], p["calls_per_s"]),
            ratio(zen["mt_calls_per_s"], p["mt_calls_per_s"])
            if p["mt_calls_per_s"] > 0 else "n/a"))
    lines.append("")


def targets(echo, hs, scale, settings, prop):
    """(target, measured, met) rows, on the main (split) placement, with the
    shared placement's figure beside each echo target."""
    rows = []

    # Each echo figure: split and shared placements, and split with the
    # opt-in spin (fn's zen stands for zen_spin there).
    def both(fn):
        return fn("split", "zen"), fn("shared", "zen"), fn("split", "zen_spin")

    def m(p, s, k):
        return med(echo[p][s], k)

    def verdict(value, limit, higher_is_better):
        ok = (value >= limit) if higher_is_better else (value <= limit)
        return "met" if ok else "**missed**"

    def add(name, values, limit, higher_is_better):
        split, shared, spin = values
        rows.append((name, "%.2f× (shared CPU: %.2f×; opt-in spin: %.2f×)" %
                     (split, shared, spin),
                     verdict(split, limit, higher_is_better),
                     verdict(shared, limit, higher_is_better),
                     verdict(spin, limit, higher_is_better)))

    add("seq p50 ≤ 1.25 × raw TCP",
        both(lambda p, z: m(p, z, "p50_us") / m(p, "raw_tcp", "p50_us")),
        1.25, False)
    add("seq p99 ≤ 1.5 × raw TCP",
        both(lambda p, z: m(p, z, "p99_us") / m(p, "raw_tcp", "p99_us")),
        1.5, False)
    add("8 threads, 1 channel ≥ 0.7 × raw 1-connection limit",
        both(lambda p, z: m(p, z, "mt_calls_per_s") /
             m(p, "raw_tcp", "mt_calls_per_s")), 0.7, True)
    add("seq calls/s ≥ 3 × gRPC",
        both(lambda p, z: m(p, z, "calls_per_s") /
             m(p, "grpc", "calls_per_s")), 3.0, True)
    add("8-thread calls/s ≥ 3 × gRPC",
        both(lambda p, z: m(p, z, "mt_calls_per_s") /
             m(p, "grpc", "mt_calls_per_s")), 3.0, True)
    add("seq calls/s ≥ 1.3 × Python multiprocessing",
        both(lambda p, z: m(p, z, "calls_per_s") /
             m(p, "python", "calls_per_s")), 1.3, True)
    add("seq p50: Python ÷ zen ≥ 1.3",
        both(lambda p, z: m(p, "python", "p50_us") / m(p, z, "p50_us")),
        1.3, True)
    # The opt-in Unix transport against the raw Unix socket (a socketpair:
    # the same blocking ping-pong, no accept or handshake on its path).
    unix_split = m("split", "zen_unix", "p50_us") / m("split", "raw_unix",
                                                      "p50_us")
    unix_shared = m("shared", "zen_unix", "p50_us") / m("shared", "raw_unix",
                                                        "p50_us")
    rows.append(("zen unix: seq p50 ≤ 1.2 × raw Unix socket",
                 "%.2f× (shared CPU: %.2f×)" % (unix_split, unix_shared),
                 verdict(unix_split, 1.2, False),
                 verdict(unix_shared, 1.2, False), ""))
    # The CPU a call costs, seen with both on one CPU (docs/benchmarks.md,
    # "Round 2").
    shared_p50 = m("shared", "zen", "p50_us") / m("shared", "raw_tcp", "p50_us")
    rows.append(("shared CPU: seq p50 ≤ 1.3 × raw TCP", "%.2f×" % shared_p50,
                 "", verdict(shared_p50, 1.3, False), ""))
    shared_mt = (m("shared", "zen", "mt_calls_per_s") /
                 m("shared", "raw_tcp", "mt_calls_per_s"))
    rows.append(("shared CPU: 8 threads, 1 channel ≥ 0.8 × raw",
                 "%.2f×" % shared_mt, "", verdict(shared_mt, 0.8, True), ""))
    for placement in PLACEMENTS:
        worst = max(
            m(placement, "zen_rate_limits", "p50_us") /
            m(placement, "zen", "p50_us"),
            m(placement, "zen_rate_limits", "p99_us") /
            m(placement, "zen", "p99_us"),
            m(placement, "zen", "mt_calls_per_s") /
            m(placement, "zen_rate_limits", "mt_calls_per_s"))
        rows.append(("calculate_rate_limits within 1.3 × the echo (worst of "
                     "p50, p99, 8 threads), %s" % placement, "%.2f×" % worst,
                     verdict(worst, 1.3, False) if placement == "split" else "",
                     verdict(worst, 1.3, False) if placement == "shared" else "",
                     ""))
    allocs = max(med(echo[p]["zen"], k) for p in PLACEMENTS
                 for k in ("client_allocs_per_call", "server_allocs_per_call"))
    rows.append(("echo: zero heap allocations per call after warm-up "
                 "(< 0.01, both sides)", "%.4f (the larger side)" % allocs,
                 verdict(allocs, 0.01, False), "", ""))
    p99 = med(prop[64], "p99_ms")
    rows.append(("settings change to the last of 64 workers: p99 ≤ 10 ms",
                 "%.2f ms" % p99, "met" if p99 <= 10 else "**missed**", ""))
    hs_ratio = med(hs["zen"], "p50_us") / med(hs["raw_hmac"], "p50_us")
    rows.append(("handshake p50 ≤ 1.2 × raw HMAC exchange",
                 "%.2f×" % hs_ratio, "met" if hs_ratio <= 1.2 else
                 "**missed**", ""))
    z64, r64 = scale[("zen", 64)], scale[("raw", 64)]
    s_ratio = med(z64, "calls_per_s") / med(r64, "calls_per_s")
    rows.append(("64 children: calls/s ≥ 0.8 × raw with 64 connections",
                 "%.2f×" % s_ratio, "met" if s_ratio >= 0.8 else
                 "**missed**", ""))
    errors = sum(r["errors"] for k in SCALE_CHILDREN
                 for r in scale[("zen", k)])
    rows.append(("scale: zero errors", "%d errors" % errors,
                 "met" if errors == 0 else "**missed**", ""))
    rss = med(z64, "rss_per_conn_kib")
    rows.append(("64 children: parent RSS growth ≤ 64 KiB per connection",
                 "%.1f KiB" % rss, "met" if rss <= 64 else "**missed**", ""))
    big = 1024 * 1024
    spliced = med(settings[("agent_server", big)], "server_cpu_us_per_call")
    for variant in ("reprint_simdjson", "reprint_protobuf"):
        r = med(settings[(variant, big)], "server_cpu_us_per_call") / spliced
        rows.append(("settings 1 MiB, AgentServer: ≥ 5 × less server CPU "
                     "than %s" %
                     NAMES[variant], "%.1f×" % r,
                     "met" if r >= 5 else "**missed**", ""))
    cost = [med(settings[("agent_server", b)], "server_cpu_us_per_call")
            for b in SETTINGS_SIZES]
    sizes = [med(settings[("agent_server", b)], "config_bytes")
             for b in SETTINGS_SIZES]
    # Linear: the cost per byte stays put as the size grows tenfold (the
    # fixed per-call cost, ~the whole 1 KiB figure, is amortized by 100 KiB).
    # The marginal slopes are shown too: below ~1 MiB the copy runs from
    # cache, so 1 KiB→100 KiB is cheaper per extra byte than 100 KiB→1 MiB.
    per_kib = [c / (b / 1024.0) for c, b in zip(cost, sizes)]
    lin = per_kib[2] / per_kib[1] if per_kib[1] > 0 else float("nan")
    marginal_low = (cost[1] - cost[0]) / (sizes[1] - sizes[0])
    marginal_high = (cost[2] - cost[1]) / (sizes[2] - sizes[1])
    rows.append(("settings, AgentServer: cost linear in size (server CPU per "
                 "KiB at 1 MiB ÷ at 100 KiB within 0.75–1.33)",
                 "%.2f (%.3f vs %.3f µs/KiB; per extra KiB: %.3f from 1 KiB "
                 "to 100 KiB, %.3f from 100 KiB to 1 MiB)" % (
                     lin, per_kib[2], per_kib[1], marginal_low * 1024,
                     marginal_high * 1024),
                 "met" if 0.75 <= lin <= 1.33 else "**missed**", ""))
    return rows


def write_plot(out_dir, data, reps):
    names = {"raw_tcp": "raw-TCP", "raw_unix": "raw-Unix", "zen": "zen",
             "zen_spin": "zen-spin", "zen_unix": "zen-Unix",
             "zen_rate_limits": "zen-rate-limits",
             "grpc": "gRPC", "python": "Python-mp"}
    for placement in PLACEMENTS:
        with open(os.path.join(out_dir, "echo_%s.dat" % placement), "w") as f:
            f.write("# system p50_us p99_us calls_per_s mt_calls_per_s\n")
            for p, system, p50, p99, cps, mt in data:
                if p == placement:
                    f.write("%s %.3f %.3f %.1f %s\n" % (
                        names[system], p50, p99, cps,
                        "%.1f" % mt if mt > 0 else "?"))
    png = os.path.join(out_dir, "benchmarks.png")
    if shutil.which("gnuplot") is None:
        sys.stderr.write("gnuplot not found: no plot (tools/setup.sh --bench)\n")
        return None
    subprocess.run(["gnuplot", "-e", "outdir='%s'; reps=%d" % (out_dir, reps),
                    os.path.join(HERE, "plot.gp")], check=True)
    return png


def render(results, micro, info, started, elapsed, reps, load_before,
           load_after, niceness, out_dir):
    """The report's markdown, and the plot's path (None without gnuplot)."""
    echo, hs = results["echo"], results["handshake"]
    scale, settings = results["scale"], results["settings"]
    lines = []
    lines.append("Run of %s, %.0f s; each figure is the median of %d "
                 "repetitions (%d for the echo tables), systems interleaved."
                 % (started.strftime("%Y-%m-%d %H:%M"), elapsed, reps,
                    len(echo["split"]["zen"])))
    lines.append("")
    lines.append("- machine: %s, Linux %s; load average %.2f before, %.2f "
                 "after (other processes share this VM)" % (
                     info["cpu"], info["kernel"], load_before, load_after))
    lines.append("- versions: %s; %s" % (info["versions"], info["python"]))
    lines.append("- commit: %s; `-c opt`; every process at %s" % (
        info["commit"], niceness))
    lines.append("")
    data = []
    for placement, title in PLACEMENTS.items():
        runs = echo[placement]["zen"][0]
        lines.append("### Echo, %s%s" % (
            title, " (main table)" if placement == "split" else ""))
        lines.append("")
        lines.append("44-byte JSON value, %d sequential calls after %s "
                     "warm-up calls, then 8 threads sharing one connection "
                     "for %d calls in all." % (runs["seq_calls"], "2,000",
                                                runs["mt_calls"]))
        lines.append("")
        echo_tables(echo, placement, lines, data)

    lines.append("### Targets")
    lines.append("")
    lines.append("| target | measured (main table) | main | shared CPU | "
                 "main, opt-in spin |")
    lines.append("|---|---|---|---|---|")
    for row in targets(echo, hs, scale, settings, results["propagation"]):
        row = tuple(row) + ("",) * (5 - len(row))
        lines.append("| %s | %s | %s | %s | %s |" % row)
    lines.append("")

    lines.append("### Handshake: connect + authenticate")
    lines.append("")
    lim = med(hs["raw_hmac"], "p50_us")
    lines.append("| system | p50 (µs) | p99 (µs) | p50 ÷ raw HMAC | errors |")
    lines.append("|---|---:|---:|---:|---:|")
    for system in hs:
        runs = hs[system]
        label = NAMES.get(system, system)
        if system == "zen":
            label = "**zen** ipc::Connect (TCP + mutual HMAC)"
        elif system == "grpc":
            label = "gRPC channel creation + first call"
        elif system == "python":
            label = "Python Client(authkey=...)"
        lines.append("| %s | %s | %s | %s | %d |" % (
            label, fmt(med(runs, "p50_us")), fmt(med(runs, "p99_us")),
            ratio(med(runs, "p50_us"), lim),
            sum(r["errors"] for r in runs)))
    lines.append("")

    lines.append("### Scale: children calling the parent at once")
    lines.append("")
    lines.append("Each child has its own connection (server threads on CPU "
                 "0, children on CPU 1); RSS and threads are the parent's "
                 "with every connection open, growth counted from before "
                 "the first connection.")
    lines.append("")
    lines.append("| children | raw calls/s | zen calls/s | zen ÷ raw | raw "
                 "p99 (µs) | zen p99 (µs) | zen errors | RSS growth per conn "
                 "(KiB): raw / zen | parent threads: raw / zen | server CPU "
                 "per call (µs): raw / zen | client CPU per call (µs): raw "
                 "/ zen | zen reliefs |")
    lines.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
                 "---:|")
    for k in SCALE_CHILDREN:
        r, z = scale[("raw", k)], scale[("zen", k)]
        lines.append("| %d | %s | %s | %s | %s | %s | %d | %s / %s | %d / %d "
                     "| %s / %s | %s / %s | %s |"
                     % (k, fmt(med(r, "calls_per_s")),
                        fmt(med(z, "calls_per_s")),
                        ratio(med(z, "calls_per_s"), med(r, "calls_per_s")),
                        fmt(med(r, "p99_us")), fmt(med(z, "p99_us")),
                        sum(x["errors"] for x in z),
                        fmt(med(r, "rss_per_conn_kib")),
                        fmt(med(z, "rss_per_conn_kib")),
                        med(r, "threads_peak"), med(z, "threads_peak"),
                        fmt(med(r, "server_cpu_us_per_call")),
                        fmt(med(z, "server_cpu_us_per_call")),
                        fmt(med(r, "client_cpu_us_per_call")),
                        fmt(med(z, "client_cpu_us_per_call")),
                        fmt(med(z, "server_reliefs"), 0)))
    lines.append("")

    lines.append("### Settings pull: `updated_settings` with a cached config")
    lines.append("")
    lines.append("| config | how the response is built | server CPU per call "
                 "(µs) | wall per call (µs) | config MB/s | server CPU ÷ "
                 "AgentServer's | reliefs |")
    lines.append("|---:|---|---:|---:|---:|---:|---:|")
    for size in SETTINGS_SIZES:
        base = med(settings[("agent_server", size)], "server_cpu_us_per_call")
        for variant in SETTINGS_VARIANTS:
            runs = settings[(variant, size)]
            cpu = med(runs, "server_cpu_us_per_call")
            lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                "%d KiB" % (size // 1024) if size < 1024 * 1024 else "1 MiB",
                NAMES[variant], fmt(cpu), fmt(med(runs, "wall_us_per_call")),
                fmt(med(runs, "bytes_per_s") / 1e6), ratio(cpu, base),
                fmt(med(runs, "server_reliefs"), 0)))
    lines.append("")

    prop = results["propagation"]
    lines.append("### Settings propagation: `UpdateConfig` to the last "
                 "worker's apply")
    lines.append("")
    lines.append("Each worker keeps one `watch_settings` call parked in the "
                 "parent (bench/settings_propagation: 100 updates, the time "
                 "from `AgentServer::UpdateConfig` to the last worker's "
                 "`on_settings`).")
    lines.append("")
    lines.append("| workers | p50 (ms) | p99 (ms) | max (ms) | parent CPU "
                 "idle, watches parked (ms per s) |")
    lines.append("|---:|---:|---:|---:|---:|")
    for n in PROPAGATION_WORKERS:
        runs = prop[n]
        lines.append("| %d | %s | %s | %s | %s |" % (
            n, fmt(med(runs, "p50_ms"), 2), fmt(med(runs, "p99_ms"), 2),
            fmt(med(runs, "max_ms"), 2),
            fmt(med(runs, "idle_parent_cpu_ms_per_s"), 2)))
    poll = prop["poll"]
    lines.append("| 64, polling every 1 s (watch off) | %s | %s | %s | %s |" % (
        fmt(med(poll, "p50_ms"), 0), fmt(med(poll, "p99_ms"), 0),
        fmt(med(poll, "max_ms"), 0),
        fmt(med(poll, "idle_parent_cpu_ms_per_s"), 2)))
    lines.append("")
    lines.append("The reference's workers poll every %d s: a change reaches "
                 "the last of them up to %d s later (%d s on average for "
                 "one worker). The idle parent CPU with watches parked is "
                 "the workers' keepalive pings (one per worker every 4 s)."
                 % (REFERENCE_POLL_S, REFERENCE_POLL_S, REFERENCE_POLL_S // 2))
    lines.append("")

    lines.append("### Micro (Google Benchmark, median of 3, CPU time)")
    lines.append("")
    lines.append("| benchmark | time per op |")
    lines.append("|---|---:|")
    for name, t, unit in micro:
        lines.append("| %s | %s %s |" % (name, fmt(t, 1), unit))
    lines.append("")

    png = write_plot(out_dir, data, len(echo["split"]["zen"]))
    if png:
        lines.append("![latency and throughput per system](benchmarks.png)")
        lines.append("")
    return "\n".join(lines), png
