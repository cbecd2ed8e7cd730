// StopSignal: a one-way "stop" that threads can look at and sleep on.
//
// For a loop that waits between attempts (a retry pause, a back-off) and
// must end promptly when its owner stops: it sleeps on the signal instead of
// SleepFor(), and Stop() wakes it. Once stopped, it stays stopped.
//
// Thread-safe. The lock is fork-guarded, so a forked child finds it free.
#ifndef ZEN_BASE_STOP_SIGNAL_H_
#define ZEN_BASE_STOP_SIGNAL_H_

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/fork_guard.h"
#include "base/mutex.h"

namespace zen {

class StopSignal {
 public:
  StopSignal() = default;
  StopSignal(const StopSignal&) = delete;
  StopSignal& operator=(const StopSignal&) = delete;

  // Returns whether this call stopped it (false: it already was). Wakes
  // every sleeper.
  bool Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    if (stopped_) return false;
    stopped_ = true;
    changed_.SignalAll();
    return true;
  }

  bool stopped() const ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    return stopped_;
  }

  // Sleeps until `deadline` or Stop(), whichever comes first. Returns false
  // when stopped (at once if it already was).
  bool SleepUntil(absl::Time deadline) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    while (!stopped_ && zen::Now() < deadline) {
      changed_.WaitUntil(&mu_, deadline);
    }
    return !stopped_;
  }
  bool SleepFor(absl::Duration duration) ABSL_LOCKS_EXCLUDED(mu_) {
    return SleepUntil(zen::Now() + duration);
  }

 private:
  mutable Mutex mu_;
  CondVar changed_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  ForkGuardRegistration fork_guard_{&mu_};
};

}  // namespace zen

#endif  // ZEN_BASE_STOP_SIGNAL_H_
