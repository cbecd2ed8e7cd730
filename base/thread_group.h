// ThreadGroup: the named owner of a set of threads.
#ifndef ZEN_BASE_THREAD_GROUP_H_
#define ZEN_BASE_THREAD_GROUP_H_

#include <cstddef>
#include <functional>
#include <list>
#include <thread>

#include "base/fork_guard.h"
#include "base/mutex.h"

namespace zen {

// Starts threads and joins them. Threads that finish are joined lazily by the
// next Spawn, so a long-lived group does not accumulate dead threads.
// JoinAll() waits for every thread, including ones spawned while it waits.
// Thread-safe. The destructor joins (so it must not run on a member thread).
class ThreadGroup {
 public:
  ThreadGroup() = default;
  ~ThreadGroup() { JoinAll(); }
  ThreadGroup(const ThreadGroup&) = delete;
  ThreadGroup& operator=(const ThreadGroup&) = delete;

  // Runs `fn` on a new thread.
  void Spawn(std::function<void()> fn) ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until every thread of the group has returned.
  void JoinAll() ABSL_LOCKS_EXCLUDED(mu_);

  // Threads started and not yet returned.
  size_t running() const ABSL_LOCKS_EXCLUDED(mu_);

  // For a forked child: the threads do not exist here (only the forking
  // thread survives fork()), so forget them without joining or locking. The
  // group must then be leaked, never destroyed. Call with no other thread.
  void AbandonAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS;

 private:
  struct Entry {
    std::thread thread;
    bool done = false;
  };
  void ReapLocked(std::list<std::thread>* out)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable Mutex mu_;
  CondVar changed_;
  std::list<Entry> threads_ ABSL_GUARDED_BY(mu_);
  size_t running_ ABSL_GUARDED_BY(mu_) = 0;
  ForkGuardRegistration fork_guard_{&mu_};
};

}  // namespace zen

#endif  // ZEN_BASE_THREAD_GROUP_H_
