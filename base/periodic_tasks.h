// PeriodicTasks: named tasks that come due again and again, run one at a
// time on one thread of their own.
//
// For background work that must not overlap and may block (a settings poll,
// an event flush, a look at the parent process): each task says when it
// wants to run next, and any thread may make a task due at once ("poll
// now", "flush now") without knowing what the others are doing. The
// schedule's thread is the only one that runs tasks, so a task never runs
// twice at the same time nor alongside another task of the same schedule.
//
// Thread-safe. Owns its thread: Stop() (and the destructor) joins it.
#ifndef ZEN_BASE_PERIODIC_TASKS_H_
#define ZEN_BASE_PERIODIC_TASKS_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/fork_guard.h"
#include "base/mutex.h"
#include "base/thread_group.h"

namespace zen {

class PeriodicTasks {
 public:
  // Runs once and returns how long to wait before its next run;
  // absl::InfiniteDuration(): only when made due with RunSoon().
  using Task = std::function<absl::Duration()>;
  using TaskId = size_t;

  PeriodicTasks() = default;
  ~PeriodicTasks() { Stop(); }
  PeriodicTasks(const PeriodicTasks&) = delete;
  PeriodicTasks& operator=(const PeriodicTasks&) = delete;

  // Adds a task whose first run is `first_delay` from now (spreading many
  // processes' first runs apart is the caller's choice of this delay).
  // `name` is for the reader and the logs. Any time, from any thread.
  TaskId Add(std::string name, absl::Duration first_delay, Task task)
      ABSL_LOCKS_EXCLUDED(mu_);
  // A task that runs every `interval`, measured from the end of a run.
  TaskId AddEvery(std::string name, absl::Duration first_delay,
                  absl::Duration interval, std::function<void()> fn)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Starts the thread. kResourceExhausted if it cannot be created (a task
  // limit); nothing runs then. Call once.
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);

  // Makes task `id` due now: it runs as soon as the thread is free, ahead
  // of tasks due later. Called while that task runs (from itself or from
  // another thread), it runs once more after that run. No effect after
  // Stop(). Never blocks on a task.
  void RunSoon(TaskId id) ABSL_LOCKS_EXCLUDED(mu_);

  // No task starts after it; the one under way (if any) finishes, then the
  // thread is joined. Idempotent. Must not be called from a task.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Runs of task `id` that have finished (for tests and stats).
  uint64_t runs(TaskId id) const ABSL_LOCKS_EXCLUDED(mu_);
  const std::string& name(TaskId id) const ABSL_LOCKS_EXCLUDED(mu_);

  // For a forked child, on its only thread: the schedule's thread does not
  // exist there, so it is forgotten without being joined. Nothing may be
  // called after it; the object must then be leaked, never destroyed.
  void AbandonAfterFork();

 private:
  struct Entry {
    std::string name;
    Task task;  // Not changed once added.
    absl::Time due;
    uint64_t runs = 0;
  };
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // The task due first (ties: the one added first); null when none is.
  Entry* NextLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable Mutex mu_;
  CondVar changed_;  // A task was added or made due, or Stop().
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // unique_ptr: an entry stays where it is while the thread runs it.
  std::vector<std::unique_ptr<Entry>> tasks_ ABSL_GUARDED_BY(mu_);
  ForkGuardRegistration fork_guard_{&mu_};
  ThreadGroup thread_;
};

}  // namespace zen

#endif  // ZEN_BASE_PERIODIC_TASKS_H_
