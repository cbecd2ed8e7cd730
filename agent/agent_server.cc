#include "agent/agent_server.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "agent/event_conversion.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "stubs/json_value.h"
#include "stubs/validated_json.h"

namespace zen {
namespace {

// Cached settings text as a raw_json value, sent as it is. Every text in
// the cache went through AgentServer::UpdateConfig/UpdateFirewallLists,
// which parse it whole with simdjson's strict DOM parser (the stubs' own
// check) before caching it, blank text made `null`: so it is one JSON value,
// vouched for here instead of being parsed again on every pull. Nothing
// cached yet (null) is `null`.
stubs::ValidatedJson Cached(std::shared_ptr<const std::string> text) {
  return stubs::ValidatedJson::AlreadyValidated(std::move(text));
}

// RuntimeSettings reads empty or blank text as "none yet"; the cache must
// then hold a JSON value too, since workers get the bytes spliced into a JSON
// response. Whitespace around the value (a file's final newline) is dropped,
// so the frame stays as compact as the reference's; inside, the bytes are
// kept as received.
std::string NormalizeNone(std::string json) {
  if (absl::StripAsciiWhitespace(json).empty()) return "null";
  // JSON's whitespace only: a vertical tab or form feed is not JSON, and
  // must reach the parser to be refused there.
  const auto blank = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  };
  size_t begin = 0, end = json.size();
  while (begin < end && blank(json[begin])) ++begin;
  while (end > begin && blank(json[end - 1])) --end;
  if (begin == 0 && end == json.size()) return json;
  return json.substr(begin, end - begin);
}

}  // namespace

// The WorkerAgent methods over the server's shared state.
class AgentServer::Service final : public agent::WorkerAgent::Service {
 public:
  explicit Service(AgentServer* owner) : owner_(owner) {}

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
    std::optional<uint64_t> known_config, known_lists;
    if (request.has_known_config_generation() &&
        request.known_config_generation() >= 0) {
      known_config = static_cast<uint64_t>(request.known_config_generation());
    }
    if (request.has_known_firewall_lists_generation() &&
        request.known_firewall_lists_generation() >= 0) {
      known_lists =
          static_cast<uint64_t>(request.known_firewall_lists_generation());
    }
    const SettingsChanges changes =
        owner_->cache_.ChangedSince(known_config, known_lists);
    const SettingsSnapshot& snap = changes.snapshot;
    if (changes.config_changed) {
      ZEN_RETURN_IF_ERROR(context->SpliceRawJson(
          agent::UpdatedSettingsResponse::kConfigFieldNumber,
          Cached(snap.config)));
      response->set_config_generation(
          static_cast<int32_t>(snap.config_generation));
    }
    if (changes.firewall_lists_changed) {
      ZEN_RETURN_IF_ERROR(context->SpliceRawJson(
          agent::UpdatedSettingsResponse::kFirewallListsFieldNumber,
          Cached(snap.firewall_lists)));
      response->set_firewall_lists_generation(
          static_cast<int32_t>(snap.firewall_lists_generation));
    }
    return absl::OkStatus();
  }

  // Acknowledged first (respond-early), then decoded one event at a time
  // and folded: an event that cannot be read costs only itself.
  absl::Status SendCollectorEvents(
      rpc::ServerContext* context,
      const agent::SendCollectorEventsRequest& request,
      agent::SendCollectorEventsResponse*) override {
    ZEN_RETURN_IF_ERROR(context->RespondNow());
    if (request.events().empty()) return absl::OkStatus();  // `null`: none.
    absl::StatusOr<DecodedEvents> decoded = DecodeEventsJson(request.events());
    if (!decoded.ok()) {
      LogWarning("agent server: ignored a worker's events: ",
                 decoded.status().message());
      owner_->unreadable_events_.fetch_add(1, std::memory_order_relaxed);
      return absl::OkStatus();
    }
    owner_->collector_.RecordBatch(decoded->events);
    const size_t bad = decoded->unknown_type + decoded->undecodable;
    if (bad > 0) {
      owner_->unreadable_events_.fetch_add(bad, std::memory_order_relaxed);
      LogWarning("agent server: ignored ", decoded->unknown_type,
                 " events of unknown type and ", decoded->undecodable,
                 " unreadable events from a worker");
    }
    return absl::OkStatus();
  }

  absl::Status CalculateRateLimits(
      rpc::ServerContext*, const agent::CalculateRateLimitsRequest& request,
      agent::CalculateRateLimitsResponse* response) override {
    RouteKey route{request.route().method(), request.route().path()};
    // The reference keys an actor's window by its id alone; the rest of the
    // actor (name, IP, times) does not change the answer.
    std::optional<absl::string_view> actor;
    if (request.has_actor() && !request.actor().id().empty()) {
      actor = request.actor().id();
    }
    std::shared_ptr<const RuntimeSettings> settings = owner_->settings();
    std::optional<RateLimitResult> result = owner_->rate_limiter_.Check(
        route, request.client_ip(), actor, *settings, zen::Now());
    if (!result) return absl::OkStatus();  // Empty → the wire's null.
    response->set_throttled(result->throttled);
    response->set_discriminator(result->discriminator);
    response->set_current_requests(
        static_cast<int32_t>(result->current_requests));
    response->set_max_requests(static_cast<int32_t>(result->max_requests));
    response->set_time_remaining(
        static_cast<int32_t>(result->time_remaining_seconds));
    return absl::OkStatus();
  }

  absl::Status RecordAttackWave(
      rpc::ServerContext*, const agent::RecordAttackWaveRequest& request,
      agent::RecordAttackWaveResponse* response) override {
    std::optional<std::vector<AttackWaveSample>> samples =
        owner_->attack_waves_.Record(request.client_ip(), request.verb(),
                                     request.path(), zen::Now());
    if (!samples) return absl::OkStatus();
    for (const AttackWaveSample& s : *samples) {
      agent::AttackWaveSample* out = response->add_samples();
      out->set_method(s.method);
      out->set_url(s.url);
    }
    return absl::OkStatus();
  }

 private:
  AgentServer* const owner_;  // Not owned; outlives the service.
};

