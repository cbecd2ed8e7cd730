"""cc_grpc_library: gRPC C++ stubs from Debian's grpc_cpp_plugin, offline.

For benchmarks that measure gRPC as a peer (bench/); the library itself does
not use gRPC.

    load("//tools:grpc.bzl", "cc_grpc_library")

    cc_grpc_library(
        name = "echo_grpc",
        srcs = [":echo_proto"],
        deps = [":echo_cc_proto"],
    )

makes `echo.grpc.pb.h` / `echo.grpc.pb.cc` (included as
"<package>/echo.grpc.pb.h") and a cc_library `echo_grpc` holding them, linked
with `pkg-config grpc++` (the @system_grpc repository).
"""

_SUFFIXES = [".grpc.pb.h", ".grpc.pb.cc"]

def _grpc_gen_impl(ctx):
    srcs = []
    outs = []
    descriptor_sets = []
    for dep in ctx.attr.srcs:
        info = dep[ProtoInfo]
        descriptor_sets.append(info.transitive_descriptor_sets)
        for src in info.direct_sources:
            if src.owner.package != ctx.label.package:
                fail("%s must be in package //%s" % (src.short_path, ctx.label.package))
            srcs.append(src)
            stem = src.basename[:-len(".proto")]
            for suffix in _SUFFIXES:
                outs.append(ctx.actions.declare_file(stem + suffix))

    out_dir = ctx.bin_dir.path
    if ctx.label.workspace_root:
        out_dir += "/" + ctx.label.workspace_root
    transitive = depset(transitive = descriptor_sets)
    args = ctx.actions.args()
    args.add("--plugin=protoc-gen-grpc=" + ctx.executable._plugin.path)
    args.add("--grpc_out=" + out_dir)
    args.add_joined(transitive, join_with = ":", format_joined = "--descriptor_set_in=%s")
    args.add_all([src.short_path for src in srcs])
    ctx.actions.run(
        executable = ctx.executable._protoc,
        arguments = [args],
        inputs = transitive,
        tools = [ctx.executable._plugin],
        outputs = outs,
        mnemonic = "GrpcGen",
        progress_message = "Generating gRPC stubs for %s" % ctx.label,
    )
    return [DefaultInfo(files = depset(outs))]

grpc_gen = rule(
    implementation = _grpc_gen_impl,
    doc = "Runs grpc_cpp_plugin on the direct sources of `srcs`.",
    attrs = {
        "srcs": attr.label_list(providers = [ProtoInfo], mandatory = True),
        "_plugin": attr.label(
            default = Label("@system_grpc//:grpc_cpp_plugin"),
            executable = True,
            cfg = "exec",
            allow_single_file = True,
        ),
        "_protoc": attr.label(
            default = Label("@com_google_protobuf//:protoc"),
            executable = True,
            cfg = "exec",
            allow_single_file = True,
        ),
    },
)

def cc_grpc_library(name, srcs, deps, visibility = None, tags = None, **kwargs):
    """A cc_library of the gRPC service classes generated for `srcs`.

    Args:
      name: the cc_library's name; the generation step is `name + "_gen"`.
      srcs: proto_library targets (in this package).
      deps: the cc_proto_library of `srcs`.
      visibility: of both targets.
      tags: of both targets (benchmarks pass ["manual"]).
      **kwargs: passed to the cc_library.
    """
    grpc_gen(name = name + "_gen", srcs = srcs, visibility = visibility, tags = tags)
    native.cc_library(
        name = name,
        srcs = [":" + name + "_gen"],
        hdrs = [":" + name + "_gen"],
        deps = deps + [Label("@system_grpc//:grpc++")],
        visibility = visibility,
        tags = tags,
        **kwargs
    )
