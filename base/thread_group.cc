#include "base/thread_group.h"

#include <exception>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"

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
  absl::Status started = TrySpawn(std::move(fn));
  if (!started.ok()) {
    LogError("thread group: ", started.message());
    std::terminate();
  }
}

absl::Status ThreadGroup::TrySpawn(std::function<void()> fn) {
  std::list<std::thread> finished;
  absl::Status started;
  {
    MutexLock lock(&mu_);
    ReapLocked(&finished);
    if (parked_ > queue_.size()) {
      // An idle parked thread takes it; no thread is created.
      queue_.push_back(std::move(fn));
      work_ready_.Signal();
    } else {
      started = StartThreadLocked(&fn);
    }
  }
  for (std::thread& t : finished) t.join();
  fn = nullptr;  // Given back on failure: its captures go without mu_ held.
  return started;
}

absl::Status ThreadGroup::StartThreadLocked(std::function<void()>* fn) {
  threads_.emplace_back();
  Entry* entry = &threads_.back();  // std::list: stable address.
  entry->first = std::move(*fn);
  try {
    entry->thread = std::thread([this, entry] { ThreadBody(entry); });
  } catch (const std::system_error& e) {
    // EAGAIN (a task limit such as RLIMIT_NPROC) or ENOMEM: refuse the work
    // rather than let the exception end the process.
    *fn = std::move(entry->first);
    threads_.pop_back();
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot start a thread: ", e.what()));
  }
  ++running_;  // Before the thread can finish: it needs mu_ to.
  return absl::OkStatus();
}

void ThreadGroup::ThreadBody(Entry* entry) {
  // Written before this thread was created, and not touched since.
  std::function<void()> fn = std::move(entry->first);
  for (;;) {
    fn();
    fn = nullptr;  // Whatever it captured is released before parking.
    MutexLock lock(&mu_);
    if (joiners_ == 0 && parked_ < max_parked_) {
      ++parked_;
      const absl::Time deadline = zen::Now() + park_for_;
      // Spurious wake-ups and work taken by another parked thread send
      // us back to waiting until the deadline.
      while (queue_.empty() && joiners_ == 0) {
        if (!work_ready_.WaitUntil(&mu_, deadline)) break;
      }
      --parked_;
      if (!queue_.empty()) {
        fn = std::move(queue_.front());
        queue_.pop_front();
        continue;  // Runs it with the lock released (MutexLock's scope).
      }
    }
    entry->done = true;
    --running_;
    changed_.SignalAll();
    return;
  }
}

void ThreadGroup::JoinAll() {
  {
    MutexLock lock(&mu_);
    ++joiners_;
    work_ready_.SignalAll();
  }
  for (;;) {
    std::list<std::thread> finished;
    {
      MutexLock lock(&mu_);
      while (running_ > 0) changed_.Wait(&mu_);
      ReapLocked(&finished);
      if (finished.empty() && threads_.empty()) {
        --joiners_;
        return;
      }
    }
    for (std::thread& t : finished) t.join();
  }
}

size_t ThreadGroup::running() const {
  MutexLock lock(&mu_);
  return running_;
}

size_t ThreadGroup::JoinFinishedAndCountBusy() {
  std::list<std::thread> finished;
  {
    MutexLock lock(&mu_);
    ReapLocked(&finished);
  }
  for (std::thread& t : finished) t.join();
  MutexLock lock(&mu_);
  return threads_.size() - (parked_ - queue_.size());
}

size_t ThreadGroup::parked() const {
  MutexLock lock(&mu_);
  return parked_ - queue_.size();
}

void ThreadGroup::AbandonAfterFork() {
  MutexLock lock(&mu_);
  // std::thread objects that are still joinable would std::terminate if
  // destroyed; move them to the heap and leak them. Work queued for the
  // parent's parked threads is leaked with them: its captures may hold
  // locks or objects only the parent's threads may touch.
  auto* leaked = new std::list<Entry>(std::move(threads_));
  auto* leaked_work = new std::deque<std::function<void()>>(std::move(queue_));
  (void)leaked;
  (void)leaked_work;
  threads_.clear();
  queue_.clear();
  running_ = 0;
  parked_ = 0;
  joiners_ = 0;
}

}  // namespace zen