absl::StatusOr<std::unique_ptr<AgentServer>> AgentServer::Create(
    const ipc::Secret* secret, AgentServerOptions options) {
  // Before any worker is forked: see PrepareJsonForFork.
  stubs::PrepareJsonForFork();
  std::unique_ptr<AgentServer> server(new AgentServer(options));
  ZEN_ASSIGN_OR_RETURN(server->server_,
                       rpc::Server::Create(secret, options.server));
  server->service_ = std::make_unique<Service>(server.get());
  server->service_->RegisterOn(server->server_.get());
  return server;
}

AgentServer::AgentServer(AgentServerOptions options)
    : options_(std::move(options)),
      collector_(options_.collector),
      rate_limiter_(options_.rate_limiter),
      attack_waves_(options_.attack_wave),
      settings_(std::make_shared<const RuntimeSettings>()) {}

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
  MutexLock lock(&settings_mu_);
  return settings_;
}

absl::Status AgentServer::UpdateConfig(std::string json) {
  return UpdateDocument(std::move(json), &RuntimeSettings::ApplyConfig,
                        &SettingsCache::UpdateConfig);
}

absl::Status AgentServer::UpdateFirewallLists(std::string json) {
  return UpdateDocument(std::move(json), &RuntimeSettings::ApplyFirewallLists,
                        &SettingsCache::UpdateFirewallLists);
}

absl::Status AgentServer::UpdateDocument(
    std::string json, absl::Status (RuntimeSettings::*apply)(absl::string_view),
    uint64_t (SettingsCache::*store)(std::string)) {
  // Parse first: a malformed document must reach neither the parent's
  // settings nor any worker.
  MutexLock update(&update_mu_);
  json = NormalizeNone(std::move(json));
  auto updated = std::make_shared<RuntimeSettings>(*settings());
  ZEN_RETURN_IF_ERROR(((*updated).*apply)(json));
  MutexLock lock(&settings_mu_);
  (cache_.*store)(std::move(json));
  settings_ = std::move(updated);
  return absl::OkStatus();
}

void AgentServer::AbandonAfterFork() {
  server_.release()->AbandonAfterFork();
  // The service and the shared state are plain memory; leaked with us.
}

}  // namespace zen
