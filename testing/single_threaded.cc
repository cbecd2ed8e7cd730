// Linked into the tests tagged `no-tsan` because they run on one thread:
// ThreadSanitizer finds races between threads, so .bazelrc's TSan config
// skips them (a whole build and run saved on every CI run). This keeps the
// tag honest: the first thread such a test starts fails it, naming why, and
// the tag (and this dependency) must then go.
//
// It works by interposition: this pthread_create, defined in the test's own
// link (alwayslink), is found before libc's for every caller, std::thread
// and Abseil included.
#include <pthread.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

extern "C" int pthread_create(pthread_t*, const pthread_attr_t*,
                              void* (*)(void*), void*) {
  static const char kMessage[] =
      "testing/single_threaded: this test started a thread, but it links "
      "//testing:single_threaded and is tagged no-tsan as a one-thread "
      "test; drop both so that TSan runs it\n";
  // write(2), not stdio: the message must get out whatever state the
  // caller's locks are in.
  ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof(kMessage) - 1);
  (void)ignored;
  abort();
}
