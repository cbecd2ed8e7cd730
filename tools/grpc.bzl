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

load("//tools:proto_plugin.bzl", "proto_plugin_attrs", "run_proto_plugin")

def _grpc_gen_impl(ctx):
    outs = run_proto_plugin(
        ctx,
        plugin = ctx.executable._plugin,
        plugin_name = "grpc",
        suffixes = [".grpc.pb.h", ".grpc.pb.cc"],
        mnemonic = "GrpcGen",
    )
    return [DefaultInfo(files = depset(outs))]

grpc_gen = rule(
    implementation = _grpc_gen_impl,
    doc = "Runs grpc_cpp_plugin on the direct sources of `srcs`.",
    attrs = proto_plugin_attrs(Label("@system_grpc//:grpc_cpp_plugin")),
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
