#include "agent/agent_server.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "agent/agent_service.h"
#include "agent/call_metrics.h"
#include "agent/model/settings_cache.h"
#include "agent/settings_watchers.h"
#include "base/clock.h"
#include "base/log.h"
#include "codegen_runtime/json_value.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/metrics_text.h"

namespace zen {

// The WorkerAgent methods on the wire: each decoded request goes to the
// AgentService, the one code path the parent's in-process client uses too.
class AgentServer::Service final : public agent::WorkerAgent::Service {
 public:
  Service(AgentService* service, SettingsWatchers* watchers,
          WorkerMetrics* worker_metrics)
      : service_(service),
        watchers_(watchers),
        worker_metrics_(worker_metrics) {}

  absl::Status Ping(codegen_runtime::ServerContext*, const agent::PingRequest&,
                    agent::PingResponse*) override {
    return absl::OkStatus();
  }

  // Only what changed since the generations the child knows; the cached
  // bytes are spliced into the response as received (the fields are
  // raw_json), never parsed, printed or copied here: the response is
  // written straight from the snapshot's strings, which the context keeps
  // alive until then.
  absl::Status UpdatedSettings(
      codegen_runtime::ServerContext* context,
      const agent::UpdatedSettingsRequest& request,
      agent::UpdatedSettingsResponse* response) override {
    return PutSettingsChanges(service_->UpdatedSettings(request), context,
                              response);
  }

  // The long poll: parked (no thread waits) until a generation differs or
  // the wait runs out; see SettingsWatchers.
  absl::Status WatchSettings(codegen_runtime::ServerContext* context,
                             const agent::WatchSettingsRequest& request,
                             agent::UpdatedSettingsResponse*) override {
    absl::Duration wait = kDefaultSettingsWatchWait;
    if (request.has_wait_ms() && request.wait_ms() >= 0 &&
        absl::Milliseconds(request.wait_ms()) <= kMaxSettingsWatchWait) {
      wait = absl::Milliseconds(request.wait_ms());
    }
    absl::StatusOr<std::unique_ptr<codegen_runtime::DeferredServerCall>>
        deferred = context->Defer();
    if (!deferred.ok()) return deferred.status();
    const KnownGenerations known = KnownGenerationsOf(request);
    watchers_->Watch(std::move(*deferred), known.config, known.firewall_lists,
                     wait);
    return absl::OkStatus();
  }

  // Acknowledged first (respond-early), then folded.
  absl::Status SendCollectorEvents(
      codegen_runtime::ServerContext* context,
      const agent::SendCollectorEventsRequest& request,
      agent::SendCollectorEventsResponse*) override {
    absl::Status acked = context->RespondNow();
    if (!acked.ok()) return acked;
    service_->SendCollectorEvents(request);
    return absl::OkStatus();
  }

  absl::Status CalculateRateLimits(
      codegen_runtime::ServerContext*,
      const agent::CalculateRateLimitsRequest& request,
      agent::CalculateRateLimitsResponse* response) override {
    service_->CalculateRateLimits(request, response);
    return absl::OkStatus();
  }

  absl::Status RecordAttackWave(
      codegen_runtime::ServerContext*,
      const agent::RecordAttackWaveRequest& request,
      agent::RecordAttackWaveResponse* response) override {
    service_->RecordAttackWave(request, response);
    return absl::OkStatus();
  }

  absl::Status ReportMetrics(codegen_runtime::ServerContext*,
                             const agent::ReportMetricsRequest& request,
                             agent::ReportMetricsResponse*) override {
    worker_metrics_->Add(request);
    return absl::OkStatus();
  }

