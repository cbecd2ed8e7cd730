// The scheduler state of a thread of this process, as /proc reports it.
#ifndef ZEN_BASE_THREAD_STATE_H_
#define ZEN_BASE_THREAD_STATE_H_

#include <sys/types.h>

#include <vector>

namespace zen {

// The state letter of thread `tid` of this process, from
// /proc/self/task/<tid>/stat: 'R' running or waiting for a CPU, 'S' asleep
// (blocked in a wait), 'D' in uninterruptible I/O, and so on; '\0' if the
// thread is gone or /proc cannot be read. One open/read/close: cheap, but a
// syscall path, not for per-call use.
char ThreadState(pid_t tid);

// The ids of this process's threads, from /proc/self/task (empty if it
// cannot be read).
std::vector<pid_t> ThreadIds();

// This thread's id.
pid_t CurrentThreadId();

}  // namespace zen

#endif  // ZEN_BASE_THREAD_STATE_H_
