"""zen_cc_rpc_library: typed RPC stubs for .proto services, via protoc-gen-zenrpc.

    load("//tools:zen_rpc.bzl", "zen_cc_rpc_library")

    proto_library(name = "echo_proto", srcs = ["echo.proto"], deps = [...])
    cc_proto_library(name = "echo_cc_proto", deps = [":echo_proto"])
    zen_cc_rpc_library(
        name = "echo_zenrpc",
        srcs = [":echo_proto"],
        deps = [":echo_cc_proto"],
    )

makes `echo.zenrpc.h` / `echo.zenrpc.cc` (included as
"<package>/echo.zenrpc.h") and a cc_library `echo_zenrpc` holding them.
See docs/codegen.md.
"""

_SUFFIXES = [".zenrpc.h", ".zenrpc.cc"]

def _import_path(src):
    # Protos are imported by their workspace-relative path (no
    # strip_import_prefix), which for a main-repository file is short_path.
    if src.short_path.startswith("../"):
        fail("%s: protos of external repositories are not supported" % src.short_path)
    return src.short_path

def _zen_rpc_gen_impl(ctx):
    srcs = []
    outs = []
    descriptor_sets = []
    for dep in ctx.attr.srcs:
        info = dep[ProtoInfo]
        descriptor_sets.append(info.transitive_descriptor_sets)
        for src in info.direct_sources:
            if src.owner.package != ctx.label.package:
                fail("%s must be in package //%s (outputs land next to their .proto)" %
                     (src.short_path, ctx.label.package))
            if not src.is_source:
                fail("%s: generated .proto files are not supported" % src.short_path)
            srcs.append(src)
            stem = src.basename[:-len(".proto")]
            for suffix in _SUFFIXES:
                outs.append(ctx.actions.declare_file(stem + suffix))

    out_dir = ctx.bin_dir.path
    if ctx.label.workspace_root:
        out_dir += "/" + ctx.label.workspace_root

    args = ctx.actions.args()
    args.add("--plugin=protoc-gen-zenrpc=" + ctx.executable._plugin.path)
    args.add("--zenrpc_out=" + out_dir)

    # Dependencies come from Bazel's descriptor sets (no -I bookkeeping, and
    # well-known types resolve through their own proto_library). The files
    # to generate are read from source (--proto_path=.), because Bazel's
    # descriptor sets carry no comments and the generated code copies them.
    # protoc looks in the source tree first and falls back to the sets.
    args.add("--proto_path=.")
    transitive = depset(transitive = descriptor_sets)
    args.add_joined(transitive, join_with = ":", format_joined = "--descriptor_set_in=%s")
    args.add_all([_import_path(src) for src in srcs])

    ctx.actions.run(
        executable = ctx.executable._protoc,
        arguments = [args],
        inputs = depset(srcs, transitive = [transitive]),
        tools = [ctx.executable._plugin],
        outputs = outs,
        mnemonic = "ZenRpcGen",
        progress_message = "Generating zenrpc stubs for %s" % ctx.label,
    )
    # Runfiles too, so tests can take the outputs as data (golden tests).
    return [DefaultInfo(files = depset(outs), runfiles = ctx.runfiles(files = outs))]

zen_rpc_gen = rule(
    implementation = _zen_rpc_gen_impl,
    doc = "Runs protoc-gen-zenrpc on the direct sources of `srcs`.",
    attrs = {
        "srcs": attr.label_list(providers = [ProtoInfo], mandatory = True),
        "_plugin": attr.label(
            default = Label("//tools/codegen:protoc-gen-zenrpc"),
            executable = True,
            cfg = "exec",
        ),
        "_protoc": attr.label(
            default = Label("@com_google_protobuf//:protoc"),
            executable = True,
            cfg = "exec",
            allow_single_file = True,
        ),
    },
)

def zen_cc_rpc_library(name, srcs, deps, visibility = None, testonly = None, **kwargs):
    """A cc_library of the Service/Stub classes generated for `srcs`.

    Args:
      name: the cc_library's name; the generation step is `name + "_gen"`.
      srcs: proto_library targets (in this package) whose services to
        generate.
      deps: the cc_proto_library of `srcs` (the generated code includes its
        .pb.h), plus anything else the generated code needs.
      visibility: of both targets.
      testonly: of both targets.
      **kwargs: passed to the cc_library.
    """
    zen_rpc_gen(
        name = name + "_gen",
        srcs = srcs,
        testonly = testonly,
        visibility = visibility,
    )
    native.cc_library(
        name = name,
        # cc_library takes the .h files for hdrs and the .cc files for srcs.
        srcs = [":" + name + "_gen"],
        hdrs = [":" + name + "_gen"],
        deps = deps + [
            Label("//stubs:message_json"),
            Label("//stubs:service_support"),
            Label("//rpc:server"),
            Label("//rpc:channel"),
            Label("//rpc:call_options"),
            Label("@com_google_absl//absl/status"),
            Label("@com_google_absl//absl/status:statusor"),
            Label("@com_google_absl//absl/strings"),
            Label("@com_google_protobuf//:protobuf"),
        ],
        visibility = visibility,
        testonly = testonly,
        **kwargs
    )
