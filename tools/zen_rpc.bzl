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

load("//tools:proto_plugin.bzl", "proto_plugin_attrs", "run_proto_plugin")

def _zen_rpc_gen_impl(ctx):
    outs = run_proto_plugin(
        ctx,
        plugin = ctx.executable._plugin,
        plugin_name = "zenrpc",
        suffixes = [".zenrpc.h", ".zenrpc.cc"],
        mnemonic = "ZenRpcGen",
    )

    # Runfiles too, so tests can take the outputs as data (golden tests).
    return [DefaultInfo(files = depset(outs), runfiles = ctx.runfiles(files = outs))]

zen_rpc_gen = rule(
    implementation = _zen_rpc_gen_impl,
    doc = "Runs protoc-gen-zenrpc on the direct sources of `srcs`.",
    attrs = proto_plugin_attrs(Label("//tools/codegen:protoc-gen-zenrpc")),
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
        # The generated .cc registers its messages' field accessors at load
        # (codegen_runtime/field_access.h): kept even when nothing else in
        # it is referenced, so a message is never silently left to the
        # slower Reflection path.
        alwayslink = True,
        deps = deps + [
            Label("//codegen_runtime:message_json"),
            Label("//codegen_runtime:service_support"),
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
