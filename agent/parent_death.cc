#include "agent/parent_death.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

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

ParentDeath::ParentDeath(pid_t parent_pid, absl::Duration retry_initial,
                         absl::Duration retry_max,
                         std::function<void()> on_exit)
    : parent_pid_(parent_pid),
      retry_initial_(retry_initial),
      retry_max_(retry_max),
      on_exit_(std::move(on_exit)),
      retry_(DeadParentRetryPolicy(retry_initial, retry_max)) {}

bool ParentDeath::Gone() const {
  return parent_pid_ != 0 && ::getppid() != parent_pid_;
}

absl::Status ParentDeath::ExitedError() const {
  return absl::UnavailableError(
      absl::StrCat("parent process ", parent_pid_,
                   " exited; its agent server cannot be reached"));
}

bool ParentDeath::ReportOnce() {
  if (reported_.exchange(true, std::memory_order_acq_rel)) return false;
  if (on_exit_) on_exit_();
  return true;
}

absl::Duration ParentDeath::NextRetryDelay() {
  MutexLock lock(&mu_);
  return retry_.NextDelay();
}

void ParentDeath::RestartRetries() {
  MutexLock lock(&mu_);
  retry_ = DeadParentRetryPolicy(retry_initial_, retry_max_);
}

}  // namespace zen
