#include "testing/fork_under_sanitizers.h"

#include <pthread.h>
#include <unistd.h>

#include "absl/time/time.h"
#include "base/clock.h"
#include "base/thread_state.h"
#include "testing/sanitizers.h"

extern "C" void zen_testing_before_fork(void) {
  using zen::testing::UnderAddressSanitizer;
  if (!UnderAddressSanitizer()) return;
  const pid_t self = zen::CurrentThreadId();
  const absl::Time give_up = zen::Now() + absl::Seconds(2);
  while (zen::Now() < give_up) {
    bool all_asleep = true;
    for (pid_t tid : zen::ThreadIds()) {
      if (tid != self && zen::ThreadState(tid) != 'S') {
        all_asleep = false;
        break;
      }
    }
    if (all_asleep) return;
    ::usleep(200);
  }
}

extern "C" void zen_testing_after_fork_in_child(void) {
  if (!zen::testing::UnderThreadSanitizer()) return;
  pthread_attr_t attr;
  if (pthread_getattr_default_np(&attr) != 0) return;
  size_t stack_size = 0;
  if (pthread_attr_getstacksize(&attr, &stack_size) == 0) {
    pthread_attr_setstacksize(&attr, 2 * stack_size);
    pthread_setattr_default_np(&attr);
  }
  pthread_attr_destroy(&attr);
}
