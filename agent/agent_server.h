// AgentServer: the parent side of the worker-process agent.
#ifndef ZEN_AGENT_AGENT_SERVER_H_
#define ZEN_AGENT_AGENT_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/server_options.h"
#include "ipc/secret.h"
#include "rpc/server.h"

namespace zen {

// Defined in headers only the server's sources and the callers of these
// parts' own APIs include: agent_server.h stays free of the generated
// WorkerAgent messages (docs/build.md: it is included by most tests).
class AgentService;
class RuntimeSettings;
class SettingsCache;
class SettingsWatchers;
class WorkerMetrics;

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
  const SettingsCache& settings_cache() const;
  Collector& collector();
  RateLimiter& rate_limiter();
  AttackWaveDetector& attack_waves();
  // The WorkerAgent methods as plain calls: what the RPC handlers run, and
  // what the parent's in-process AgentClient calls.
  AgentService& service() { return *service_; }
  // Workers' watch_settings calls parked now (waiting for a change).
  size_t settings_watches_waiting() const;
  // Watches refused (RESOURCE_EXHAUSTED) for a full connection or pool.
  uint64_t settings_watches_refused() const;
  rpc::ServerStats server_stats() const { return server_->stats(); }
  // Events workers sent that could not be folded: not an object of an
  // event's shape, or of a type this version does not know. Counted here,
  // not by the Collector, which only sees events that were read.
  uint64_t unreadable_events() const;
  // Warnings about workers' calls not logged (each kind goes out at most
  // once per 10 s, saying how many were suppressed): the RPC server's
  // (handler errors, frames not JSON) and the unreadable events'.
  uint64_t warnings_suppressed() const;

  // Appends a scrape in Prometheus' text format (0.0.4; serve it as
  // rpc::kMetricsContentType) to *out:
  //   zen_agent_server_*   the calls this parent's server handled, per method
  //                        (calls_total, errors_total by code,
  //                        latency_seconds histogram, rpc::AppendMethodMetrics)
  //   zen_agent_worker_*   the same families for the calls workers made, as
  //                        the sum of their report_metrics reports: figures
  //                        of a worker up to its last events flush, kept
  //                        after it exits, so no counter goes backwards
  //   zen_agent_worker_metrics_reports_total, _rejected_total  reports
  //                        taken, and entries refused as malformed
  // Thread-safe; call it in the parent.
  void WriteMetrics(std::string* out) const;
  const WorkerMetrics& worker_metrics() const { return *worker_metrics_; }

  // For a forked child that inherited this object: closes this process's
  // copies of the server's sockets (never shutdown) and forgets its threads.
  // Call before any other thread starts in the child; then leak the object.
  void AbandonAfterFork();

 private:
  class Service;
  AgentServer(AgentServerOptions options);

  const AgentServerOptions options_;
  // Held by pointer so that this header need not define them. Never null.
  const std::unique_ptr<AgentService> service_;
  // Parked watch_settings calls, answered when UpdateConfig or
  // UpdateFirewallLists change the service's cache.
  const std::unique_ptr<SettingsWatchers> watchers_;
  // The sums of the workers' report_metrics calls.
  const std::unique_ptr<WorkerMetrics> worker_metrics_;
  std::unique_ptr<Service> rpc_service_;
  std::unique_ptr<rpc::Server> server_;
};

}  // namespace zen

#endif  // ZEN_AGENT_AGENT_SERVER_H_
