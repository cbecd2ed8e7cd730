#include "agent/agent_server.h"

#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "base/clock.h"
#include "base/log.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "stubs/json_value.h"
#include "stubs/validated_json.h"

namespace zen {
namespace {

// Cached settings text as a raw_json value, sent as it is. Every text in
// the cache went through AgentService::UpdateConfig/UpdateFirewallLists,
// which parse it whole with simdjson's strict DOM parser (the stubs' own
// check) before caching it, blank text made `null`: so it is one JSON value,
// vouched for here instead of being parsed again on every pull. Nothing
// cached yet (null) is `null`.
stubs::ValidatedJson Cached(std::shared_ptr<const std::string> text) {
  return stubs::ValidatedJson::AlreadyValidated(std::move(text));
}

}  // namespace

// The WorkerAgent methods on the wire: each decoded request goes to the
// AgentService, the one code path the parent's in-process client uses too.
class AgentServer::Service final : public agent::WorkerAgent::Service {
 public:
  explicit Service(AgentService* service) : service_(service) {}

  absl::Status Ping(rpc::ServerContext*, const agent::PingRequest&,
                    agent::PingResponse*) override {
    return absl::OkStatus();
  }

  // Only what changed since the generations the child knows; the cached
  // bytes are spliced into the response as received (the fields are
  // raw_json), never parsed, printed or copied here: the response is
  // written straight from the snapshot's strings, which the context keeps
  // alive until then.
  absl::Status UpdatedSettings(
      rpc::ServerContext* context, const agent::UpdatedSettingsRequest& request,
      agent::UpdatedSettingsResponse* response) override {
    const SettingsChanges changes =
        service_->UpdatedSettings(request, response);
    if (changes.config_changed) {
      absl::Status spliced = context->SpliceRawJson(
          agent::UpdatedSettingsResponse::kConfigFieldNumber,
          Cached(changes.snapshot.config));
      if (!spliced.ok()) return spliced;
    }
    if (changes.firewall_lists_changed) {
      absl::Status spliced = context->SpliceRawJson(
          agent::UpdatedSettingsResponse::kFirewallListsFieldNumber,
          Cached(changes.snapshot.firewall_lists));
      if (!spliced.ok()) return spliced;
    }
    return absl::OkStatus();
  }

  // Acknowledged first (respond-early), then folded.
  absl::Status SendCollectorEvents(
      rpc::ServerContext* context,
      const agent::SendCollectorEventsRequest& request,
      agent::SendCollectorEventsResponse*) override {
    absl::Status acked = context->RespondNow();
    if (!acked.ok()) return acked;
    service_->SendCollectorEvents(request);
    return absl::OkStatus();
  }

  absl::Status CalculateRateLimits(
      rpc::ServerContext*, const agent::CalculateRateLimitsRequest& request,
      agent::CalculateRateLimitsResponse* response) override {
    service_->CalculateRateLimits(request, response);
    return absl::OkStatus();
  }

  absl::Status RecordAttackWave(
      rpc::ServerContext*, const agent::RecordAttackWaveRequest& request,
      agent::RecordAttackWaveResponse* response) override {
    service_->RecordAttackWave(request, response);
    return absl::OkStatus();
  }

 private:
  AgentService* const service_;  // Not owned; outlives the RPC service.
};

absl::StatusOr<std::unique_ptr<AgentServer>> AgentServer::Create(
    const ipc::Secret* secret, AgentServerOptions options) {
  // Before any worker is forked: see PrepareJsonForFork.
  stubs::PrepareJsonForFork();
  std::unique_ptr<AgentServer> server(new AgentServer(options));
  absl::StatusOr<std::unique_ptr<rpc::Server>> rpc_server =
      rpc::Server::Create(secret, options.server);
  if (!rpc_server.ok()) return rpc_server.status();
  server->server_ = std::move(*rpc_server);
  server->rpc_service_ = std::make_unique<Service>(&server->service_);
  server->rpc_service_->RegisterOn(server->server_.get());
  return server;
}

AgentServer::AgentServer(AgentServerOptions options)
    : options_(std::move(options)),
      service_(AgentServiceOptions{options_.collector, options_.rate_limiter,
                                   options_.attack_wave}) {}

AgentServer::~AgentServer() {
  if (server_ != nullptr) server_->Stop();
}

absl::Status AgentServer::Start() { return server_->Start(); }
void AgentServer::Stop() { server_->Stop(); }
const std::string& AgentServer::host() const { return server_->host(); }
uint16_t AgentServer::port() const { return server_->port(); }
const std::string& AgentServer::unix_path() const {
  return server_->unix_path();
}

std::shared_ptr<const RuntimeSettings> AgentServer::settings() const {
  return service_.settings();
}

absl::Status AgentServer::UpdateConfig(std::string json) {
  return service_.UpdateConfig(std::move(json));
}

absl::Status AgentServer::UpdateFirewallLists(std::string json) {
  return service_.UpdateFirewallLists(std::move(json));
}

void AgentServer::AbandonAfterFork() {
  server_.release()->AbandonAfterFork();
  // The service and the shared state are plain memory; leaked with us.
}

}  // namespace zen
