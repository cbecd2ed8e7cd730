// Arming the parent-death signal in a freshly forked child.
#ifndef ZEN_AGENT_PARENT_DEATH_H_
#define ZEN_AGENT_PARENT_DEATH_H_

#include <sys/types.h>

#include "absl/time/time.h"
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

}  // namespace zen

#endif  // ZEN_AGENT_PARENT_DEATH_H_
