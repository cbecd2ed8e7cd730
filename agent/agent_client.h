// AgentClient: the worker side of the worker-process agent.
#ifndef ZEN_AGENT_AGENT_CLIENT_H_
#define ZEN_AGENT_AGENT_CLIENT_H_

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "agent/model/attack_wave_detector.h"
#include "agent/model/collector_event.h"
#include "agent/model/rate_limiter.h"
#include "agent/model/runtime_settings.h"
#include "base/mutex.h"
#include "base/thread_group.h"
#include "ipc/options.h"
#include "ipc/secret.h"
#include "ipc/socket_io.h"

namespace zen {

class AgentService;  // agent/agent_service.h

class ParentDeath;  // agent/parent_death.h

struct AgentClientOptions {
  // Where the parent's AgentServer listens: host:port over TCP, or the
  // socket at unix_path with ipc::Transport::kUnix.
  ipc::Transport transport = ipc::Transport::kTcp;
  std::string host = ipc::kLoopbackHost;
  uint16_t port = 0;
  std::string unix_path;
  // Keepalive ping while idle (the server closes idle connections at 5 s).
  absl::Duration keepalive_interval = absl::Seconds(4);
  // Settings polling: first after a random whole number of seconds in
  // [1, polling_jitter] seeded by the pid (forked children inherit identical
  // random state), then every polling_interval. A jitter under 1 s polls at
  // once.
  absl::Duration polling_interval = absl::Seconds(10);
  absl::Duration polling_jitter = absl::Seconds(10);
  // Keep a watch_settings call outstanding, so a change reaches this
  // worker as soon as the parent has it; polls are then skipped. A parent
  // without the method (a reference parent) answers UNIMPLEMENTED once and
  // polling takes over; a parent without room for the watch answers
  // RESOURCE_EXHAUSTED and polling takes over until a later watch is
  // answered (AgentClientStats::settings_watches_refused). watch_wait: how long
  // the parent may hold a watch before answering `{}` (at most 60 s; the call's
  // deadline is watch_wait + call_timeout).
  bool watch_settings = true;
  absl::Duration watch_wait = absl::Seconds(30);
  // How often buffered events (and the calls' metrics) go to the parent.
  // Not the product's heartbeat, which the parent sends on the
  // settings' heartbeatIntervalInMS.
  absl::Duration flush_interval = absl::Seconds(10);
  // Per-call deadlines (the reference's: rate limits 5 s is too long for a
  // request path; we default to 1 s and fall back to the local limiter).
  absl::Duration call_timeout = absl::Seconds(4);
  absl::Duration rate_limit_timeout = absl::Seconds(1);
  // The reference's ATTACK_WAVE_TIMEOUT: short, since attackers can trigger
  // the call at will. Past it the worker's local detector decides.
  absl::Duration attack_wave_timeout = absl::Seconds(1);
  // The local detector's settings (the parent's are its own).
  AttackWaveOptions attack_wave;
  // Events kept while the parent cannot take them; past this the oldest are
  // dropped and counted.
  size_t max_buffered_events = 100000;
  // Reconnection after a dropped connection.
  absl::Duration reconnect_delay = ipc::kDefaultReconnectDelay;
  // Opt-in: spin up to this long for an answer before sleeping
  // (ipc::StreamOptions::spin_before_block says when it pays). For workers
  // that ask for rate limits on the request path and have CPU to spare.
  absl::Duration spin_before_block = absl::ZeroDuration();
  // Called (on a client thread) after new settings were applied.
  std::function<void(std::shared_ptr<const RuntimeSettings>)> on_settings;

