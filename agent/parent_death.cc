#include "agent/parent_death.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>

namespace zen {

void ArmParentDeathSignal(pid_t forked_from, int signal) {
  // prctl can fail only for an invalid signal number; the check below still
  // covers a parent that is already gone.
  (void)::prctl(PR_SET_PDEATHSIG, signal);
  if (::getppid() != forked_from) ::kill(::getpid(), signal);
}

ipc::ReconnectPolicy DeadParentRetryPolicy(absl::Duration initial,
                                           absl::Duration max) {
  ipc::ReconnectPolicy::Options options;
  options.initial_delay = initial;
  options.multiplier = 2.0;
  options.max_delay = std::max(initial, max);
  options.jitter = 0.25;
  ipc::ReconnectPolicy policy(options);
  (void)policy.NextDelay();  // Its immediate first retry: not after a death.
  return policy;
}

}  // namespace zen
