// The pre-fork parent's process management: forks the workers, replaces
// those that die, and stops them all on request.
#ifndef ZEN_EXAMPLES_SUPERVISOR_H_
#define ZEN_EXAMPLES_SUPERVISOR_H_

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/mutex.h"

namespace zen::examples {

struct SupervisorOptions {
  int workers = 4;
  // How often Run() wakes without a signal, to call on_tick and to restart
  // workers whose back-off has passed.
  absl::Duration tick = absl::Milliseconds(100);
  // How long stopping workers get between SIGTERM and SIGKILL.
  absl::Duration stop_grace = absl::Seconds(5);
  // A worker that dies sooner than this after its start is restarted after
  // a back-off (doubling from 100 ms up to 5 s) rather than at once, so a
  // worker that cannot start does not become a fork loop.
  absl::Duration min_healthy_lifetime = absl::Seconds(1);
  // Called on Run()'s thread after every wake-up (signals or tick), for the
  // parent's periodic work. May call RequestStop().
  std::function<void()> on_tick;
};

// How one worker process ended.
struct WorkerExit {
  int slot = 0;
  pid_t pid = 0;
  int wait_status = 0;       // As from waitpid(2).
  bool during_stop = false;  // Exited after Run() began stopping workers.
};

// Forks `options.workers` workers, each running `worker_main(slot)` in the
// new process and then _exit()ing with its return value.
//
// Signals: Run() waits for SIGCHLD, SIGTERM, SIGINT and SIGQUIT with
// sigtimedwait(2), so every thread of the process must have them blocked
// before any thread starts (see BlockSupervisorSignals). Workers inherit the
// mask, which RunWorker relies on.
//
// Thread-safe: RequestStop(), live_workers() and exits() may be called from
// any thread while Run() runs on another.
class Supervisor {
 public:
  Supervisor(SupervisorOptions options,
             std::function<int(int slot)> worker_main);
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Runs until SIGTERM, SIGINT or SIGQUIT arrives or RequestStop() is
  // called; then sends SIGTERM to every worker, SIGKILL to those still
  // running after stop_grace, and returns once every worker has been
  // reaped. Call once, from the thread that should fork (it must live as
  // long as the workers: their parent-death signal is tied to it).
  // kInternal only if the first workers cannot be forked at all.
  absl::Status Run() ABSL_LOCKS_EXCLUDED(mu_);

  void RequestStop() { stop_requested_.store(true); }

  // The pids of the workers running now, by slot (0: slot empty).
  std::vector<pid_t> live_workers() const ABSL_LOCKS_EXCLUDED(mu_);
  // Every worker that has exited, in order.
  std::vector<WorkerExit> exits() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Slot {
    pid_t pid = 0;
    absl::Time started_at;
    absl::Time restart_at;  // When an empty slot may fork again.
    absl::Duration backoff = absl::ZeroDuration();
  };

  void StartDueWorkers(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);
  // Returns false if fork(2) failed.
  bool StartWorker(int slot) ABSL_LOCKS_EXCLUDED(mu_);
  void ReapExited(bool stopping) ABSL_LOCKS_EXCLUDED(mu_);
  void SignalAll(int signal) ABSL_LOCKS_EXCLUDED(mu_);
  bool AnyAlive() const ABSL_LOCKS_EXCLUDED(mu_);

  const SupervisorOptions options_;
  const std::function<int(int)> worker_main_;
  std::atomic<bool> stop_requested_{false};
  mutable Mutex mu_;
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
  std::vector<WorkerExit> exits_ ABSL_GUARDED_BY(mu_);
};

// Blocks the signals Supervisor::Run() waits for (and ignores SIGPIPE, which
// a write to a closed connection would otherwise die of) in the calling
// thread. Call in main() before starting any thread.
void BlockSupervisorSignals();

}  // namespace zen::examples

#endif  // ZEN_EXAMPLES_SUPERVISOR_H_
