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
#ifndef ZEN_AGENT_SETTINGS_WATCHERS_H_
#define ZEN_AGENT_SETTINGS_WATCHERS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "agent/agent_service.h"
#include "agent/settings_cache.h"
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
  // `cache` is not owned and must outlive this object. At most
  // `max_waiting` calls are parked at once; more are answered
  // RESOURCE_EXHAUSTED (the client falls back to polling for a while).
  explicit SettingsWatchers(const SettingsCache* cache,
                            size_t max_waiting = 16384)
      : cache_(cache), max_waiting_(max_waiting) {}
  ~SettingsWatchers() { Stop(); }
  SettingsWatchers(const SettingsWatchers&) = delete;
  SettingsWatchers& operator=(const SettingsWatchers&) = delete;

  // Starts the answering thread; kResourceExhausted if it cannot be
  // created (watches are then answered at once, as polls).
  absl::Status Start() ABSL_LOCKS_EXCLUDED(mu_);

  // Answers `call` now if a generation differs from the known one (absent:
  // never matches), else parks it for up to `wait`.
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

  // For a forked child: forgets the parent's thread and parked calls.
  // Unchecked by -Wthread-safety: it reads parked_ without mu_, which is not
  // registered with the fork guard and so may have been held, for good, by
  // a parent thread at the fork; no other thread exists in the child.
  void AbandonAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS;

  // Calls parked now (those of workers gone since are dropped at the next
  // change, deadline or full house).
  size_t waiting() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Parked {
    std::unique_ptr<codegen_runtime::DeferredServerCall> call;
    std::optional<uint64_t> known_config;
    std::optional<uint64_t> known_firewall_lists;
    absl::Time deadline;
  };

  void Loop() ABSL_LOCKS_EXCLUDED(mu_);
  // Moves out of parked_ the calls to answer now: changed or past due.
  std::vector<std::pair<Parked, SettingsChanges>> TakeReadyLocked(
      absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops parked calls whose worker is gone (their answers would be lost).
  void ForgetGoneLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Answers with what `changes` marks changed (`{}` for nothing).
  static void Answer(codegen_runtime::DeferredServerCall* call,
                     const SettingsChanges& changes);

  const SettingsCache* const cache_;  // Not owned.
  const size_t max_waiting_;
  mutable Mutex mu_;
  CondVar wake_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool changed_ ABSL_GUARDED_BY(mu_) = false;  // Notify() since last scan.
  std::vector<Parked> parked_ ABSL_GUARDED_BY(mu_);
  ThreadGroup threads_;
};

}  // namespace zen

#endif  // ZEN_AGENT_SETTINGS_WATCHERS_H_
