// AgentServer: the parent side of the worker-process agent.
#ifndef ZEN_AGENT_AGENT_SERVER_H_
#define ZEN_AGENT_AGENT_SERVER_H_

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/attack_wave_detector.h"
#include "agent/collector.h"
#include "agent/rate_limiter.h"
#include "agent/runtime_settings.h"
#include "agent/settings_cache.h"
#include "base/mutex.h"
#include "ipc/secret.h"
#include "rpc/server.h"

namespace zen {

struct AgentServerOptions {
  // Address (127.0.0.1, ephemeral port by default), limits, idle timeout.
  rpc::ServerOptions server;
  CollectorOptions collector;
  RateLimiterOptions rate_limiter;
  AttackWaveOptions attack_wave;
};

// Runs in the parent: serves the WorkerAgent methods (proto/zen/agent) to
// every forked worker over an authenticated loopback connection, and holds
// the state all workers share: the settings as received from the product's
// API (SettingsCache), the statistics folded from the workers' events
// (Collector), the one rate limiter and the one attack-wave detector.
//
// Thread-safe. Owns its server threads; Stop() (and the destructor) joins
// them.
class AgentServer {
 public:
  // Binds at once; `secret` is not owned and must outlive the server (and
  // be inherited by the workers).
  static absl::StatusOr<std::unique_ptr<AgentServer>> Create(
      const ipc::Secret* secret, AgentServerOptions options = {});
  ~AgentServer();

  absl::Status Start();
  void Stop();

  const std::string& host() const;
  uint16_t port() const;
  // The socket's path with the Unix-domain transport (empty for TCP).
  const std::string& unix_path() const;

  // New settings documents from the host program's API client, as received.
  // The text is kept byte-for-byte (workers get exactly these bytes) and the
  // parent's own RuntimeSettings are updated through the same parser the
  // workers use. A malformed document is rejected (kInvalidArgument) and the
  // previous one stays, in the cache and in settings(). So the cache holds
  // only whole, strict JSON values (blank text becomes `null`), which
  // `updated_settings` splices into responses without parsing them again.
  absl::Status UpdateConfig(std::string json);
  absl::Status UpdateFirewallLists(std::string json);

  // The parent's parsed settings (never null; empty until the first update).
  std::shared_ptr<const RuntimeSettings> settings() const;
  const SettingsCache& settings_cache() const { return cache_; }
  Collector& collector() { return collector_; }
  RateLimiter& rate_limiter() { return rate_limiter_; }
  AttackWaveDetector& attack_waves() { return attack_waves_; }
  rpc::ServerStats server_stats() const { return server_->stats(); }
  // Events workers sent that could not be folded: not an object of an
  // event's shape, or of a type this version does not know. Counted here,
  // not by the Collector, which only sees events that were read.
  uint64_t unreadable_events() const {
    return unreadable_events_.load(std::memory_order_relaxed);
  }

  // For a forked child that inherited this object: closes this process's
  // copies of the server's sockets (never shutdown) and forgets its threads.
  // Call before any other thread starts in the child; then leak the object.
  void AbandonAfterFork();

 private:
  class Service;
  AgentServer(AgentServerOptions options);

  // UpdateConfig and UpdateFirewallLists: `apply` reads the document into a
  // copy of the settings, and only if it succeeds does `store` cache it and
  // the copy replace settings_.
  absl::Status UpdateDocument(
      std::string json,
      absl::Status (RuntimeSettings::*apply)(absl::string_view),
      uint64_t (SettingsCache::*store)(std::string))
      ABSL_LOCKS_EXCLUDED(update_mu_, settings_mu_);

  const AgentServerOptions options_;
  SettingsCache cache_;  // Written only by UpdateDocument.
  Collector collector_;
  RateLimiter rate_limiter_;
  AttackWaveDetector attack_waves_;
  Mutex update_mu_;  // Serializes UpdateDocument.
  mutable Mutex settings_mu_;
  std::shared_ptr<const RuntimeSettings> settings_
      ABSL_GUARDED_BY(settings_mu_);
  std::atomic<uint64_t> unreadable_events_{0};
  std::unique_ptr<Service> service_;
  std::unique_ptr<rpc::Server> server_;
};

}  // namespace zen

#endif  // ZEN_AGENT_AGENT_SERVER_H_
