#include "base/fork_guard.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <mutex>
#include <utility>
#include <vector>

namespace zen {
namespace {

struct Registry {
  std::mutex mu;  // Held from prepare until after the fork, on both sides.
  std::vector<Mutex*> mutexes;
  std::vector<const ForkChildHandler*> child_handlers;
};

Registry& GetRegistry() {
  static Registry* registry = new Registry;  // Never destroyed.
  return *registry;
}

// Takes every registered mutex. Other threads may take two of them nested in
// an order we do not know, and a thread holding one may be about to register
// a new object (which needs the registry lock): so never wait while holding
// anything. Try them all; on any failure release everything, the registry
// lock included, and try again. On success the registry lock stays held
// until after the fork, so the list cannot change in between.
//
// Unchecked by -Wthread-safety, here and in the two releases below: the
// mutexes are a list known only at run time, taken in one function and
// released in another after fork(), which the analysis cannot express.
void Prepare() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Registry& r = GetRegistry();
  for (;;) {
    r.mu.lock();
    size_t taken = 0;
    while (taken < r.mutexes.size() && r.mutexes[taken]->TryLock()) ++taken;
    if (taken == r.mutexes.size()) return;
    while (taken > 0) r.mutexes[--taken]->Unlock();
    r.mu.unlock();
    sched_yield();
  }
}

void Release() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Registry& r = GetRegistry();
  for (auto it = r.mutexes.rbegin(); it != r.mutexes.rend(); ++it) {
    (*it)->Unlock();
  }
  r.mu.unlock();
}

// In the child: the handlers run while this thread still holds every
// registered mutex and the registry lock (taken by Prepare), then all are
// released as in the parent.
void ReleaseInChild() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  Registry& r = GetRegistry();
  for (const ForkChildHandler* handler : r.child_handlers) handler->Run();
  Release();
}

void InstallOnce() {
  static std::once_flag once;
  std::call_once(once,
                 [] { pthread_atfork(&Prepare, &Release, &ReleaseInChild); });
}

}  // namespace

void RegisterForkGuardedMutex(Mutex* mu) {
  InstallOnce();
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.mutexes.push_back(mu);
}

void UnregisterForkGuardedMutex(Mutex* mu) {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.mutexes.erase(std::remove(r.mutexes.begin(), r.mutexes.end(), mu),
                  r.mutexes.end());
}

ForkChildHandler::ForkChildHandler(std::function<void()> fn)
    : fn_(std::move(fn)) {
  InstallOnce();
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.child_handlers.push_back(this);
}

ForkChildHandler::~ForkChildHandler() {
  Registry& r = GetRegistry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.child_handlers.erase(
      std::remove(r.child_handlers.begin(), r.child_handlers.end(), this),
      r.child_handlers.end());
}

}  // namespace zen