  // The parent's death. `parent_pid` is the pid of the process that forked
  // this one (Agent fills it in); 0 turns the watch off. When the parent has
  // exited (getppid() is no longer parent_pid) and its server cannot be
  // reached (a call found the connection refused or closed, or a ping
  // failed), calls fail fast (kUnavailable, "parent process ... exited";
  // rate limits and attack waves are decided locally at once), the
  // connection stops retrying at its fixed delay, and the client tries again
  // only after a delay that starts at reconnect_delay and doubles up to
  // dead_parent_max_retry_delay, each spread over +-25%.
  pid_t parent_pid = 0;
  // How often the client thread looks at getppid() (one system call).
  absl::Duration parent_check_interval = absl::Milliseconds(250);
  absl::Duration dead_parent_max_retry_delay = absl::Seconds(60);
  // Called once per process, on the client thread, when the parent is found
  // to have exited as above. Must not call back into this client's Stop().
  std::function<void()> on_parent_exit;
  // What this process knows of its parent's death, when someone else keeps
  // it too (the Agent, which may notice the death first while connecting):
  // then its parent pid, retry waits and callback are used, and the three
  // fields above are not. Null: the client keeps its own.
  std::shared_ptr<ParentDeath> parent_death;
  // Each kind of warning this client logs goes out at most once per this
  // interval; the next one says how many were suppressed (LogThrottle).
  absl::Duration log_interval = absl::Seconds(10);
  // Not owned. The rate-limit zone the parent mapped before forking this
  // process (Agent fills it in from Agent::rate_limit_zone(); nullptr when
  // it has none): rate limits are decided in it with no round trip, and
  // asked of the parent when it cannot decide (RateLimiter::Decide with
  // ZoneFallback::kReport). Must outlive the client.
  RateLimitZone* rate_limit_zone = nullptr;
};

struct AgentClientStats {
  uint64_t events_recorded = 0;
  uint64_t events_sent = 0;
  uint64_t events_dropped = 0;  // Buffer cap hit.
  uint64_t flush_failures = 0;
  uint64_t settings_polls = 0;
  uint64_t settings_watches = 0;  // watch_settings calls made.
  // Of those, refused by a parent with no room (RESOURCE_EXHAUSTED): the
  // client then polls updated_settings every polling_interval, and tries a
  // watch again after polling_interval plus up to polling_jitter; once a
  // watch is answered, polls are skipped again.
  uint64_t settings_watches_refused = 0;
  uint64_t settings_applied = 0;
  uint64_t rate_limit_fallbacks = 0;
  // Rate-limit questions this worker decided in the shared zone (no round
  // trip), and those the zone could not decide (a limit above what its
  // windows hold, or its lock busy) that went to the parent instead.
  uint64_t rate_limits_from_zone = 0;
  uint64_t rate_limits_zone_deferred = 0;
  // record_attack_wave calls the parent did not answer within
  // attack_wave_timeout, decided by the local detector instead.
  uint64_t attack_wave_fallbacks = 0;
  std::optional<int64_t> config_generation;
  std::optional<int64_t> firewall_lists_generation;
};

// Who decided a rate-limit question.
enum class RateLimitSource {
  kParent,  // the parent's limiter (calculate_rate_limits, or in process)
  kZone,    // this worker, in the windows every worker shares
  kWorker,  // this worker's own limiter: the parent did not answer in time;
            // limits then hold per worker only
};

// The answer to a rate-limit question, and who gave it.
struct RateLimitAnswer {
  std::optional<RateLimitResult> result;  // nullopt: no limit applies.
  RateLimitSource source = RateLimitSource::kParent;
  // false only for kWorker: the decision did not count in the windows all
  // workers share (a zone decision does, as the parent's).
  bool from_parent = true;
};

// The answer to an attack-wave report, and who gave it.
struct AttackWaveAnswer {
  // The wave's samples, oldest first, when this request completed one (the
  // client IP is then flagged for the detector's cooldown); else nullopt.
  std::optional<std::vector<AttackWaveSample>> samples;
  bool from_parent = true;  // false: the parent did not answer within
                            // attack_wave_timeout; the local detector decided.
};

// Runs in a worker (or in-process, see CreateInProcess): one authenticated
// connection to the parent, with a
// keepalive, settings polling (applied through the same RuntimeSettings
// parser the parent uses), buffered event flushing, rate-limit and
// attack-wave questions. Reconnects after a dropped connection and goes on.
//
// Thread-safe. Owns its threads; Stop() (and the destructor) joins them.
class AgentClient {
 public:
  // Connects and starts the background work. `secret` is not owned and must
  // outlive the client. kUnavailable / kUnauthenticated if the parent cannot
  // be reached or does not prove it holds the secret; kResourceExhausted if
  // its thread cannot be created.
  static absl::StatusOr<std::unique_ptr<AgentClient>> Create(
      const ipc::Secret* secret, AgentClientOptions options);

  // A client in the process that holds the server: the same API, the same
  // requests and the same handling of the answers, but each call goes
  // straight to `service` (AgentServer::service()) instead of through a
  // socket, so its answers are those a worker gets for the same question.
  // Settings are polled and events flushed on the same schedule as a
  // worker's. `service` is not owned and must outlive the client. Fails only
  // when its thread cannot be created (kResourceExhausted).
  static absl::StatusOr<std::unique_ptr<AgentClient>> CreateInProcess(
      AgentService* service, AgentClientOptions options);
  ~AgentClient();

  void Stop();

  // The settings last applied (never null; empty before the first poll).
  std::shared_ptr<const RuntimeSettings> settings() const;

  // Buffers an event for the next flush.
  void RecordEvent(CollectorEvent event);

  // Sends the buffered events now, then what this worker's calls to the
  // parent counted since its last report (report_metrics; agent/
  // call_metrics.h). On failure the events stay buffered for the next try
  // (up to the cap), as do the metrics.
  absl::Status Flush();

  // Asks the parent for new settings now and applies what changed
  // (updated_settings; the watch, when on, needs no polls).
  absl::Status PollSettings();

  // Asks the parent's shared rate limiter; falls back to a local limiter
  // when the parent does not answer within rate_limit_timeout. An actor
  // (non-empty id) goes on the wire as the reference builds the current
  // request's: the id, this client IP, first and last seen now.
  RateLimitAnswer CalculateRateLimits(
      const RouteKey& route, absl::string_view client_ip,
      std::optional<absl::string_view> actor_id);

  // Reports a suspicious request (a probe for /.env, /.git, ...) to the
  // parent's one detector; the answer carries the wave's samples once this
  // request completes one. Falls back to a local detector when the parent
  // does not answer within attack_wave_timeout (counted in stats()).
  AttackWaveAnswer RecordAttackWave(absl::string_view client_ip,
                                    absl::string_view method,
                                    absl::string_view url);

  bool connected() const;
  AgentClientStats stats() const;

  // False once the process that forked this one (options.parent_pid) has
  // exited; true when the watch is off. One getppid() call.
  bool parent_alive() const;

  // For a grandchild that inherited this client from its parent worker:
  // closes this process's copy of the socket (never shutdown) and forgets
  // the worker's threads. Then leak the object.
  void AbandonAfterFork();

  class Impl;

 private:
  explicit AgentClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace zen

#endif  // ZEN_AGENT_AGENT_CLIENT_H_
