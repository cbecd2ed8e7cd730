#include "agent/settings_watchers.h"

#include <algorithm>
#include <utility>

#include "base/clock.h"
#include "base/log.h"

namespace zen {
namespace {

bool AnyChange(const SettingsChanges& changes) {
  return changes.config_changed || changes.firewall_lists_changed;
}

}  // namespace

absl::Status SettingsWatchers::Start() {
  {
    MutexLock lock(&mu_);
    if (started_ || stopped_) return absl::OkStatus();
    started_ = true;
  }
  absl::Status spawned = threads_.TrySpawn([this] { Loop(); });
  if (!spawned.ok()) {
    MutexLock lock(&mu_);
    started_ = false;
  }
  return spawned;
}

void SettingsWatchers::Watch(
    std::unique_ptr<codegen_runtime::DeferredServerCall> call,
    std::optional<uint64_t> known_config,
    std::optional<uint64_t> known_firewall_lists, absl::Duration wait) {
  SettingsChanges changes;
  {
    MutexLock lock(&mu_);
    // Checked under mu_: an update that lands after this check calls
    // Notify(), which waits for mu_, so the parked call is in the next scan.
    changes = cache_->ChangedSince(known_config, known_firewall_lists);
    const bool answer_now = AnyChange(changes) || stopped_ || !started_ ||
                            wait <= absl::ZeroDuration();
    if (!answer_now && parked_.size() >= max_waiting_) ForgetGoneLocked();
    if (!answer_now && parked_.size() < max_waiting_) {
      const absl::Time deadline =
          zen::Now() + std::min(wait, kMaxSettingsWatchWait);
      parked_.push_back(
          {std::move(call), known_config, known_firewall_lists, deadline});
      wake_.SignalAll();  // Its deadline may be the earliest.
      return;
    }
    if (!answer_now) {
      call->FinishWithError(absl::ResourceExhaustedError(
          "too many settings watches waiting; poll updated_settings"));
      return;
    }
  }
  Answer(call.get(), changes);
}

void SettingsWatchers::Notify() {
  MutexLock lock(&mu_);
  changed_ = true;
  wake_.SignalAll();
}

void SettingsWatchers::Stop() {
  std::vector<Parked> parked;
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
    parked.swap(parked_);
    wake_.SignalAll();
  }
  threads_.JoinAll();
  for (Parked& p : parked) Answer(p.call.get(), SettingsChanges());
}

void SettingsWatchers::AbandonAfterFork() {
  threads_.AbandonAfterFork();
  // The parent's parked calls (and the connections they hold) are its own.
  for (Parked& p : parked_) p.call.release();
  parked_.clear();
}

size_t SettingsWatchers::waiting() const {
  MutexLock lock(&mu_);
  return parked_.size();
}

std::vector<std::pair<SettingsWatchers::Parked, SettingsChanges>>
SettingsWatchers::TakeReadyLocked(absl::Time now) {
  std::vector<std::pair<Parked, SettingsChanges>> ready;
  ForgetGoneLocked();
  for (size_t i = 0; i < parked_.size();) {
    SettingsChanges changes = cache_->ChangedSince(
        parked_[i].known_config, parked_[i].known_firewall_lists);
    if (AnyChange(changes) || parked_[i].deadline <= now) {
      if (!AnyChange(changes)) changes = SettingsChanges();
      ready.emplace_back(std::move(parked_[i]), std::move(changes));
      parked_[i] = std::move(parked_.back());
      parked_.pop_back();
      continue;
    }
    ++i;
  }
  return ready;
}

void SettingsWatchers::ForgetGoneLocked() {
  parked_.erase(
      std::remove_if(parked_.begin(), parked_.end(),
                     [](const Parked& p) { return p.call->connection_gone(); }),
      parked_.end());
}

void SettingsWatchers::Answer(codegen_runtime::DeferredServerCall* call,
                              const SettingsChanges& changes) {
  agent::UpdatedSettingsResponse response;
  absl::Status status = PutSettingsChanges(changes, call, &response);
  if (status.ok()) status = call->Finish(response);
  if (!status.ok() && !absl::IsFailedPrecondition(status)) {
    LogWarning("agent server: could not answer a settings watch: ",
               status.message());
    call->FinishWithError(status);
  }
}

void SettingsWatchers::Loop() {
  MutexLock lock(&mu_);
  while (!stopped_) {
    absl::Time next = absl::InfiniteFuture();
    for (const Parked& p : parked_) next = std::min(next, p.deadline);
    if (!changed_ && zen::Now() < next) {
      wake_.WaitUntil(&mu_, next);
      continue;  // Woken, timed out or spurious: look again.
    }
    changed_ = false;
    std::vector<std::pair<Parked, SettingsChanges>> ready =
        TakeReadyLocked(zen::Now());
    if (ready.empty()) continue;
    // Written with mu_ released: a slow worker's socket must not hold up
    // new watches or Notify().
    mu_.Unlock();
    for (auto& [parked, changes] : ready) Answer(parked.call.get(), changes);
    ready.clear();
    mu_.Lock();
  }
}

}  // namespace zen
