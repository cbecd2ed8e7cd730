// ThreadGroup: the named owner of a set of threads.
#ifndef ZEN_BASE_THREAD_GROUP_H_
#define ZEN_BASE_THREAD_GROUP_H_

#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "base/fork_guard.h"
#include "base/mutex.h"

namespace zen {

// Starts threads and joins them. Threads that finish are joined lazily by the
// next Spawn, so a long-lived group does not accumulate dead threads.
//
// A group may keep up to `max_parked` threads whose function returned parked
// for `park_for`, and hand the next Spawn to one of them instead of creating
// a thread: creating one costs a clone(), fresh stack pages and often a new
// malloc arena (tens of µs, and RSS), which matters on paths such as a
// connection's handshake or a slow handler's relief. With max_parked == 0
// (the default) every Spawn creates a thread and threads exit when done.
//
// JoinAll() wakes parked threads, lets them exit, and waits for every thread,
// including ones spawned while it waits. Thread-safe. The destructor joins
// (so it must not run on a member thread).
class ThreadGroup {
 public:
  explicit ThreadGroup(size_t max_parked = 0,
                       absl::Duration park_for = absl::Seconds(10))
      : max_parked_(max_parked), park_for_(park_for) {}
  ~ThreadGroup() { JoinAll(); }
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  // Runs `fn` on a parked thread of the group if one is idle, else on a new
  // thread. kResourceExhausted if no thread can be created (EAGAIN under a
  // task limit such as RLIMIT_NPROC, or no memory): then `fn` has not run
  // and has been destroyed before TrySpawn returns (without the group's lock
  // held), and the group is as it was. Never throws or terminates.
  absl::Status TrySpawn(std::function<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);

  // TrySpawn for an owner that cannot do without the thread: a failure is
  // logged and ends the process (std::terminate, as the uncaught
  // std::system_error of std::thread always did). The parent's accept and
  // dispatch paths use TrySpawn and refuse the work instead.
  void Spawn(std::function<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until every thread of the group has returned (parked ones are told
  // to exit).
  void JoinAll() ABSL_LOCKS_EXCLUDED(mu_);

  // Threads that exist: running a function or parked.
  size_t running() const ABSL_LOCKS_EXCLUDED(mu_);

  // Threads parked with nothing to do.
  size_t parked() const ABSL_LOCKS_EXCLUDED(mu_);

  // Threads that exist and are not parked idle, after joining the ones that
  // have finished. A thread counts from TrySpawn until it parks or has
  // exited, including the moments after its function returned: an owner
  // that frees a slot from inside the function (before the thread is gone)
  // can bound the threads that really exist with this count.
  size_t JoinFinishedAndCountBusy() ABSL_LOCKS_EXCLUDED(mu_);

  // For a forked child: the threads do not exist here (only the forking
  // thread survives fork()), so forget them without joining them. The group
  // must then be leaked, never destroyed. Call with no other thread. (mu_ is
  // free in the child: the fork guard holds it across the fork.)
  void AbandonAfterFork() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    std::thread thread;
    // The thread's first function, handed over before the thread exists.
    std::function<void()> first;
    bool done = false;
  };
  // Runs the entry's first function, then, while allowed, parks and runs
  // work handed to it.
  void ThreadBody(Entry* entry) ABSL_LOCKS_EXCLUDED(mu_);
  // Starts a thread for `*fn`. If none can be created, `*fn` is given back
  // (for the caller to destroy outside mu_) and nothing changed.
  absl::Status StartThreadLocked(std::function<void()>* fn)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReapLocked(std::list<std::thread>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_parked_;
  const absl::Duration park_for_;

  mutable Mutex mu_;
  CondVar changed_;     // A thread returned.
  CondVar work_ready_;  // Work queued for parked threads, or JoinAll.
  std::list<Entry> threads_ ABSL_GUARDED_BY(mu_);
  size_t running_ ABSL_GUARDED_BY(mu_) = 0;
  // Parked threads; each queued function is owed to one of them, so
  // parked_ - queue_.size() are idle and unclaimed.
  size_t parked_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  size_t joiners_ ABSL_GUARDED_BY(mu_) = 0;  // JoinAll calls under way.
  ForkGuardRegistration fork_guard_{&mu_};
};

}  // namespace zen

#endif  // ZEN_BASE_THREAD_GROUP_H_
