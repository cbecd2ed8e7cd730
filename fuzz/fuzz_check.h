// FUZZ_CHECK: an invariant of a fuzz target. A violation prints what broke
// and aborts, which libFuzzer reports as a crash and saves the input.
#ifndef ZEN_FUZZ_FUZZ_CHECK_H_
#define ZEN_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                          \
  do {                                                                 \
    if (!(condition)) {                                                \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, \
                   __LINE__, #condition);                              \
      std::abort();                                                    \
    }                                                                  \
  } while (0)

#endif  // ZEN_FUZZ_FUZZ_CHECK_H_
