// Which sanitizer this test binary was built with.
#ifndef ZEN_TESTING_SANITIZERS_H_
#define ZEN_TESTING_SANITIZERS_H_

namespace zen::testing {

#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif
#else
inline constexpr bool kThreadSanitizer = false;
#endif

// Why multi-process tests whose forked children start threads skip under
// TSan: its runtime does not support threads created in a child forked from
// a multi-threaded parent (it reports "dup thread with used id" or dies), so
// such a run says nothing about our code. Those tests run in the default and
// ASan suites; TSan covers the same code paths in single-process tests.
inline constexpr char kTsanForkSkipReason[] =
    "ThreadSanitizer does not support threads in children forked from a "
    "multi-threaded parent";

}  // namespace zen::testing

#endif  // ZEN_TESTING_SANITIZERS_H_
