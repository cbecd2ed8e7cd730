#include "base/periodic_tasks.h"

#include <algorithm>
#include <utility>

#include "base/clock.h"

namespace zen {

PeriodicTasks::TaskId PeriodicTasks::Add(std::string name,
                                         absl::Duration first_delay,
                                         Task task) {
  auto entry = std::make_unique<Entry>();
  entry->name = std::move(name);
  entry->task = std::move(task);
  entry->due = zen::Now() + first_delay;
  MutexLock lock(&mu_);
  tasks_.push_back(std::move(entry));
  changed_.SignalAll();
  return tasks_.size() - 1;
}

PeriodicTasks::TaskId PeriodicTasks::AddEvery(std::string name,
                                              absl::Duration first_delay,
                                              absl::Duration interval,
                                              std::function<void()> fn) {
  return Add(std::move(name), first_delay, [fn = std::move(fn), interval] {
    fn();
    return interval;
  });
}

absl::Status PeriodicTasks::Start() {
  return thread_.TrySpawn([this] { Loop(); });
}

void PeriodicTasks::RunSoon(TaskId id) {
  MutexLock lock(&mu_);
  if (stopped_ || id >= tasks_.size()) return;
  tasks_[id]->due = std::min(tasks_[id]->due, zen::Now());
  changed_.SignalAll();
}

void PeriodicTasks::Stop() {
  {
    MutexLock lock(&mu_);
    stopped_ = true;
    changed_.SignalAll();
  }
  thread_.JoinAll();
}

uint64_t PeriodicTasks::runs(TaskId id) const {
  MutexLock lock(&mu_);
  return id < tasks_.size() ? tasks_[id]->runs : 0;
}

const std::string& PeriodicTasks::name(TaskId id) const {
  MutexLock lock(&mu_);
  return tasks_.at(id)->name;  // Never changed once added.
}

void PeriodicTasks::AbandonAfterFork() { thread_.AbandonAfterFork(); }

PeriodicTasks::Entry* PeriodicTasks::NextLocked() {
  Entry* next = nullptr;
  for (const std::unique_ptr<Entry>& entry : tasks_) {
    if (next == nullptr || entry->due < next->due) next = entry.get();
  }
  return next;
}

void PeriodicTasks::Loop() {
  MutexLock lock(&mu_);
  while (!stopped_) {
    Entry* next = NextLocked();
    const absl::Time due = next != nullptr ? next->due : absl::InfiniteFuture();
    if (zen::Now() < due) {
      changed_.WaitUntil(&mu_, due);  // Added, made due, or stopped.
      continue;
    }
    // Not due again until it says so, or until RunSoon() during the run.
    next->due = absl::InfiniteFuture();
    const absl::Duration wait =
        WithUnlocked(&mu_, [task = &next->task] { return (*task)(); });
    ++next->runs;
    const absl::Time after = wait == absl::InfiniteDuration()
                                 ? absl::InfiniteFuture()
                                 : zen::Now() + wait;
    next->due = std::min(next->due, after);
  }
}

}  // namespace zen
