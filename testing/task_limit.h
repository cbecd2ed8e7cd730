// Making thread creation fail for real, in a forked child.
#ifndef ZEN_TESTING_TASK_LIMIT_H_
#define ZEN_TESTING_TASK_LIMIT_H_

#include "absl/status/status.h"

namespace zen::testing {

// For a forked child only: makes every later thread creation fail in
// pthread_create (std::thread throws std::system_error), as a task limit
// would, while small allocations keep working.
//
// How: RLIMIT_AS is set to what the process maps now plus 64 MiB (room for
// allocations, sanitizer runtimes' included), and the default thread stack
// to 512 MiB, so no new stack fits. RLIMIT_NPROC, the
// task limit itself, cannot be used here: the kernel exempts root's uid from
// it whatever the capabilities, and Bazel's linux-sandbox runs tests in a
// user namespace that maps only uid 0 (uid_map "0 0 1"), so a child cannot
// become another user (setuid(65534) fails EPERM). The failure the code
// under test sees is the same: pthread_create fails (EAGAIN) and
// std::thread's constructor throws.
absl::Status LimitThreadsInThisChild();

// Lifts the limit again: threads can be created again.
absl::Status LiftThreadLimitInThisChild();

}  // namespace zen::testing

#endif  // ZEN_TESTING_TASK_LIMIT_H_
