// ForkGuard: keeps the library's locks consistent across fork().
//
// Only the forking thread survives fork(). If another thread held one of the
// library's locks at that moment, the child would inherit a locked mutex and
// half-updated state. Objects whose state a child must read after a fork
// (listener, server, channel, thread groups) register their mutex here; a
// pthread_atfork handler takes every registered mutex before the fork and
// releases them on both sides after it, so a fork taken at any moment sees
// each object between two critical sections.
//
// This is the one process-wide hook of the library (docs/architecture.md,
// "Fork rules": only fork handling gets one). Thread-safe.
#ifndef ZEN_BASE_FORK_GUARD_H_
#define ZEN_BASE_FORK_GUARD_H_

#include <functional>

#include "base/mutex.h"

namespace zen {

// Registers `mu` for the lifetime of the object that owns it. `mu` must not
// be held across a blocking operation (it would stall every fork()).
void RegisterForkGuardedMutex(Mutex* mu);
void UnregisterForkGuardedMutex(Mutex* mu);

// Registers in the constructor and unregisters in the destructor.
class ForkGuardRegistration {
 public:
  explicit ForkGuardRegistration(Mutex* mu) : mu_(mu) {
    RegisterForkGuardedMutex(mu_);
  }
  ~ForkGuardRegistration() { UnregisterForkGuardedMutex(mu_); }
  ForkGuardRegistration(const ForkGuardRegistration&) = delete;
  ForkGuardRegistration& operator=(const ForkGuardRegistration&) = delete;

 private:
  Mutex* mu_;
};

// Runs a function in the child right after every fork(), on the forking
// thread (the only thread the child has), before the fork guard releases the
// registered mutexes: each is then held by that thread, so the function may
// read and reset state they guard without locking, and must not lock them
// (they are not recursive). It must do only what is safe in a child: close
// this process's copies of descriptors (never shutdown(2) an inherited
// socket, which would cut the parent's connection), reset fields; no waiting,
// no other library locks. Handlers run in the order registered. Register for
// the lifetime of the object the function touches; a handler may not be
// registered or unregistered from inside a handler. Thread-safe.
class ForkChildHandler {
 public:
  explicit ForkChildHandler(std::function<void()> fn);
  ~ForkChildHandler();
  ForkChildHandler(const ForkChildHandler&) = delete;
  ForkChildHandler& operator=(const ForkChildHandler&) = delete;

  void Run() const { fn_(); }

 private:
  const std::function<void()> fn_;
};

}  // namespace zen

#endif  // ZEN_BASE_FORK_GUARD_H_
