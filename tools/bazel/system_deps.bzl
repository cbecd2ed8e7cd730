"""Repository rules that wire Debian's system packages into Bazel 4, offline.

Nothing here downloads: every rule reads files that Debian packages installed
(see tools/setup.sh for the list). Rules marked `local = True` run again at
every Bazel server start, so each of them is kept cheap (no pkg-config call per
Abseil module, for example).
"""

def _system_rules_cc_impl(rctx):
    # Debian ships rules_cc, but two of its files ask for `use_cpp_toolchain`,
    # which Bazel 4 does not have. Symlink the tree and patch those two.
    root = "/usr/share/bazel/rules/cc"
    patched = [
        "cc/private/rules_impl/cc_flags_supplier.bzl",
        "cc/private/rules_impl/compiler_flag.bzl",
    ]
    found = rctx.execute(["find", root, "-type", "f"])
    if found.return_code != 0:
        fail("rules_cc not found under %s: install bazel-rules-cc" % root)
    for path in found.stdout.split("\n"):
        if not path:
            continue
        rel = path[len(root) + 1:]
        if rel in patched:
            text = rctx.read(path)
            text = text.replace(', "use_cpp_toolchain")', ")")
            text = text.replace("use_cpp_toolchain()", '["@bazel_tools//tools/cpp:toolchain_type"]')
            rctx.file(rel, text)
        else:
            rctx.symlink(path, rel)

system_rules_cc = repository_rule(implementation = _system_rules_cc_impl, local = True)

def _empty_coverage_tools_impl(rctx):
    # cc_test needs these labels to exist; coverage itself is not used.
    rctx.file("WORKSPACE", "")
    rctx.file("BUILD", """
package(default_visibility = ["//visibility:public"])
filegroup(name = "coverage_report_generator")
filegroup(name = "lcov_merger")
""")

empty_coverage_tools = repository_rule(implementation = _empty_coverage_tools_impl)

_WELL_KNOWN_PROTOS = {
    "any": [],
    "api": ["source_context", "type"],
    "descriptor": [],
    "duration": [],
    "empty": [],
    "field_mask": [],
    "source_context": [],
    "struct": [],
    "timestamp": [],
    "type": ["any", "source_context"],
    "wrappers": [],
}

def _system_protobuf_impl(rctx):
    protoc = rctx.which("protoc")
    if not protoc:
        fail("protoc not found: install protobuf-compiler")
    rctx.symlink(protoc, "protoc")
    build = [
        'package(default_visibility = ["//visibility:public"])',
        'exports_files(["protoc"])',
        'cc_library(name = "protobuf", linkopts = ["-lprotobuf", "-pthread"])',
        'cc_library(name = "protobuf_lite", linkopts = ["-lprotobuf-lite", "-pthread"])',
        'cc_library(name = "protoc_lib", linkopts = ["-lprotoc"], deps = [":protobuf"])',
    ]
    include = "/usr/include/google/protobuf/"
    for name, deps in _WELL_KNOWN_PROTOS.items():
        rctx.symlink(include + name + ".proto", "google/protobuf/" + name + ".proto")
        build.append('proto_library(name = "%s_proto", srcs = ["google/protobuf/%s.proto"], deps = [%s])' % (
            name,
            name,
            ", ".join(['":%s_proto"' % d for d in deps]),
        ))
    rctx.symlink(include + "compiler/plugin.proto", "google/protobuf/compiler/plugin.proto")
    build.append('proto_library(name = "compiler_plugin_proto", srcs = ["google/protobuf/compiler/plugin.proto"], deps = [":descriptor_proto"])')

    # Well-known types are compiled into libprotobuf already; generating them
    # again would be a second (ODR-violating) copy.
    denied = ['":%s_proto"' % n for n in _WELL_KNOWN_PROTOS.keys()] + ['":compiler_plugin_proto"']
    build.append('proto_lang_toolchain(name = "cc_toolchain", command_line = "--cpp_out=$(OUT)", runtime = ":protobuf", blacklisted_protos = [%s])' % ", ".join(denied))
    rctx.file("WORKSPACE", "")
    rctx.file("BUILD", "\n".join(build) + "\n")

