// Which sanitizer this test binary was built with.
#ifndef ZEN_TESTING_SANITIZERS_H_
#define ZEN_TESTING_SANITIZERS_H_

// The sanitizer runtimes define these entry points; a weak reference is null
// in a binary built without them.
extern "C" {
void __tsan_init() __attribute__((weak));
void __asan_init() __attribute__((weak));
}

namespace zen::testing {

// The tsan config undefines __SANITIZE_THREAD__ (it changes protobuf's ABI,
// see .bazelrc) and defines ZEN_THREAD_SANITIZER instead.
#if defined(__SANITIZE_THREAD__) || defined(ZEN_THREAD_SANITIZER)
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

// The same, asked of the running binary (true whatever the macros say).
inline bool UnderThreadSanitizer() { return &__tsan_init != nullptr; }
inline bool UnderAddressSanitizer() { return &__asan_init != nullptr; }
inline bool UnderSanitizer() {
  return UnderThreadSanitizer() || UnderAddressSanitizer();
}

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool kAddressSanitizer = true;
#else
inline constexpr bool kAddressSanitizer = false;
#endif
#else
inline constexpr bool kAddressSanitizer = false;
#endif

// Why tests that fork while the parent's threads are busy skip under ASan:
// GCC 12's AddressSanitizer runtime does not reset its allocator locks at
// fork(), so a child forked while a parent thread is inside malloc can hang.
// (Plain glibc malloc is fork-safe; the default suite runs these tests.)
inline constexpr char kAsanForkSkipReason[] =
    "GCC 12's AddressSanitizer allocator is not fork-safe under load";

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
