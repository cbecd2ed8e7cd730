// AgentService: the parent's shared state and the WorkerAgent methods over
// it, as plain calls.
#ifndef ZEN_AGENT_AGENT_SERVICE_H_
#define ZEN_AGENT_AGENT_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "agent/model/attack_wave_detector.h"
#include "agent/model/collector.h"
#include "agent/model/rate_limiter.h"
#include "agent/model/runtime_settings.h"
#include "agent/model/settings_cache.h"
#include "base/log_throttle.h"
#include "base/mutex.h"
#include "proto/zen/agent/worker_agent.pb.h"

namespace zen {

struct AgentServiceOptions {
  CollectorOptions collector;
  RateLimiterOptions rate_limiter;
  AttackWaveOptions attack_wave;
};

// The generations a worker says it holds, from an UpdatedSettingsRequest or
// a WatchSettingsRequest: absent (JSON null) or negative is none.
struct KnownGenerations {
  std::optional<uint64_t> config;
  std::optional<uint64_t> firewall_lists;
};
template <typename Request>
KnownGenerations KnownGenerationsOf(const Request& request) {
  KnownGenerations known;
  if (request.has_known_config_generation() &&
      request.known_config_generation() >= 0) {
    known.config = static_cast<uint64_t>(request.known_config_generation());
  }
  if (request.has_known_firewall_lists_generation() &&
      request.known_firewall_lists_generation() >= 0) {
    known.firewall_lists =
        static_cast<uint64_t>(request.known_firewall_lists_generation());
  }
  return known;
}
// The inverse, for a worker's request: each generation it holds, none left
// absent.
template <typename Request>
void PutKnownGenerations(const KnownGenerations& known, Request* request) {
  if (known.config) {
    request->set_known_config_generation(static_cast<int32_t>(*known.config));
  }
  if (known.firewall_lists) {
    request->set_known_firewall_lists_generation(
        static_cast<int32_t>(*known.firewall_lists));
  }
}

// Sets in `response` the generation of each document `changes` marks
// changed (updated_settings and watch_settings answer alike).
void PutChangedGenerations(const SettingsChanges& changes,
                           agent::UpdatedSettingsResponse* response);

// Holds what all workers share: the settings as received from the product's
// API (SettingsCache) and parsed (RuntimeSettings), the statistics folded
// from their events (Collector), the one rate limiter and the one
// attack-wave detector; and answers the WorkerAgent methods
// (proto/zen/agent/worker_agent.proto) over them.
//
// There is one code path: AgentServer's RPC handlers decode a worker's
// request and call these methods; the parent's own AgentClient (Agent::
// client() in the process that created the Agent) builds the same request
// and calls them directly, with no socket. So a parent and a worker asking
// the same question get the same answer, by construction.
//
// Thread-safe.
class AgentService {
 public:
  explicit AgentService(const AgentServiceOptions& options);
  AgentService(const AgentService&) = delete;
  AgentService& operator=(const AgentService&) = delete;

  // New settings documents, as received; see AgentServer::UpdateConfig.
  // kInvalidArgument for a malformed document (the previous one stays).
  absl::Status UpdateConfig(std::string json) ABSL_LOCKS_EXCLUDED(update_mu_);
  absl::Status UpdateFirewallLists(std::string json)
      ABSL_LOCKS_EXCLUDED(update_mu_);

  // The parent's parsed settings (never null; empty until the first update).
  std::shared_ptr<const RuntimeSettings> settings() const;
  const SettingsCache& settings_cache() const { return cache_; }
  Collector& collector() { return collector_; }
  RateLimiter& rate_limiter() { return rate_limiter_; }
  const RateLimiter& rate_limiter() const { return rate_limiter_; }
  AttackWaveDetector& attack_waves() { return attack_waves_; }
  // Events that could not be folded (see AgentServer::unreadable_events).
  uint64_t unreadable_events() const {
    return unreadable_events_.load(std::memory_order_relaxed);
  }
  // Warnings about unreadable events not logged: at most one per
  // kEventWarningInterval goes out (LogThrottle), so a worker sending
  // malformed batches does not write the parent's log at its own rate.
  uint64_t warnings_suppressed() const {
    return warnings_suppressed_.load(std::memory_order_relaxed);
  }
  static constexpr absl::Duration kEventWarningInterval = absl::Seconds(10);

  // updated_settings: what changed since the generations the caller knows,
  // with the documents' bytes in the snapshot. PutChangedGenerations puts
  // the generations into a response; the RPC handler splices the bytes
  // into the frame unparsed, an in-process caller copies them into
  // `config` and `firewall_lists`, which are raw JSON.
  SettingsChanges UpdatedSettings(
      const agent::UpdatedSettingsRequest& request) const;

  // send_collector_events: decodes the batch one event at a time and folds
  // what it can read; what it cannot is counted and logged, never an error.
  void SendCollectorEvents(const agent::SendCollectorEventsRequest& request);

  // calculate_rate_limits: an empty response when no limit applies.
  void CalculateRateLimits(const agent::CalculateRateLimitsRequest& request,
                           agent::CalculateRateLimitsResponse* response);

  // record_attack_wave: the wave's samples when this request completed one.
  void RecordAttackWave(const agent::RecordAttackWaveRequest& request,
                        agent::RecordAttackWaveResponse* response);

 private:
  // UpdateConfig and UpdateFirewallLists: `apply` reads the document into a
  // copy of the settings, and only if it succeeds does `store` cache it and
  // the copy replace settings_.
  absl::Status UpdateDocument(
      std::string json,
      absl::Status (RuntimeSettings::*apply)(absl::string_view),
      uint64_t (SettingsCache::*store)(std::string))
      ABSL_LOCKS_EXCLUDED(update_mu_, settings_mu_);

  SettingsCache cache_;  // Written only by UpdateDocument.
  Collector collector_;
  RateLimiter rate_limiter_;
  AttackWaveDetector attack_waves_;
  Mutex update_mu_;  // Serializes UpdateDocument.
  mutable Mutex settings_mu_;
  std::shared_ptr<const RuntimeSettings> settings_
      ABSL_GUARDED_BY(settings_mu_);
  // Logs `message` through events_log_, counting it if suppressed.
  void WarnAboutEvents(absl::string_view message);

  std::atomic<uint64_t> unreadable_events_{0};
  LogThrottle events_log_{kEventWarningInterval};
  std::atomic<uint64_t> warnings_suppressed_{0};
};

}  // namespace zen

#endif  // ZEN_AGENT_AGENT_SERVICE_H_
