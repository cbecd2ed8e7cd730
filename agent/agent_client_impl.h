// AgentClient::Impl, private to the agent_client target. Where its calls go
// is an AgentTransport (agent/agent_transport.h: the parent across a
// socket, or this process's service); what it knows of the parent's death
// is a ParentDeath shared with the Agent (agent/parent_death.h), and what
// it does about it a ParentExitWatch (agent/client_parent_watch.h); its
// background work runs on a PeriodicTasks (base/periodic_tasks.h); its
// settings, and what it has seen of the parent's, a ClientSettings
// (agent/client_settings.h); the events it holds an EventBuffer
// (agent/event_buffer.h).
// Its members are defined by purpose in several files:
//   agent_client.cc           lifecycle, the schedule's tasks
//   agent_client_settings.cc  settings polls and the watch thread
//   agent_client_events.cc    event buffering and batched flushes
//   agent_client_limits.cc    rate limits and attack waves, local fallback
#ifndef ZEN_AGENT_AGENT_CLIENT_IMPL_H_
#define ZEN_AGENT_AGENT_CLIENT_IMPL_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "agent/agent_client.h"
#include "agent/agent_transport.h"
#include "agent/client_parent_watch.h"
#include "agent/client_settings.h"
#include "agent/event_buffer.h"
#include "agent/model/attack_wave_detector.h"
#include "agent/model/collector_event.h"
#include "agent/model/rate_limiter.h"
#include "agent/model/runtime_settings.h"
#include "agent/parent_death.h"
#include "base/log_throttle.h"
#include "base/periodic_tasks.h"
#include "base/stop_signal.h"
#include "base/thread_group.h"
#include "proto/zen/agent/worker_agent.pb.h"
#include "rpc/channel.h"

namespace zen {

class AgentClient::Impl {
 public:
  // Calls go through `transport`: to a parent's server, or to the service
  // of this process.
  Impl(AgentClientOptions options, std::unique_ptr<AgentTransport> transport);
  ~Impl();

  // The options of a channel to the parent's server.
  static rpc::ChannelOptions ChannelOptionsFor(
      const AgentClientOptions& options);

  // RESOURCE_EXHAUSTED when the schedule thread cannot be created (a task
  // limit): the worker then has no client, instead of terminating.
  absl::Status Start();
  void Stop();

  std::shared_ptr<const RuntimeSettings> settings() const;
  void RecordEvent(CollectorEvent event);
  absl::Status Flush();
  absl::Status PollSettings();

  // The watch thread: one watch_settings call outstanding at a time, each
  // answered as soon as the parent's settings change (or `{}` after
  // watch_wait). Ends when the client stops, or at once when the parent
  // does not know the method (a reference parent): polling then takes over.
  // While the parent is gone it waits for the schedule thread to reach a
  // server again.
  void WatchLoop();

  RateLimitAnswer CalculateRateLimits(
      const RouteKey& route, absl::string_view client_ip,
      std::optional<absl::string_view> actor_id);
  // Decided in the shared zone when it can be: the worker holds a config
  // (before its first one, only the parent knows the limits), and the zone
  // decides (not a limit above its windows, not busy). False: ask the
  // parent.
  bool DecideInZone(const RouteKey& route, absl::string_view client_ip,
                    std::optional<absl::string_view> actor_id,
                    RateLimitAnswer* answer);
  // The parent could not answer in time (or is gone): decide locally
  // (limits then hold per worker only) and say so.
  RateLimitAnswer LocalRateLimits(const RouteKey& route,
                                  absl::string_view client_ip,
                                  std::optional<absl::string_view> actor_id,
                                  const absl::Status& why);

  AttackWaveAnswer RecordAttackWave(absl::string_view client_ip,
                                    absl::string_view method,
                                    absl::string_view url);
  // Short timeout, as the reference's: attackers can trigger this at will.
  // Then this worker's own detector decides (waves may be missed or doubled
  // while the parent does not answer, as in the reference).
  AttackWaveAnswer LocalAttackWave(absl::string_view client_ip,
                                   absl::string_view method,
                                   absl::string_view url,
                                   const absl::Status& why);

  bool connected() const;
  bool parent_alive() const;
  AgentClientStats stats() const;
  void AbandonAfterFork();

 private:
  // The schedule's tasks (agent_client.cc). While a watch_settings call is
  // kept outstanding, polls are skipped: the watch brings every change
  // sooner.
  void PollOnSchedule();
  void FlushOnSchedule();

  const AgentClientOptions options_;
  const std::unique_ptr<AgentTransport> transport_;
  // The Agent's, or (a client made alone) this client's own.
  const std::shared_ptr<ParentDeath> parent_death_;
  RateLimiter local_limiter_;
  // Over the zone the parent mapped before forking; null without one.
  const std::unique_ptr<RateLimiter> zone_limiter_;
  std::atomic<uint64_t> zone_decisions_{0};
  std::atomic<uint64_t> zone_deferred_{0};
  AttackWaveDetector local_attack_waves_{options_.attack_wave};
  LogThrottle rate_limit_log_{options_.log_interval};
  LogThrottle attack_wave_log_{options_.log_interval};
  LogThrottle poll_log_{options_.log_interval};
  LogThrottle flush_log_{options_.log_interval};
  // Settings polling, event flushing and the parent watch share one thread
  // (as the reference's shared worker); keepalive runs on the channel's.
  PeriodicTasks schedule_;
  // Added in the constructor, before any thread that makes them due.
  PeriodicTasks::TaskId parent_task_ = 0, poll_task_ = 0, flush_task_ = 0;
  ParentExitWatch parent_;
  EventBuffer events_{options_.max_buffered_events};
  ClientSettings settings_;

  StopSignal stop_;
  // A watch_settings call is kept outstanding (false: polling instead).
  std::atomic<bool> watching_settings_{false};
  // What no piece counts; stats() gathers the rest from the pieces.
  std::atomic<uint64_t> watches_refused_{0};
  std::atomic<uint64_t> rate_limit_fallbacks_{0};
  std::atomic<uint64_t> attack_wave_fallbacks_{0};
  ThreadGroup threads_;  // The watch thread.
};

}  // namespace zen

#endif  // ZEN_AGENT_AGENT_CLIENT_IMPL_H_