system_protobuf = repository_rule(implementation = _system_protobuf_impl, local = True)

def _system_pkg_config_impl(rctx):
    # One shell call for every module: pkg-config costs ~45 ms a call.
    names = list(rctx.attr.packages.keys())
    modules = [rctx.attr.packages[n] for n in names]
    script = 'for m in "$@"; do printf "%s\\n" "$(pkg-config --libs "$m")"; printf "%s\\n" "$(pkg-config --cflags "$m")"; printf "%s\\n" "$(pkg-config --modversion "$m")"; done'
    result = rctx.execute(["sh", "-c", script, "sh"] + modules)
    if result.return_code != 0:
        fail("pkg-config failed: " + result.stderr)
    lines = result.stdout.split("\n")
    build = ['package(default_visibility = ["//visibility:public"])']
    for i, name in enumerate(names):
        libs = [f for f in lines[3 * i].split(" ") if f]
        cflags = [f for f in lines[3 * i + 1].split(" ") if f]
        version = lines[3 * i + 2].strip()
        if not libs:
            # Not installed: only the targets that use it fail, when built,
            # so the main job builds without the test-only libraries
            # (tools/setup.sh installs them with --tests).
            message = "pkg-config found nothing for %s: install its -dev package (tools/setup.sh --tests installs what the tests need)" % modules[i]
            build.append("genrule(name = %r, outs = [%r], cmd = %r)" % (
                name + "_missing",
                name + "_missing.h",
                "echo %s >&2; exit 1" % repr(message),
            ))
            build.append("cc_library(name = %r, hdrs = [%r])" % (name, ":" + name + "_missing.h"))
            continue
        defines = []
        for f in cflags:
            if f.startswith("-D"):
                defines.append(f[2:])
            elif f.startswith("-I"):
                fail("unexpected include path %s for %s" % (f, modules[i]))
        # The library's version on every command line compiled against it:
        # system headers are not action inputs, so this makes an upgrade
        # rebuild what uses them, and keeps test-only libraries (gtest) out
        # of ZEN_SYSDEPS_KEY, which the main job's build shares.
        defines.append("ZEN_SYSDEP_%s_VERSION=%s" % (name.upper(), version))
        build.append("cc_library(name = %r, linkopts = %r, defines = %r)" % (name, libs, defines))
    rctx.file("WORKSPACE", "")
    rctx.file("BUILD", "\n".join(build) + "\n")

system_pkg_config = repository_rule(
    implementation = _system_pkg_config_impl,
    attrs = {"packages": attr.string_dict(mandatory = True)},
    local = True,
    # Made anew when the installed libraries change (tools/sysdeps_key.sh
    # --system-libs): a library installed after the first build (gtest, by
    # the test tier) is then found instead of staying "not installed".
    environ = ["ZEN_SYSTEM_LIBS_KEY"],
)

# Where upstream Abseil puts each library; .pc files do not record it.
_ABSL_DIRS = {
    "base": "base",
    "core_headers": "base",
    "log_severity": "base",
    "raw_logging_internal": "base",
    "spinlock_wait": "base",
    "throw_delegate": "base",
    "malloc_internal": "base",
    "strerror": "base",
    "status": "status",
    "statusor": "status",
    "strings": "strings",
    "str_format": "strings",
    "str_format_internal": "strings",
    "cord": "strings",
    "flat_hash_map": "container",
    "flat_hash_set": "container",
    "node_hash_map": "container",
    "node_hash_set": "container",
    "inlined_vector": "container",
    "fixed_array": "container",
    "btree": "container",
    "synchronization": "synchronization",
    "time": "time",
    "time_zone": "time",
    "civil_time": "time",
    "random_random": "random",
    "random_bit_gen_ref": "random",
    "hash": "hash",
    "optional": "types",
    "variant": "types",
    "span": "types",
    "memory": "memory",
    "utility": "utility",
    "cleanup": "cleanup",
    "function_ref": "functional",
    "any_invocable": "functional",
    "bind_front": "functional",
    "numeric": "numeric",
    "int128": "numeric",
    "bits": "numeric",
    "algorithm": "algorithm",
    "algorithm_container": "algorithm",
    "flags": "flags",
    "flags_parse": "flags",
    "debugging": "debugging",
    "stacktrace": "debugging",
    "symbolize": "debugging",
    "failure_signal_handler": "debugging",
}

