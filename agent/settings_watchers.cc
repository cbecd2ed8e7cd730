#include "agent/settings_watchers.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
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
  absl::Status refused;
  {
    MutexLock lock(&mu_);
    // Checked under mu_: an update that lands after this check calls
    // Notify(), which waits for mu_, so the parked call is in the next scan.
    changes = cache_->ChangedSince(known_config, known_firewall_lists);
    const bool answer_now = AnyChange(changes) || stopped_ || !started_ ||
                            wait <= absl::ZeroDuration();
    if (!answer_now) {
      const void* connection = call->connection();
      auto mine = by_connection_.find(connection);
      if (mine != by_connection_.end() &&
          mine->second.size() >= options_.max_per_connection) {
        ForgetGoneLocked(connection);  // An address reused by a new one.
        mine = by_connection_.find(connection);
      }
      const char* refusal = nullptr;
      if (mine != by_connection_.end() &&
          mine->second.size() >= options_.max_per_connection) {
        refusal = "too many settings watches on this connection";
      } else {
        // Full of live connections' calls cannot happen when max_waiting
        // covers every admitted connection; so this scan frees calls of
        // connections gone, and runs at most once per that many parked.
        if (parked_.size() >= options_.max_waiting) ForgetAllGoneLocked();
        if (parked_.size() >= options_.max_waiting) {
          refusal = "too many settings watches waiting";
        }
      }
      if (refusal != nullptr) {
        ++refused_;
        refused = absl::ResourceExhaustedError(
            absl::StrCat(refusal, "; poll updated_settings"));
      } else {
        const absl::Time deadline =
            zen::Now() + std::min(wait, kMaxSettingsWatchWait);
        const uint64_t id = next_id_++;
        const bool earliest =
            by_deadline_.empty() || deadline < by_deadline_.begin()->first;
        by_deadline_.emplace(deadline, id);
        by_connection_[connection].push_back(id);
        parked_.emplace(id, Parked{std::move(call), known_config,
                                   known_firewall_lists, deadline});
        if (earliest) wake_.SignalAll();  // The loop sleeps until then.
        return;
      }
    }
  }
  // Written with mu_ released, as the loop answers.
  if (!refused.ok()) {
    call->FinishWithError(refused);
    return;
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
    for (auto& [id, p] : parked_) parked.push_back(std::move(p));
    parked_.clear();
    by_deadline_.clear();
    by_connection_.clear();
    wake_.SignalAll();
  }
  threads_.JoinAll();
  for (Parked& p : parked) Answer(p.call.get(), SettingsChanges());
}

void SettingsWatchers::AbandonAfterFork() {
  threads_.AbandonAfterFork();
  MutexLock lock(&mu_);
  // The parent's parked calls (and the connections they hold) are its own.
  for (auto& [id, p] : parked_) p.call.release();
  parked_.clear();
  by_deadline_.clear();
  by_connection_.clear();
  // Its thread is the parent's: Stop() must neither wake nor join it.
  stopped_ = true;
}

size_t SettingsWatchers::waiting() const {
  MutexLock lock(&mu_);
  return parked_.size();
}

uint64_t SettingsWatchers::refused() const {
  MutexLock lock(&mu_);
  return refused_;
}

SettingsWatchers::Parked SettingsWatchers::RemoveLocked(uint64_t id) {
  auto it = parked_.find(id);
  Parked parked = std::move(it->second);
  parked_.erase(it);
  by_deadline_.erase({parked.deadline, id});
  auto mine = by_connection_.find(parked.call->connection());
  if (mine != by_connection_.end()) {
    auto& ids = mine->second;
    ids.erase(std::find(ids.begin(), ids.end(), id));
    if (ids.empty()) by_connection_.erase(mine);
  }
  return parked;
}

std::vector<std::pair<SettingsWatchers::Parked, SettingsChanges>>
SettingsWatchers::TakeReadyLocked(absl::Time now, bool changed) {
  std::vector<std::pair<Parked, SettingsChanges>> ready;
  if (changed) {
    // The settings changed: every parked call may be due (a scan, once per
    // change, not per expiry).
    ForgetAllGoneLocked();
    std::vector<uint64_t> due;
    for (const auto& [id, p] : parked_) {
      if (AnyChange(
              cache_->ChangedSince(p.known_config, p.known_firewall_lists))) {
        due.push_back(id);
      }
    }
    for (uint64_t id : due) {
      Parked p = RemoveLocked(id);
      SettingsChanges changes =
          cache_->ChangedSince(p.known_config, p.known_firewall_lists);
      ready.emplace_back(std::move(p), std::move(changes));
    }
  }
  // Past due: the earliest first, each O(log n); a call whose worker is
  // gone is dropped the same way.
  while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) {
    Parked p = RemoveLocked(by_deadline_.begin()->second);
    if (p.call->connection_gone()) continue;
    ready.emplace_back(std::move(p), SettingsChanges());
  }
  return ready;
}

void SettingsWatchers::ForgetGoneLocked(const void* connection) {
  auto mine = by_connection_.find(connection);
  if (mine == by_connection_.end()) return;
  const absl::InlinedVector<uint64_t, 4> ids = mine->second;
  for (uint64_t id : ids) {
    if (parked_.at(id).call->connection_gone()) RemoveLocked(id);
  }
}

void SettingsWatchers::ForgetAllGoneLocked() {
  std::vector<uint64_t> gone;
  for (const auto& [id, p] : parked_) {
    if (p.call->connection_gone()) gone.push_back(id);
  }
  for (uint64_t id : gone) RemoveLocked(id);
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
    const absl::Time next = by_deadline_.empty() ? absl::InfiniteFuture()
                                                 : by_deadline_.begin()->first;
    if (!changed_ && zen::Now() < next) {
      wake_.WaitUntil(&mu_, next);
      continue;  // Woken, timed out or spurious: look again.
    }
    const bool changed = changed_;
    changed_ = false;
    std::vector<std::pair<Parked, SettingsChanges>> ready =
        TakeReadyLocked(zen::Now(), changed);
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
