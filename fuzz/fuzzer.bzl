"""zen_fuzzer: a libFuzzer target and the test that replays its corpus."""

def zen_fuzzer(name, srcs, deps = [], size = "small", single_threaded = False):
    """Declares three targets for the fuzz target `name`.

    * `name`_lib: the target's code (LLVMFuzzerTestOneInput), alwayslink.
    * `name`: the libFuzzer binary, tagged manual (build it with
      --config=fuzz, which links libFuzzer's main; see run_fuzzers.sh).
    * `name`_corpus_test: replays every file of corpus/`name`/ through the
      target with an ordinary main, so `bazel test //...` (and its ASan and
      TSan runs) checks each seed and each saved crash input.

    Args:
      name: the fuzz target's name; its corpus is corpus/<name>/.
      srcs: sources defining LLVMFuzzerTestOneInput.
      deps: what they use.
      size: the corpus test's size.
      single_threaded: the target runs on one thread: its corpus test
        links //testing:single_threaded (a thread started fails it) and is
        tagged no-tsan, since TSan has no second thread to watch.
    """
    native.cc_library(
        name = name + "_lib",
        testonly = True,
        srcs = srcs,
        deps = deps,
        alwayslink = True,
    )
    native.cc_binary(
        name = name,
        testonly = True,
        deps = [":" + name + "_lib"],
        tags = ["manual"],
    )

    # Corpus files are data, not code: a glob keeps adding a seed (or a
    # crash reproducer) a one-file change.
    native.filegroup(
        name = name + "_corpus",
        testonly = True,
        srcs = native.glob(["corpus/" + name + "/*"]),
    )
    native.cc_test(
        name = name + "_corpus_test",
        size = size,
        srcs = ["corpus_replay_main.cc"],
        args = ["$(locations :" + name + "_corpus)"],
        data = [":" + name + "_corpus"],
        tags = ["no-tsan"] if single_threaded else [],
        deps = [":" + name + "_lib"] +
               (["//testing:single_threaded"] if single_threaded else []),
    )
