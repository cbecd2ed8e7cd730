#!/usr/bin/env python3
"""Fails, naming each, when a tracked shell script runs a program that
neither tools/setup.sh installs nor a minimal Debian 12 has.

A fresh machine (debootstrap --variant=minbase, plus ca-certificates and
git) has only what tools/ci/minbase_packages.txt lists; tools/setup.sh
installs its PACKAGES and what they depend on. A test script that runs
anything else passes where a developer happens to have it and fails for a
new user (a test once ran `curl`).

Usage: programs_check.py WORKSPACE
For each command word of each tracked *.sh file (the first word of a simple
command, after `|`, `;`, `&&`, `||`, `$(`, `then`, `do`, ...; builtins,
keywords, functions the script defines, variables and paths are skipped;
quoted text, comments and here-document bodies are data),
the program is looked up in Debian's bin directories, its package found in
dpkg's file lists,
and that package must be in the minbase list or in the dependency closure
of setup.sh's packages (`apt-cache depends --recurse`, Depends and
Pre-Depends only). A program that is not installed at all fails too in a
script a test runs (named in a BUILD file) or the quick start runs; in any
other script (the benchmarks', fuzzing's, the fresh check's: each runs
where its own tier is installed) only a program from an unlisted package
fails.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

# bash builtins and keywords: never a program.
_BUILTINS = set("""
! [[ ]] { } case coproc do done elif else esac fi for function if in select then
time until while alias bg bind break builtin caller cd command compgen complete
compopt continue declare dirs disown echo enable eval exec exit export false fc
fg getopts hash help history jobs kill let local logout mapfile popd printf
pushd pwd read readarray readonly return set shift shopt source suspend test
times trap true type typeset ulimit umask unalias unset wait . : [
""".split())
# Words after which the next word is again a command.
_PREFIXES = {"then", "do", "else", "elif", "if", "while", "until", "!", "time",
             "exec", "command", "{", "timeout", "nice", "env", "sudo", "nohup",
             "xargs", "$SUDO"}
# Options of prefixes that take a value (`timeout -s KILL 5 cmd`).
_SEPARATORS = re.compile(r"\|\||&&|[;|&(`]|\$\(")


def tracked_scripts(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "--", "*.sh"],
                             check=True, capture_output=True, text=True).stdout
        files = [f for f in out.splitlines() if f]
        if files:
            return files
    except (OSError, subprocess.CalledProcessError):
        pass
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames
                       if d != ".git" and not d.startswith("bazel-")]
        found += [os.path.relpath(os.path.join(dirpath, f), root)
                  for f in filenames if f.endswith(".sh")]
    return sorted(found)


def _matching_paren(text, i):
    """Index just past the `)` closing the `(` before text[i]; quotes and
    nested parentheses are skipped. len(text) if it never closes."""
    depth = 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            j = text.find("'", i + 1)
            i = len(text) if j < 0 else j + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)


def tokens(text):
    """Splits shell text into words and operators ("\n", ";", "|", "&",
    "(", ")"). Quoted text stays inside its word; a `$(...)` or backtick
    command anywhere (in double quotes too) is scanned on its own and its
    tokens are yielded as ("SUB", tokens). Comments and here-document
    bodies are dropped; a backslash-newline joins lines."""
    out, word, i, heredocs = [], "", 0, []

    def flush():
        nonlocal word
        if word:
            out.append(word)
            word = ""

    while i < len(text):
        c = text[i]
        if c == "\\":
            if text[i + 1:i + 2] != "\n":
                word += text[i:i + 2]
            i += 2
        elif c == "'":
            j = text.find("'", i + 1)
            j = len(text) if j < 0 else j
            word += text[i:j + 1]
            i = j + 1
        elif c == '"':
            j = i + 1
            while j < len(text) and text[j] != '"':
                if text[j] == "\\":
                    j += 2
                    continue
                if text.startswith("$(", j) and not text.startswith("$((", j):
                    k = _matching_paren(text, j + 2)
                    out.append(("SUB", tokens(text[j + 2:k - 1])))
                    j = k
                    continue
                j += 1
            word += '""'
            i = j + 1
        elif text.startswith("$((", i) or (text.startswith("((", i) and not word):
            start = i + (3 if c == "$" else 2)
            k = _matching_paren(text, _matching_paren(text, start))
            word += "0"
            i = k
        elif text.startswith("$(", i) or c == "`":
            if c == "`":
                k = text.find("`", i + 1)
                k = len(text) if k < 0 else k
                inner, i = text[i + 1:k], k + 1
            else:
                k = _matching_paren(text, i + 2)
                inner, i = text[i + 2:k - 1], k
            out.append(("SUB", tokens(inner)))
            word += "$x"
        elif c == "$" and text.startswith("${", i):
            k = text.find("}", i)
            word += "$x"
            i = len(text) if k < 0 else k + 1
        elif c == "#" and not word:
            k = text.find("\n", i)
            i = len(text) if k < 0 else k
        elif text.startswith("<<", i) and not text.startswith("<<<", i):
            m = re.match(r"<<-?\s*(['\"]?)(\w+)\1", text[i:])
            if m:
                heredocs.append(m.group(2))
                i += m.end()
            else:
                word += c
                i += 1
        elif c == "\n":
            flush()
            out.append("\n")
            i += 1
            while heredocs:  # Bodies start on the next line.
                end = heredocs.pop(0)
                m = re.compile(r"^\s*" + re.escape(end) + r"\s*$", re.M).search(text, i)
                i = len(text) if m is None else m.end()
        elif c in ";|&()":
            flush()
            out.append(c)
            i += 1
        elif c in " \t":
            flush()
            i += 1
        else:
            word += c
            i += 1
    flush()
    return out


def command_words(text):
    """Yields each word in command position (the program a simple command
    runs), in the script and in its command substitutions."""
    functions = set(re.findall(r"^\s*(?:function\s+)?([\w-]+)\s*\(\)", text,
                               re.M))
    yield from _commands(tokens(text), functions)


def _commands(toks, functions):
    at_start, in_array, in_case = True, False, 0
    for i, t in enumerate(toks):
        if isinstance(t, tuple):
            yield from _commands(t[1], functions)
            continue
        if in_array:  # NAME=( words ) spans lines: data.
            in_array = t != ")"
            continue
        if t in ("\n", ";", "|", "&", "("):
            at_start = True
            continue
        if t == ")":
            at_start = True  # After a case pattern or a subshell.
            continue
        if not at_start:
            if t == "case":
                in_case += 1
            continue
        if re.match(r"^[A-Za-z_]\w*(\[[^]]*\])?\+?=", t):
            if t.endswith("=") and i + 1 < len(toks) and toks[i + 1] == "(":
                in_array = True
            continue  # An assignment before (or instead of) a command.
        if t in _PREFIXES:
            continue
        if at_start and (t.startswith("-") or re.match(r"^[\d.]+[smhd]?$", t)) \
                and i > 0 and toks[i - 1] in _PREFIXES | {"timeout"}:
            continue  # A prefix's option or timeout's duration.
        at_start = False
        if t == "esac":
            in_case -= 1
            continue
        if t in _BUILTINS or t in functions or not re.match(r"^[A-Za-z][\w.+-]*$", t):
            continue
        if i + 1 < len(toks) and toks[i + 1] == ")" and in_case:
            continue  # A case pattern.
        yield t


_BIN_DIRS = ("/usr/sbin", "/usr/bin", "/sbin", "/bin")


def installed_programs():
    """Maps each program in Debian's bin directories to its package, from
    dpkg's file lists (one read; `dpkg -S` costs ~0.4 s a call). Paths are
    keyed without /usr: Debian 12 merges /bin into /usr/bin."""
    owners = {}
    for listing in pathlib.Path("/var/lib/dpkg/info").glob("*.list"):
        package = listing.name[:-len(".list")].split(":")[0]
        for line in listing.read_text(errors="replace").splitlines():
            if line.startswith(_BIN_DIRS):
                owners.setdefault(re.sub(r"^/usr", "", line), package)
    return owners


def package_of(program, owners):
    # Debian's directories only: what /usr/local or a user's PATH holds is
    # on no fresh machine.
    path = shutil.which(program, path=":".join(_BIN_DIRS))
    if path is None:
        return None, "not installed"
    for candidate in (path, os.path.realpath(path)):
        package = owners.get(re.sub(r"^/usr", "", candidate))
        if package:
            return package, None
    return None, f"{path} belongs to no Debian package"


def setup_packages(root):
    text = (pathlib.Path(root) / "tools/setup.sh").read_text()
    names = set()
    for block in re.findall(r"PACKAGES\+?=\(([^)]*)\)", text, re.S):
        for line in block.splitlines():
            line = line.split("#")[0]
            names.update(w for w in line.split() if re.match(r"^[a-z0-9.+-]+$", w))
    return names


def closure(packages):
    r = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends",
         "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
         "--no-enhances"] + sorted(packages),
        capture_output=True, text=True)
    names = set(packages)
    for line in r.stdout.splitlines():
        m = re.match(r"^\s*(?:\|)?(?:Pre)?Depends:\s*<?([^>\s:]+)", line)
        if m:
            names.add(m.group(1))
        elif line and not line.startswith(" "):
            names.add(line.strip().split(":")[0])
    return names


def test_scripts(root, scripts):
    """The scripts a test runs: those a BUILD file names (an sh_test's srcs,
    a target's data), and the README's two commands with what they run."""
    named = {"tools/run_main.sh", "tools/run_tests.sh", "tools/setup.sh"}
    for build in pathlib.Path(root).rglob("BUILD.bazel"):
        if any(part.startswith("bazel-") or part == ".git"
               for part in build.relative_to(root).parts):
            continue
        package = build.parent.relative_to(root)
        for name in re.findall(r'"([^":]+\.sh)"', build.read_text(errors="replace")):
            named.add(str(package / name) if str(package) != "." else name)
    return [s for s in scripts if s in named]


def main(argv):
    root = argv[1] if len(argv) > 1 else "."
    minbase = set(
        (pathlib.Path(root) / "tools/ci/minbase_packages.txt").read_text().split())
    allowed = minbase | closure(setup_packages(root))
    owners = installed_programs()
    scripts = tracked_scripts(root)
    strict = set(test_scripts(root, scripts))
    problems, checked = [], {}
    for script in scripts:
        text = (pathlib.Path(root) / script).read_text(errors="replace")
        for program in command_words(text):
            if program not in checked:
                package, why = package_of(program, owners)
                if why is None and package not in allowed:
                    why = (f"from package {package}, which neither "
                           "tools/setup.sh installs nor minbase has")
                checked[program] = (why, package is None)
            why, not_installed = checked[program]
            # Other scripts (benchmarks, fuzzing, the fresh check) run where
            # their own setup.sh tier is installed: a program missing here is
            # not a finding for them, one from an unlisted package is.
            if why and (script in strict or not not_installed):
                problems.append(f"{script}: runs `{program}`: {why}")
    for p in problems:
        print(p)
    print(f"programs_check: {len(checked)} programs in {len(scripts)} "
          f"scripts ({len(strict)} run by tests or the quick start), "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
