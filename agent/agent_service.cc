#include "agent/agent_service.h"

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "agent/event_conversion.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/status_macros.h"

namespace zen {
namespace {

// RuntimeSettings reads empty or blank text as "none yet"; the cache must
// then hold a JSON value too, since workers get the bytes spliced into a JSON
// response. Whitespace around the value (a file's final newline) is dropped,
// so the frame stays as compact as the reference's; inside, the bytes are
// kept as received.
std::string NormalizeNone(std::string json) {
  if (absl::StripAsciiWhitespace(json).empty()) {
    return std::string(kNoSettingsDocument);
  }
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

AgentService::AgentService(const AgentServiceOptions& options)
    : collector_(options.collector),
      rate_limiter_(options.rate_limiter),
      attack_waves_(options.attack_wave),
      settings_(std::make_shared<const RuntimeSettings>()) {}

std::shared_ptr<const RuntimeSettings> AgentService::settings() const {
  MutexLock lock(&settings_mu_);
  return settings_;
}

absl::Status AgentService::UpdateConfig(std::string json) {
  return UpdateDocument(std::move(json), &RuntimeSettings::ApplyConfig,
                        &SettingsCache::UpdateConfig);
}

absl::Status AgentService::UpdateFirewallLists(std::string json) {
  return UpdateDocument(std::move(json), &RuntimeSettings::ApplyFirewallLists,
                        &SettingsCache::UpdateFirewallLists);
}

absl::Status AgentService::UpdateDocument(
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

void PutChangedGenerations(const SettingsChanges& changes,
                           agent::UpdatedSettingsResponse* response) {
  const SettingsSnapshot& snap = changes.snapshot;
  if (changes.config_changed) {
    response->set_config_generation(
        static_cast<int32_t>(snap.config_generation));
  }
  if (changes.firewall_lists_changed) {
    response->set_firewall_lists_generation(
        static_cast<int32_t>(snap.firewall_lists_generation));
  }
}

SettingsChanges AgentService::UpdatedSettings(
    const agent::UpdatedSettingsRequest& request) const {
  const KnownGenerations known = KnownGenerationsOf(request);
  return cache_.ChangedSince(known.config, known.firewall_lists);
}

void AgentService::SendCollectorEvents(
    const agent::SendCollectorEventsRequest& request) {
  if (request.events().empty()) return;  // `null`: none.
  absl::StatusOr<DecodedEvents> decoded = DecodeEventsJson(request.events());
  if (!decoded.ok()) {
    WarnAboutEvents(absl::StrCat("agent server: ignored a worker's events: ",
                                 decoded.status().message()));
    unreadable_events_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  collector_.RecordBatch(decoded->events);
  const size_t bad = decoded->unknown_type + decoded->undecodable;
  if (bad > 0) {
    unreadable_events_.fetch_add(bad, std::memory_order_relaxed);
    WarnAboutEvents(
        absl::StrCat("agent server: ignored ", decoded->unknown_type,
                     " events of unknown type and ", decoded->undecodable,
                     " unreadable events from a worker"));
  }
}

void AgentService::WarnAboutEvents(absl::string_view message) {
  if (!events_log_.Log(LogLevel::kWarning, message, zen::Now())) {
    warnings_suppressed_.fetch_add(1, std::memory_order_relaxed);
  }
}

void AgentService::CalculateRateLimits(
    const agent::CalculateRateLimitsRequest& request,
    agent::CalculateRateLimitsResponse* response) {
  // The hot call: it reads the request in place and writes the response's
  // strings in place (the RPC layer reuses both messages), so that a warm
  // call allocates nothing.
  const RouteView route(request.route().method(), request.route().path());
  // The reference keys an actor's window by its id alone; the rest of the
  // actor (name, IP, times) does not change the answer.
  std::optional<absl::string_view> actor;
  if (request.has_actor() && !request.actor().id().empty()) {
    actor = request.actor().id();
  }
  std::shared_ptr<const RuntimeSettings> current = settings();
  RateLimitResult result;
  if (rate_limiter_.Decide(route, request.client_ip(), actor, *current,
                           zen::Now(), ZoneFallback::kInProcess,
                           &result) == RateLimitPath::kNoLimit) {
    return;  // Empty → the wire's null.
  }
  response->set_throttled(result.throttled);
  AssignRateLimitDiscriminator(request.client_ip(), actor,
                               response->mutable_discriminator());
  response->set_current_requests(static_cast<int32_t>(result.current_requests));
  response->set_max_requests(static_cast<int32_t>(result.max_requests));
  response->set_time_remaining(
      static_cast<int32_t>(result.time_remaining_seconds));
}

void AgentService::RecordAttackWave(
    const agent::RecordAttackWaveRequest& request,
    agent::RecordAttackWaveResponse* response) {
  std::optional<std::vector<AttackWaveSample>> samples = attack_waves_.Record(
      request.client_ip(), request.verb(), request.path(), zen::Now());
  if (!samples) return;
  for (const AttackWaveSample& s : *samples) {
    agent::AttackWaveSample* out = response->add_samples();
    out->set_method(s.method);
    out->set_url(s.url);
  }
}

}  // namespace zen
