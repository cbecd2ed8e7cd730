#include "base/fork_guard.h"

#include <sys/wait.h>
#include <unistd.h>

#include <memory>

#include "base/mutex.h"
#include "gtest/gtest.h"

namespace zen {
namespace {

// A child handler runs in the child only, after fork() and before the fork
// guard releases the registered mutexes (so they are held by the one thread
// there is, and released right after); it stops running once unregistered.
TEST(ForkGuardTest, ChildHandlerRunsInTheChildWithGuardedMutexesHeld) {
  Mutex mu;
  ForkGuardRegistration guard(&mu);
  int ran_in = 0;                   // Written in the child only.
  bool held_while_running = false;  // Likewise.
  auto handler = std::make_unique<ForkChildHandler>([&] {
    ran_in = static_cast<int>(::getpid());
    // Held by this thread: a TryLock fails (std::mutex is not recursive).
    if (mu.TryLock()) {
      mu.Unlock();
    } else {
      held_while_running = true;
    }
  });
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const bool ran_here = ran_in == static_cast<int>(::getpid());
    const bool free_after = mu.TryLock();
    if (free_after) mu.Unlock();
    ::_exit(ran_here && held_while_running && free_after ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(ran_in, 0);  // Not in the parent.

  handler.reset();  // Unregistered: the next child does not run it.
  const pid_t second = ::fork();
  ASSERT_GE(second, 0);
  if (second == 0) ::_exit(ran_in == 0 ? 0 : 1);
  ASSERT_EQ(::waitpid(second, &status, 0), second);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
}

}  // namespace
}  // namespace zen
