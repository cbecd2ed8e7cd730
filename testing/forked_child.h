// Forked-child harness for multi-process tests.
#ifndef ZEN_TESTING_FORKED_CHILD_H_
#define ZEN_TESTING_FORKED_CHILD_H_

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace zen::testing {

// What became of a child.
struct ChildOutcome {
  int exit_code = -1;   // Valid when the child exited.
  int term_signal = 0;  // Nonzero when a signal ended it.
  bool killed_at_deadline = false;
  std::string message;  // The child's status text, if it failed.

  bool ok() const {
    return exit_code == 0 && term_signal == 0 && !killed_at_deadline;
  }
  std::string ToString() const;
};

// A function run in a fork()ed child: OK → exit code 0; an error → exit
// code 1 and its text reported to the parent through a pipe.
using ChildFunction = std::function<absl::Status()>;

// One forked child process. Move-only. The destructor kills (SIGKILL) and
// reaps a child still running, so a failing test never leaks a process.
class ForkedChild {
 public:
  // Forks and runs `fn` in the child, which then _exit()s (no atexit
  // handlers, no test-framework teardown in the child).
  static absl::StatusOr<ForkedChild> Start(ChildFunction fn);

  ForkedChild() = default;
  ~ForkedChild();
  ForkedChild(ForkedChild&& other) noexcept;
  ForkedChild& operator=(ForkedChild&& other) noexcept;
  ForkedChild(const ForkedChild&) = delete;
  ForkedChild& operator=(const ForkedChild&) = delete;

  pid_t pid() const { return pid_; }

  // Waits until the child ends or `deadline` passes; at the deadline it is
  // killed with SIGKILL. Always reaps. Call at most once.
  ChildOutcome Wait(absl::Time deadline);

  // Sends `signal` to a running child.
  void Kill(int signal);

 private:
  ForkedChild(pid_t pid, int report_fd) : pid_(pid), report_fd_(report_fd) {}
  void KillAndReap();

  pid_t pid_ = -1;
  int report_fd_ = -1;  // Read end of the child's message pipe.
};

// Forks `n` children that each run `fn(index)`, all held at a barrier until
// every one exists, so that no child is forked while its siblings already
// keep the parent's threads busy. (GCC 12's sanitizer runtimes do not make
// their allocators fork-safe; a child forked while a parent thread is inside
// malloc could inherit a held lock. Plain glibc is fork-safe.)
absl::StatusOr<std::vector<ForkedChild>> StartTogether(
    int n, std::function<absl::Status(int index)> fn);

// Runs `fn` in a child and waits for it, killing it after `timeout`.
ChildOutcome RunInChild(ChildFunction fn,
                        absl::Duration timeout = absl::Seconds(30));

}  // namespace zen::testing

#endif  // ZEN_TESTING_FORKED_CHILD_H_
