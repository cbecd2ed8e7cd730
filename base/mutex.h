// The one lock type of the project.
//
// ThreadSanitizer must see every lock, and Debian's Abseil is not built with
// TSan, so absl::Mutex would make every TSan run report false races. This is
// std::mutex / std::condition_variable (which TSan intercepts) under clang's
// thread-safety annotations, so `-Wthread-safety` still checks
// ABSL_GUARDED_BY fields. Not recursive. Thread-safe, obviously.
#ifndef ZEN_BASE_MUTEX_H_
#define ZEN_BASE_MUTEX_H_

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "base/clock.h"

namespace zen {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    return mu_.try_lock();
  }
  // Documents (and lets the analysis assume) that the caller holds the lock.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK() {}

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `*mu` for its scope. `mu` must outlive the lock.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_->Lock();
  }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() { mu_->Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex* const mu_;
};

// Runs `fn()` with `*mu` (which the caller holds) released, takes `*mu`
// again when `fn` returns (or throws), and returns what `fn` returned: for
// a blocking call made from inside a critical section (a connect, a
// callback, a read) without a hand-paired Unlock()/Lock() that an early
// return could unbalance. Whatever `*mu` guards may have changed meanwhile:
// the caller looks again afterwards.
//
// A function rather than a scoped object because clang's thread-safety
// analysis (Debian's clang 14) cannot follow a scope that releases a lock
// and retakes it at its end; it does follow this: the caller holds `*mu`
// across the call, and the body of `fn` is checked as holding no lock.
template <typename Fn>
decltype(auto) WithUnlocked(Mutex* mu, Fn&& fn)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  struct Relock {
    Mutex* mu;
    ~Relock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu->Lock(); }
  };
  mu->Unlock();
  const Relock relock{mu};
  return std::forward<Fn>(fn)();
}

// Condition variable over zen::Mutex. Waits may wake spuriously: callers loop
// on their predicate.
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Atomically releases `*mu`, waits for a signal, and re-acquires `*mu`.
  void Wait(Mutex* mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }

  // Like Wait, but returns false once `deadline` has passed (true when woken
  // before it). absl::InfiniteFuture() waits without limit.
  bool WaitUntil(Mutex* mu, absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    if (deadline == absl::InfiniteFuture()) {
      Wait(mu);
      return true;
    }
    std::unique_lock<std::mutex> lock(mu->mu_, std::adopt_lock);
    // steady_clock, so a wall-clock jump neither shortens nor stretches waits.
    const absl::Duration left = deadline - zen::Now();
    const auto until =
        std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(left);
    const bool woken =
        cv_.wait_until(lock, until) == std::cv_status::no_timeout;
    lock.release();
    return woken;
  }

  void Signal() { cv_.notify_one(); }
  void SignalAll() { cv_.notify_all(); }

 private:
  std::condition_variable cv_;
};

}  // namespace zen

#endif  // ZEN_BASE_MUTEX_H_
