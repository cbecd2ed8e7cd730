// Whether the running test binary carries a sanitizer runtime.
//
// Detected at run time (the runtimes define these entry points), not with
// __SANITIZE_THREAD__, which the tsan config undefines (see .bazelrc).
#ifndef ZEN_TESTING_SANITIZERS_H_
#define ZEN_TESTING_SANITIZERS_H_

extern "C" {
void __tsan_init() __attribute__((weak));
void __asan_init() __attribute__((weak));
}

namespace zen::testing {

inline bool UnderThreadSanitizer() { return &__tsan_init != nullptr; }
inline bool UnderAddressSanitizer() { return &__asan_init != nullptr; }
inline bool UnderSanitizer() {
  return UnderThreadSanitizer() || UnderAddressSanitizer();
}

}  // namespace zen::testing

#endif  // ZEN_TESTING_SANITIZERS_H_
