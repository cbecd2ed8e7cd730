// SettingsWatchers: the parent's side of `watch_settings`, the long poll
// that brings new settings to every worker within milliseconds instead of
// at its next poll.
//
// A worker's watch arrives with the generations it holds. If either already
// differs from the cache's, it is answered at once, like
// `updated_settings`. Otherwise its call is parked
// (codegen_runtime::DeferredServerCall: no thread waits for it) until the cache
// changes or its wait runs out, then answered with what changed, or `{}`. One
// thread of this object answers parked calls: woken by Notify() after a cache
// update, or by the earliest deadline; a thousand waiting workers cost memory
// only.
//
// Fair: a worker needs one watch, so one connection may park at most
// SettingsWatchOptions::max_per_connection, and the pool holds that many for
// every connection the server admits; a worker flooding watches is refused
// (RESOURCE_EXHAUSTED) on its own connections while every other connection
// still parks its own. Parked calls are ordered by deadline, so expiring
// one costs O(log n) in the number parked, not a scan of them all.
#ifndef ZEN_AGENT_SETTINGS_WATCHERS_H_
#define ZEN_AGENT_SETTINGS_WATCHERS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/agent_service.h"
#include "agent/model/settings_cache.h"
#include "agent/server_options.h"
#include "base/fork_guard.h"
#include "base/mutex.h"
#include "base/status_macros.h"
#include "base/thread_group.h"
#include "codegen_runtime/server_context.h"
#include "codegen_runtime/validated_json.h"
#include "proto/zen/agent/worker_agent.pb.h"

namespace zen {

// How long a watch waits when the caller names no (valid) wait, and the
// longest it may ask for: below the client's call deadline and the
// server's limits, above the keepalive ping's 4 s so a waiting connection
// never looks idle for lack of traffic.
inline constexpr absl::Duration kDefaultSettingsWatchWait = absl::Seconds(30);
inline constexpr absl::Duration kMaxSettingsWatchWait = absl::Seconds(60);

// Puts into `response` (and `call`'s raw_json splices) the documents
// `changes` marks changed, each with its generation (PutChangedGenerations):
// the answer of
// `updated_settings` and of `watch_settings`. `Call` is
// codegen_runtime::ServerContext or codegen_runtime::DeferredServerCall. The
// cached texts are spliced as they are (AgentService parses every text
// whole before it stores it in the cache), not parsed, printed or copied
// again.
template <typename Call>
absl::Status PutSettingsChanges(const SettingsChanges& changes, Call* call,
                                agent::UpdatedSettingsResponse* response) {
  const SettingsSnapshot& snap = changes.snapshot;
  if (changes.config_changed) {
    ZEN_RETURN_IF_ERROR(call->SpliceRawJson(
        agent::UpdatedSettingsResponse::kConfigFieldNumber,
        codegen_runtime::ValidatedJson::AlreadyValidated(snap.config)));
  }
  if (changes.firewall_lists_changed) {
    ZEN_RETURN_IF_ERROR(call->SpliceRawJson(
        agent::UpdatedSettingsResponse::kFirewallListsFieldNumber,
        codegen_runtime::ValidatedJson::AlreadyValidated(snap.firewall_lists)));
  }
  PutChangedGenerations(changes, response);
  return absl::OkStatus();
}

// Thread-safe. Owns its thread; Stop() (and the destructor) answers every
// parked call with `{}` and joins it.
class SettingsWatchers {
 public:
  // `cache` is not owned and must outlive this object.
  explicit SettingsWatchers(const SettingsCache* cache,
                            SettingsWatchOptions options = {})
      : cache_(cache), options_(options) {}
  ~SettingsWatchers() { Stop(); }
  SettingsWatchers(const SettingsWatchers&) = delete;
  SettingsWatchers& operator=(const SettingsWatchers&) = delete;

  // Starts the answering thread; kResourceExhausted if it cannot be
  // created (watches are then answered at once, as polls).
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);

  // Answers `call` now if a generation differs from the known one (absent:
  // never matches), else parks it for up to `wait`, unless its connection
  // or the pool is full (RESOURCE_EXHAUSTED). O(log n) in the calls parked.
  void Watch(std::unique_ptr<codegen_runtime::DeferredServerCall> call,
             std::optional<uint64_t> known_config,
             std::optional<uint64_t> known_firewall_lists, absl::Duration wait)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The cache changed: parked calls whose generations now differ are
  // answered (on this object's thread, so the updater never waits on a
  // worker's socket).
  void Notify() ABSL_LOCKS_EXCLUDED(mu_);

  // Answers every parked call `{}`, answers later watches at once, joins
  // the thread. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // For a forked child: forgets the parent's thread and parked calls (never
  // answered or freed here: they are the parent's), and stops, so nothing
  // later waits on the parent's thread. mu_ is registered with the fork
  // guard, so the child finds it free and the maps between two updates.
  void AbandonAfterFork() ABSL_LOCKS_EXCLUDED(mu_);

  // Calls parked now (those of workers gone since are dropped at the next
  // change, at their deadline, or when their connection or the pool is
  // full).
  size_t waiting() const ABSL_LOCKS_EXCLUDED(mu_);
  // Watches refused so far for a full connection or a full pool.
  uint64_t refused() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Parked {
    std::unique_ptr<codegen_runtime::DeferredServerCall> call;
    std::optional<uint64_t> known_config;
    std::optional<uint64_t> known_firewall_lists;
    absl::Time deadline;
  };
  // Orders parked calls by deadline; the id breaks ties.
  using DeadlineKey = std::pair<absl::Time, uint64_t>;

  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // Moves out of parked_ the calls to answer now: past due (the earliest
  // first, O(log n) each) or, after a Notify(), changed (a scan).
  std::vector<std::pair<Parked, SettingsChanges>> TakeReadyLocked(
      absl::Time now, bool changed) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes the call `id` out of every index.
  Parked RemoveLocked(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the parked calls of `connection`, if it is gone.
  void ForgetGoneLocked(const void* connection)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops every parked call whose worker is gone (a scan).
  void ForgetAllGoneLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Answers with what `changes` marks changed (`{}` for nothing).
  static void Answer(codegen_runtime::DeferredServerCall* call,
                     const SettingsChanges& changes);

  const SettingsCache* const cache_;  // Not owned.
  const SettingsWatchOptions options_;
  mutable Mutex mu_;
  CondVar wake_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool changed_ ABSL_GUARDED_BY(mu_) = false;  // Notify() since last scan.
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t refused_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<uint64_t, Parked> parked_ ABSL_GUARDED_BY(mu_);
  std::set<DeadlineKey> by_deadline_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<const void*, absl::InlinedVector<uint64_t, 4>>
      by_connection_ ABSL_GUARDED_BY(mu_);
  // Parent threads park, expire and answer watches at any moment of a
  // fork; the guard holds mu_ across it.
  ForkGuardRegistration fork_guard_{&mu_};
  ThreadGroup threads_;
};

}  // namespace zen

#endif  // ZEN_AGENT_SETTINGS_WATCHERS_H_