# Upstream target names that differ from the .pc module name.
_ABSL_ALIASES = {"random_random": "random"}

def _system_abseil_impl(rctx):
    pcdir = rctx.path("/usr/lib/x86_64-linux-gnu/pkgconfig")
    if not pcdir.exists:
        fail("pkg-config directory missing")
    packages = {}  # dir -> list of target strings
    for entry in pcdir.readdir():
        base = entry.basename
        if not (base.startswith("absl_") and base.endswith(".pc")):
            continue
        name = base[len("absl_"):-len(".pc")]
        text = rctx.read(entry)
        requires = []
        linkopts = []
        defines = []
        for line in text.split("\n"):
            if line.startswith("Requires:"):
                for req in line[len("Requires:"):].split(","):
                    req = req.strip()
                    if not req:
                        continue
                    req = req.split(" ")[0]
                    if req.startswith("absl_"):
                        dep = req[len("absl_"):]
                        requires.append("//absl/%s:%s" % (_ABSL_DIRS.get(dep, "."), dep) if dep in _ABSL_DIRS else "//absl:%s" % dep)
            elif line.startswith("Libs:"):
                for f in line[len("Libs:"):].split(" "):
                    if f and not f.startswith("-L"):
                        linkopts.append(f)
            elif line.startswith("Cflags:"):
                for f in line[len("Cflags:"):].split(" "):
                    if f.startswith("-D"):
                        defines.append(f[2:])
        d = _ABSL_DIRS.get(name, "")
        rule = "cc_library(name = %r, deps = %r, linkopts = %r, defines = %r)" % (name, requires, linkopts, defines)
        packages.setdefault(d, []).append(rule)
        if name in _ABSL_ALIASES:
            packages[d].append("alias(name = %r, actual = %r)" % (_ABSL_ALIASES[name], ":" + name))
    if not packages:
        fail("no absl_*.pc found: install libabsl-dev")
    rctx.file("WORKSPACE", "")
    header = 'package(default_visibility = ["//visibility:public"])\n'
    for d, rules in packages.items():
        path = "absl/BUILD" if d == "" else "absl/%s/BUILD" % d
        rctx.file(path, header + "\n".join(rules) + "\n")
    rctx.file("BUILD", "")

system_abseil = repository_rule(implementation = _system_abseil_impl, local = True)

def _system_grpc_impl(rctx):
    # gRPC is a benchmark peer only (bench/, targets tagged manual), so this
    # repository is fetched only when such a target is built: `bazel test
    # //...` never pays for the pkg-config call (about 1.5 s here).
    plugin = rctx.which("grpc_cpp_plugin")
    if not plugin:
        fail("grpc_cpp_plugin not found: install protobuf-compiler-grpc (tools/setup.sh)")
    rctx.symlink(plugin, "grpc_cpp_plugin")
    result = rctx.execute(["pkg-config", "--libs", "--cflags", "grpc++"])
    if result.return_code != 0:
        fail("pkg-config grpc++ failed: install libgrpc++-dev (tools/setup.sh): " + result.stderr)
    linkopts = []
    defines = []
    for f in result.stdout.strip().split(" "):
        if not f:
            continue
        if f.startswith("-D"):
            defines.append(f[2:])
        elif f.startswith("-I"):
            fail("unexpected include path %s for grpc++" % f)
        elif f.startswith("-l") and f in linkopts:
            continue  # pkg-config repeats the Abseil libraries many times.
        else:
            linkopts.append(f)
    rctx.file("WORKSPACE", "")
    rctx.file("BUILD", "\n".join([
        'package(default_visibility = ["//visibility:public"])',
        'exports_files(["grpc_cpp_plugin"])',
        "cc_library(name = \"grpc++\", linkopts = %r, defines = %r, deps = [\"@com_google_protobuf//:protobuf\"])" % (linkopts, defines),
    ]) + "\n")

system_grpc = repository_rule(implementation = _system_grpc_impl, local = True)
