#include "base/thread_group.h"

#include <utility>

namespace zen {

void ThreadGroup::ReapLocked(std::list<std::thread>* out) {
  for (auto it = threads_.begin(); it != threads_.end();) {
    if (it->done) {
      out->push_back(std::move(it->thread));
      it = threads_.erase(it);
    } else {
      ++it;
    }
  }
}

void ThreadGroup::Spawn(std::function<void()> fn) {
  std::list<std::thread> finished;
  {
    MutexLock lock(&mu_);
    ReapLocked(&finished);
    threads_.emplace_back();
    ++running_;
    Entry* entry = &threads_.back();  // std::list: stable address.
    entry->thread = std::thread([this, entry, fn = std::move(fn)] {
      fn();
      MutexLock lock(&mu_);
      entry->done = true;
      --running_;
      changed_.SignalAll();
    });
  }
  for (std::thread& t : finished) t.join();
}

void ThreadGroup::JoinAll() {
  for (;;) {
    std::list<std::thread> finished;
    {
      MutexLock lock(&mu_);
      while (running_ > 0) changed_.Wait(&mu_);
      ReapLocked(&finished);
      if (finished.empty() && threads_.empty()) return;
    }
    for (std::thread& t : finished) t.join();
  }
}

size_t ThreadGroup::running() const {
  MutexLock lock(&mu_);
  return running_;
}

void ThreadGroup::AbandonAfterFork() {
  // std::thread objects that are still joinable would std::terminate if
  // destroyed; move them to the heap and leak them.
  auto* leaked = new std::list<Entry>(std::move(threads_));
  (void)leaked;
  running_ = 0;
}

}  // namespace zen
