"""The one protoc action behind every code generator of this repository.

zen_rpc.bzl (protoc-gen-zenrpc) and grpc.bzl (Debian's grpc_cpp_plugin, for
benchmarks) differ only in the plugin, the output suffixes and the names;
both call run_proto_plugin from their rule implementations.
"""

def _import_path(src):
    # Protos are imported by their workspace-relative path (no
    # strip_import_prefix), which for a main-repository file is short_path.
    if src.short_path.startswith("../"):
        fail("%s: protos of external repositories are not supported" % src.short_path)
    return src.short_path

def proto_plugin_attrs(plugin):
    """The attributes of a rule that calls run_proto_plugin.

    Args:
      plugin: the label of the protoc plugin executable.

    Returns:
      `srcs` (the proto_library targets) and the hidden `_plugin` and
      `_protoc` executables.
    """
    return {
        "srcs": attr.label_list(providers = [ProtoInfo], mandatory = True),
        "_plugin": attr.label(
            default = plugin,
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
    }

def run_proto_plugin(ctx, plugin, plugin_name, suffixes, mnemonic):
    """Runs protoc with `plugin` on the direct sources of ctx.attr.srcs.

    Args:
      ctx: the rule context; ctx.attr.srcs are proto_library targets of the
        rule's own package, ctx.executable._protoc is protoc.
      plugin: the plugin executable (a File).
      plugin_name: X in protoc-gen-X and --X_out.
      suffixes: what each foo.proto yields (e.g. [".zenrpc.h", ".zenrpc.cc"]),
        declared next to it in the output tree.
      mnemonic: the action's mnemonic.

    Returns:
      The list of generated files.
    """
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
            # Relative to the package: a .proto in a subdirectory (testdata/)
            # gets its outputs in the same subdirectory, where protoc writes.
            relative = src.short_path
            if ctx.label.package:
                relative = relative[len(ctx.label.package) + 1:]
            stem = relative[:-len(".proto")]
            for suffix in suffixes:
                outs.append(ctx.actions.declare_file(stem + suffix))

    out_dir = ctx.bin_dir.path
    if ctx.label.workspace_root:
        out_dir += "/" + ctx.label.workspace_root

    args = ctx.actions.args()
    args.add("--plugin=protoc-gen-%s=%s" % (plugin_name, plugin.path))
    args.add("--%s_out=%s" % (plugin_name, out_dir))

    # Dependencies come from Bazel's descriptor sets (no -I bookkeeping, and
    # well-known types resolve through their own proto_library). The files
    # to generate are read from source (--proto_path=.), because Bazel's
    # descriptor sets carry no comments and generated code may copy them.
    # protoc looks in the source tree first and falls back to the sets.
    args.add("--proto_path=.")
    transitive = depset(transitive = descriptor_sets)
    args.add_joined(transitive, join_with = ":", format_joined = "--descriptor_set_in=%s")
    args.add_all([_import_path(src) for src in srcs])

    ctx.actions.run(
        executable = ctx.executable._protoc,
        arguments = [args],
        inputs = depset(srcs, transitive = [transitive]),
        tools = [plugin],
        outputs = outs,
        mnemonic = mnemonic,
        progress_message = "Generating %s code for %s" % (plugin_name, ctx.label),
    )
    return outs
