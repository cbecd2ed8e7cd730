#include "examples/request_guard.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/time/clock.h"
#include "agent/model/collector_event.h"
#include "agent/model/ip_set.h"
#include "agent/model/rate_limiter.h"
#include "agent/model/runtime_settings.h"
#include "base/clock.h"
#include "examples/scan_probe.h"

namespace zen::examples {
namespace {

Verdict Blocked(absl::string_view reason) {
  Verdict verdict;
  verdict.http_status = 403;
  verdict.reason = reason;
  return verdict;
}

// The checks, without side effects other than the rate-limit question.
Verdict Decide(AgentClient* client, const RuntimeSettings& settings,
               const RequestFacts& facts, WorkerMetrics* metrics) {
  if (settings.IsIpBypassed(facts.client_ip)) return Verdict();
  const std::optional<IpAddress> ip = IpAddress::Parse(facts.client_ip);
  if (ip.has_value()) {
    if (!settings.IsIpAllowed(*ip)) return Blocked("ip_not_allowed");
    if (settings.IsIpBlocked(*ip).has_value()) return Blocked("ip_blocked");
  } else if (settings.firewall_lists().has_allowed_lists()) {
    return Blocked("ip_not_allowed");  // Allowed lists admit known IPs only.
  }
  if (!facts.user_agent.empty() &&
      settings.IsUserAgentBlocked(facts.user_agent)) {
    return Blocked("user_agent_blocked");
  }
  // Every endpoint matching the route has its say, not only the one its
  // rate limit follows.
  if (!settings.IsIpAllowedOnRoute(facts.method, facts.path, ip)) {
    return Blocked("ip_not_allowed");
  }
  const EndpointSettings* endpoint =
      settings.FindEndpoint(facts.method, facts.path);
  if (facts.user_id.has_value() && settings.IsUserBlocked(*facts.user_id)) {
    return Blocked("user_blocked");
  }
  if (endpoint == nullptr || !endpoint->rate_limiting.enabled) {
    return Verdict();
  }

  std::optional<absl::string_view> actor;
  if (facts.user_id.has_value()) actor = *facts.user_id;
  const absl::Time start = zen::Now();
  const RateLimitAnswer answer = client->CalculateRateLimits(
      RouteKey{facts.method, facts.path}, facts.client_ip, actor);
  metrics->RecordRateLimitCall(zen::Now() - start,
                               answer.source == RateLimitSource::kZone);
  if (!answer.result.has_value() || !answer.result->throttled) {
    return Verdict();
  }
  Verdict verdict;
  verdict.http_status = 429;
  verdict.reason = "rate_limited";
  verdict.retry_after_seconds =
      std::max<int64_t>(1, answer.result->time_remaining_seconds);
  return verdict;
}

CollectorEvent Event(CollectorEventType type, int64_t now_ms) {
  CollectorEvent event;
  event.type = type;
  event.timestamp_ms = now_ms;
  return event;
}

}  // namespace

Verdict CheckRequest(AgentClient* client, const RequestFacts& facts,
                     WorkerMetrics* metrics) {
  if (client == nullptr) {
    metrics->CountRequest(RequestOutcome::kAllowed,
                          /*protected_by_agent=*/false);
    return Verdict();
  }
  const std::shared_ptr<const RuntimeSettings> settings = client->settings();
  const Verdict verdict = Decide(client, *settings, facts, metrics);

  const int64_t now_ms = absl::ToUnixMillis(zen::Now());
  client->RecordEvent(Event(CollectorEventType::kRequest, now_ms));
  // A scanner's probe goes to the parent's one attack-wave detector, which
  // answers with the wave's samples once, whichever worker asks.
  if (IsScanProbe(facts.method, facts.path)) {
    const AttackWaveAnswer wave =
        client->RecordAttackWave(facts.client_ip, facts.method, facts.path);
    if (wave.samples.has_value()) {
      CollectorEvent event = Event(CollectorEventType::kAttackWave, now_ms);
      event.blocked = false;  // Reported, not refused (as the reference).
      client->RecordEvent(std::move(event));
    }
  }
  std::vector<std::string> lists = settings->MonitoredIpLists(facts.client_ip);
  if (!lists.empty()) {
    CollectorEvent event = Event(CollectorEventType::kIpList, now_ms);
    event.keys = std::move(lists);
    client->RecordEvent(std::move(event));
  }
  std::vector<std::string> agents =
      settings->UserAgentDetails(facts.user_agent);
  if (!agents.empty()) {
    CollectorEvent event = Event(CollectorEventType::kUserAgent, now_ms);
    event.keys = std::move(agents);
    client->RecordEvent(std::move(event));
  }
  if (facts.user_id.has_value()) {
    CollectorEvent event = Event(CollectorEventType::kUser, now_ms);
    event.user_id = *facts.user_id;
    event.ip_address = facts.client_ip;
    client->RecordEvent(std::move(event));
  }

  RequestOutcome outcome = RequestOutcome::kAllowed;
  if (verdict.http_status == 429) {
    outcome = RequestOutcome::kRateLimited;
    client->RecordEvent(Event(CollectorEventType::kRateLimitedRequest, now_ms));
  } else if (verdict.http_status == 403) {
    outcome = RequestOutcome::kBlocked;
  } else {
    CollectorEvent event = Event(CollectorEventType::kRoute, now_ms);
    event.method = facts.method;
    event.path = facts.path;
    client->RecordEvent(std::move(event));
  }
  metrics->CountRequest(outcome, /*protected_by_agent=*/true);
  return verdict;
}

}  // namespace zen::examples
