#!/usr/bin/env python3
"""Runs gcc and appends the CPU time it took to a log, for measuring builds.

Wall time on a shared 2-core machine says little about what a build costs;
the user + system CPU of each compiler run (gcc and the cc1plus and as it
waits for) does. Given to Bazel as the compiler, with a fresh output base
and no disk cache (docs/build.md, "Compile CPU, file by file"):

  bazel --output_base=/tmp/ob build --disk_cache= --spawn_strategy=local \
      --repo_env=CC=$PWD/tools/bazel/gcc_cpu_log.py //...

Each run appends "compile|other CPU_SECONDS MAX_RSS_KIB OUTPUT" to
/tmp/zen_gcc_cpu.log (a fixed path: Bazel clears the actions' environment).
--spawn_strategy=local because the sandbox would not let it write there.
Measurement only: nothing in the build uses it.
"""
import os
import sys

LOG = "/tmp/zen_gcc_cpu.log"


def main():
    args = sys.argv[1:]
    pid = os.fork()
    if pid == 0:
        os.execv("/usr/bin/gcc", ["/usr/bin/gcc"] + args)
    _, status, usage = os.wait4(pid, 0)
    output = "?"  # links pass their arguments in a params file
    for i, arg in enumerate(args[:-1]):
        if arg == "-o":
            output = args[i + 1]
    kind = "compile" if "-c" in args else "other"
    with open(LOG, "a") as log:
        log.write("%s %.3f %d %s\n" % (kind, usage.ru_utime + usage.ru_stime,
                                       usage.ru_maxrss, output))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