 private:
  AgentService* const service_;          // Not owned; outlives the RPC service.
  SettingsWatchers* const watchers_;     // Not owned; as service_.
  WorkerMetrics* const worker_metrics_;  // Not owned; as service_.
};

absl::StatusOr<std::unique_ptr<AgentServer>> AgentServer::Create(
    const ipc::Secret* secret, AgentServerOptions options) {
  // Before any worker is forked: see PrepareJsonForFork.
  codegen_runtime::PrepareJsonForFork();
  std::unique_ptr<AgentServer> server(new AgentServer(options));
  absl::StatusOr<std::unique_ptr<rpc::Server>> rpc_server =
      rpc::Server::Create(secret, options.server);
  if (!rpc_server.ok()) return rpc_server.status();
  server->server_ = std::move(*rpc_server);
  server->rpc_service_ =
      std::make_unique<Service>(server->service_.get(), server->watchers_.get(),
                                server->worker_metrics_.get());
  server->rpc_service_->RegisterOn(server->server_.get());
  return server;
}

namespace {

// Every connection the server admits can park its share of watches.
SettingsWatchOptions WatchOptionsFor(const AgentServerOptions& options) {
  SettingsWatchOptions watch = options.settings_watch;
  watch.max_waiting =
      watch.max_per_connection *
      std::max<size_t>(options.server.listener.max_connections, 1);
  return watch;
}

}  // namespace

AgentServer::AgentServer(AgentServerOptions options)
    : options_(std::move(options)),
      service_(std::make_unique<AgentService>(AgentServiceOptions{
          options_.collector, options_.rate_limiter, options_.attack_wave})),
      watchers_(std::make_unique<SettingsWatchers>(&service_->settings_cache(),
                                                   WatchOptionsFor(options_))),
      worker_metrics_(
          std::make_unique<WorkerMetrics>(options_.worker_metrics)) {}

AgentServer::~AgentServer() {
  watchers_->Stop();
  if (server_ != nullptr) server_->Stop();
}

absl::Status AgentServer::Start() {
  // Without its thread a watch is answered at once, as a poll: workers
  // still get settings, only later.
  absl::Status watching = watchers_->Start();
  if (!watching.ok()) {
    LogWarning("agent server: settings watches answered as polls: ",
               watching.message());
  }
  return server_->Start();
}

void AgentServer::Stop() {
  watchers_->Stop();  // Parked watches get `{}` while their connections live.
  server_->Stop();
}
const SettingsCache& AgentServer::settings_cache() const {
  return service_->settings_cache();
}
Collector& AgentServer::collector() { return service_->collector(); }
RateLimiter& AgentServer::rate_limiter() { return service_->rate_limiter(); }
AttackWaveDetector& AgentServer::attack_waves() {
  return service_->attack_waves();
}
size_t AgentServer::settings_watches_waiting() const {
  return watchers_->waiting();
}
uint64_t AgentServer::settings_watches_refused() const {
  return watchers_->refused();
}
uint64_t AgentServer::unreadable_events() const {
  return service_->unreadable_events();
}
uint64_t AgentServer::warnings_suppressed() const {
  return server_->stats().warnings_suppressed + service_->warnings_suppressed();
}

const std::string& AgentServer::host() const { return server_->host(); }
uint16_t AgentServer::port() const { return server_->port(); }
const std::string& AgentServer::unix_path() const {
  return server_->unix_path();
}

std::shared_ptr<const RuntimeSettings> AgentServer::settings() const {
  return service_->settings();
}

absl::Status AgentServer::UpdateConfig(std::string json) {
  absl::Status updated = service_->UpdateConfig(std::move(json));
  if (updated.ok()) watchers_->Notify();
  return updated;
}

absl::Status AgentServer::UpdateFirewallLists(std::string json) {
  absl::Status updated = service_->UpdateFirewallLists(std::move(json));
  if (updated.ok()) watchers_->Notify();
  return updated;
}

void AgentServer::WriteMetrics(std::string* out) const {
  rpc::AppendMethodMetrics("zen_agent_server", "this agent server handled",
                           server_->method_metrics(), out);
  rpc::AppendMethodMetrics("zen_agent_worker",
                           "workers made to the agent server, as reported",
                           worker_metrics_->Sum(), out);
  absl::StrAppend(
      out,
      "# HELP zen_agent_worker_metrics_reports_total report_metrics calls "
      "taken.\n# TYPE zen_agent_worker_metrics_reports_total counter\n"
      "zen_agent_worker_metrics_reports_total ",
      worker_metrics_->reports(),
      "\n# HELP zen_agent_worker_metrics_rejected_total Report entries "
      "refused as malformed.\n"
      "# TYPE zen_agent_worker_metrics_rejected_total counter\n"
      "zen_agent_worker_metrics_rejected_total ",
      worker_metrics_->rejected(), "\n");
  // The shared rate-limit zone, as every process that uses it left it:
  // decisions made there never cross this server.
  if (const RateLimitZone* zone = service_->rate_limiter().zone()) {
    absl::StrAppend(
        out,
        "# HELP zen_agent_rate_limit_zone_checks_total Rate-limit checks "
        "counted in the shared zone, by every process.\n"
        "# TYPE zen_agent_rate_limit_zone_checks_total counter\n"
        "zen_agent_rate_limit_zone_checks_total ",
        zone->counted_checks(),
        "\n# HELP zen_agent_rate_limit_zone_windows Windows in the shared "
        "zone now.\n# TYPE zen_agent_rate_limit_zone_windows gauge\n"
        "zen_agent_rate_limit_zone_windows ",
        zone->tracked_windows(),
        "\n# HELP zen_agent_rate_limit_zone_evicted_total Windows evicted "
        "for room.\n# TYPE zen_agent_rate_limit_zone_evicted_total counter\n"
        "zen_agent_rate_limit_zone_evicted_total ",
        zone->evicted_windows(),
        "\n# HELP zen_agent_rate_limit_zone_recoveries_total Lock takeovers "
        "from processes that died holding it.\n"
        "# TYPE zen_agent_rate_limit_zone_recoveries_total counter\n"
        "zen_agent_rate_limit_zone_recoveries_total ",
        zone->recoveries(), "\n");
  }
}

void AgentServer::AbandonAfterFork() {
  watchers_->AbandonAfterFork();
  server_.release()->AbandonAfterFork();
  // The service and the shared state are plain memory; leaked with us.
}

}  // namespace zen
