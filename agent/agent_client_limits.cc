// AgentClient: rate limits and attack waves, decided locally when the
// parent does not answer.
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/agent_client_impl.h"
#include "base/clock.h"

namespace zen {

bool AgentClient::Impl::DecideInZone(const RouteKey& route,
                                     absl::string_view client_ip,
                                     std::optional<absl::string_view> actor_id,
                                     RateLimitAnswer* answer) {
  if (zone_limiter_ == nullptr) return false;
  const std::shared_ptr<const RuntimeSettings> current =
      settings_.current_with_config();
  if (current == nullptr) return false;  // No config applied yet.
  RateLimitResult result;
  const RateLimitPath path =
      zone_limiter_->Decide(route, client_ip, actor_id, *current, zen::Now(),
                            ZoneFallback::kReport, &result);
  if (path != RateLimitPath::kNoLimit && path != RateLimitPath::kZone) {
    zone_deferred_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  zone_decisions_.fetch_add(1, std::memory_order_relaxed);
  answer->source = RateLimitSource::kZone;
  if (path == RateLimitPath::kZone) {
    AssignRateLimitDiscriminator(client_ip, actor_id, &result.discriminator);
    answer->result = std::move(result);
  }
  return true;
}

RateLimitAnswer AgentClient::Impl::CalculateRateLimits(
    const RouteKey& route, absl::string_view client_ip,
    std::optional<absl::string_view> actor_id) {
  // The zone first: shared memory, no round trip. It outlives the parent
  // (each sibling keeps its mapping), so it serves a dead parent's workers
  // too.
  RateLimitAnswer answer;
  if (DecideInZone(route, client_ip, actor_id, &answer)) return answer;
  if (parent_.exited()) {
    return LocalRateLimits(route, client_ip, actor_id, parent_.ExitedError());
  }
  agent::CalculateRateLimitsRequest request;
  request.mutable_route()->set_method(route.method);
  request.mutable_route()->set_path(route.path);
  request.set_client_ip(std::string(client_ip));
  if (actor_id && !actor_id->empty()) {
    // As the reference builds the current request's actor: seen now (in
    // whole seconds, as it stores times), from this request's IP. Its
    // parent reads both times unchecked.
    agent::Actor* actor = request.mutable_actor();
    actor->set_id(std::string(*actor_id));
    if (!client_ip.empty()) actor->set_last_ip_address(std::string(client_ip));
    const int64_t now_ms = absl::ToUnixSeconds(zen::Now()) * 1000;
    actor->set_first_seen_at(now_ms);
    actor->set_last_seen_at(now_ms);
  }
  absl::StatusOr<agent::CalculateRateLimitsResponse> response =
      transport_->CalculateRateLimits(request, options_.rate_limit_timeout);
  if (response.ok()) {
    if (response->has_throttled() || response->has_max_requests()) {
      RateLimitResult result;
      result.throttled = response->throttled();
      result.discriminator_kind = request.has_actor()
                                      ? RateLimitDiscriminator::kUser
                                      : RateLimitDiscriminator::kIp;
      result.discriminator = response->discriminator();
      result.current_requests = response->current_requests();
      result.max_requests = response->max_requests();
      result.time_remaining_seconds = response->time_remaining();
      result.time_remaining_ms = int64_t{response->time_remaining()} * 1000;
      answer.result = std::move(result);
    }
    return answer;
  }
  return LocalRateLimits(route, client_ip, actor_id,
                         parent_.NoteFailure(response.status()));
}

RateLimitAnswer AgentClient::Impl::LocalRateLimits(
    const RouteKey& route, absl::string_view client_ip,
    std::optional<absl::string_view> actor_id, const absl::Status& why) {
  rate_limit_log_.Log(
      LogLevel::kWarning,
      absl::StrCat("failed to get rate limits from parent: ", why.message()),
      zen::Now());
  RateLimitAnswer answer;
  answer.source = RateLimitSource::kWorker;
  answer.from_parent = false;
  answer.result =
      local_limiter_.Check(route, client_ip, actor_id, *settings(), zen::Now());
  rate_limit_fallbacks_.fetch_add(1, std::memory_order_relaxed);
  return answer;
}

AttackWaveAnswer AgentClient::Impl::RecordAttackWave(
    absl::string_view client_ip, absl::string_view method,
    absl::string_view url) {
  if (parent_.exited()) {
    return LocalAttackWave(client_ip, method, url, parent_.ExitedError());
  }
  agent::RecordAttackWaveRequest request;
  request.set_client_ip(std::string(client_ip));
  request.set_verb(std::string(method));
  request.set_path(std::string(url));
  absl::StatusOr<agent::RecordAttackWaveResponse> response =
      transport_->RecordAttackWave(request, options_.attack_wave_timeout);
  AttackWaveAnswer answer;
  if (response.ok()) {
    if (response->samples_size() > 0) {
      std::vector<AttackWaveSample> samples;
      for (const auto& s : response->samples()) {
        samples.push_back({s.method(), s.url()});
      }
      answer.samples = std::move(samples);
    }
    return answer;
  }
  return LocalAttackWave(client_ip, method, url,
                         parent_.NoteFailure(response.status()));
}

AttackWaveAnswer AgentClient::Impl::LocalAttackWave(absl::string_view client_ip,
                                                    absl::string_view method,
                                                    absl::string_view url,
                                                    const absl::Status& why) {
  attack_wave_log_.Log(
      LogLevel::kWarning,
      absl::StrCat("failed to record attack wave sample with parent: ",
                   why.message()),
      zen::Now());
  AttackWaveAnswer answer;
  answer.from_parent = false;
  answer.samples =
      local_attack_waves_.Record(client_ip, method, url, zen::Now());
  attack_wave_fallbacks_.fetch_add(1, std::memory_order_relaxed);
  return answer;
}

}  // namespace zen
