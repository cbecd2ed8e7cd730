// ClientSettings: the settings a worker has applied, and what it has seen of
// its parent's, kept together so that they never disagree.
//
// A settings answer (from a poll or a watch) is recorded as seen, parsed
// through the parser the parent uses, and, when a document was taken,
// becomes the current settings, which the host is then told of. Answers are
// applied one at a time: a poll's and a watch's arriving together must not
// apply out of order (a stale document over a newer one).
//
// Thread-safe. A lock per purpose: poll_mu_ keeps polls in turn across
// their round trip; apply_mu_ keeps applies in turn across the parse and the
// host's callback; mu_ guards the state, is never held while parsing, so
// request threads reading current() never wait for a parse, and is
// fork-guarded.
#ifndef ZEN_AGENT_CLIENT_SETTINGS_H_
#define ZEN_AGENT_CLIENT_SETTINGS_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/agent_service.h"
#include "agent/model/runtime_settings.h"
#include "agent/seen_generations.h"
#include "base/fork_guard.h"
#include "base/mutex.h"
#include "proto/zen/agent/worker_agent.pb.h"

namespace zen {

class ClientSettings {
 public:
  // Called after new settings were applied, on the applying thread, with
  // applies held in turn (so calls never overlap and come in order). May be
  // empty.
  using OnApplied = std::function<void(std::shared_ptr<const RuntimeSettings>)>;

  // What was counted since the object was made.
  struct Counts {
    uint64_t polls = 0;    // Poll() calls.
    uint64_t watches = 0;  // StartWatch() calls.
    uint64_t applied = 0;  // Answers that changed the settings.
  };

  explicit ClientSettings(OnApplied on_applied);
  ClientSettings(const ClientSettings&) = delete;
  ClientSettings& operator=(const ClientSettings&) = delete;

  // The settings last applied; never null (empty before the first).
  std::shared_ptr<const RuntimeSettings> current() const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The same once a config was applied; null before (until then only the
  // parent knows the rate limits).
  std::shared_ptr<const RuntimeSettings> current_with_config() const
      ABSL_LOCKS_EXCLUDED(mu_);

  // One poll: fills the generations a poll asks with, has `ask` put the
  // question (to the parent), and applies the answer. One poll at a time,
  // so that two polls' answers cannot apply in the opposite order; a failed
  // `ask` returns its status and changes nothing. Counted.
  using Ask = std::function<absl::StatusOr<agent::UpdatedSettingsResponse>(
      const agent::UpdatedSettingsRequest&)>;
  absl::Status Poll(const Ask& ask) ABSL_LOCKS_EXCLUDED(poll_mu_, mu_);
  // Fills the generations a watch asks with (SeenGenerations says which)
  // and counts it; the caller applies its answer.
  void StartWatch(agent::WatchSettingsRequest* request)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Applies what an answer carries. A null (or absent) document changes
  // nothing and does not advance the applied generation, so the next poll
  // asks again (as in the reference). Returns the first document's parse
  // error; a document that parsed is taken even when the other failed.
  absl::Status Apply(const agent::UpdatedSettingsResponse& response)
      ABSL_LOCKS_EXCLUDED(apply_mu_, mu_);

  KnownGenerations applied_generations() const ABSL_LOCKS_EXCLUDED(mu_);
  Counts counts() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const OnApplied on_applied_;
  // Held across a poll's round trip, and a parse and the callback: neither
  // is fork-guarded (each would stall every fork()).
  Mutex poll_mu_;
  Mutex apply_mu_;
  mutable Mutex mu_;
  SeenGenerations seen_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const RuntimeSettings> current_ ABSL_GUARDED_BY(mu_);
  Counts counts_ ABSL_GUARDED_BY(mu_);
  ForkGuardRegistration fork_guard_{&mu_};
};

}  // namespace zen

#endif  // ZEN_AGENT_CLIENT_SETTINGS_H_
