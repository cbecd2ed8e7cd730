// The parent's death, as one process sees it: the signal a freshly forked
// child can arm, and ParentDeath, the one record of what the process knows.
#ifndef ZEN_AGENT_PARENT_DEATH_H_
#define ZEN_AGENT_PARENT_DEATH_H_

#include <sys/types.h>

#include <atomic>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/fork_guard.h"
#include "base/mutex.h"
#include "ipc/connector.h"

namespace zen {

// For a child right after fork(): asks the kernel to send `signal` to this
// process when its parent exits (prctl PR_SET_PDEATHSIG), then closes the
// race against a parent that exited before the prctl: if this process's
// parent is no longer `forked_from` (the pid of the process that forked it),
// it raises `signal` itself. Async-signal-safe; returns only if the signal
// does not end the process (a handler or an ignored signal).
//
// Linux delivers the signal when the *thread* that forked the child exits,
// not the whole parent process, and keeps the setting across execve() of a
// program that is not set-user-ID. Both are the kernel's rules.
void ArmParentDeathSignal(pid_t forked_from, int signal);

// When to try the agent server again once the parent is known to have
// exited: after `initial`, doubling up to `max` (at least `initial`), each
// spread over +-25% and seeded by time and pid, so workers orphaned together
// do not retry in lockstep. Make one per process (after the fork).
ipc::ReconnectPolicy DeadParentRetryPolicy(absl::Duration initial,
                                           absl::Duration max);

// What one process knows of its parent's death, kept in one place for the
// Agent and the AgentClient it makes there: whether the exit was reported
// (the host's callback runs once per process, whoever notices first), and
// when to try the parent's server again (DeadParentRetryPolicy). Make one
// per process, after the fork.
//
// Thread-safe (its lock is fork-guarded).
class ParentDeath {
 public:
  // `parent_pid`: the process that forked this one; 0 for none (the
  // parent itself, or a client that does not watch), and then Gone() is
  // always false. `on_exit` may be empty.
  ParentDeath(pid_t parent_pid, absl::Duration retry_initial,
              absl::Duration retry_max, std::function<void()> on_exit);
  ParentDeath(const ParentDeath&) = delete;
  ParentDeath& operator=(const ParentDeath&) = delete;

  pid_t parent_pid() const { return parent_pid_; }
  // Whether the parent has exited: one getppid() call.
  bool Gone() const;
  // kUnavailable, naming the parent: what a call says once it is gone.
  absl::Status ExitedError() const;
  // Runs `on_exit` the first time only, on the calling thread; returns
  // whether this call ran it. Must not be called with a lock the callback
  // could need (the host's callback may fork).
  bool ReportOnce();

  // The wait before the next try to reach a server while the parent is
  // gone: from retry_initial, doubling up to retry_max, each spread over
  // +-25% (seeded per process, so orphaned siblings do not retry in step).
  absl::Duration NextRetryDelay() ABSL_LOCKS_EXCLUDED(mu_);
  // A new episode (the server was reached, then lost): waits start over.
  void RestartRetries() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const pid_t parent_pid_;
  const absl::Duration retry_initial_;
  const absl::Duration retry_max_;
  const std::function<void()> on_exit_;
  std::atomic<bool> reported_{false};
  Mutex mu_;
  ipc::ReconnectPolicy retry_ ABSL_GUARDED_BY(mu_);
  ForkGuardRegistration fork_guard_{&mu_};
};

}  // namespace zen

#endif  // ZEN_AGENT_PARENT_DEATH_H_
