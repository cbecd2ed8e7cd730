#include "agent/agent_client.h"

#include <unistd.h>

#include <random>
#include <utility>

#include "agent/event_conversion.h"
#include "base/clock.h"
#include "base/fork_guard.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"

namespace zen {
namespace {

// Events per send_collector_events call, so a long backlog never makes a
// frame anywhere near the frame limit.
constexpr size_t kMaxEventsPerFlush = 5000;

// The first poll's delay: a whole number of seconds in [1, jitter] seeded by
// the pid, because forked children inherit identical random state.
absl::Duration InitialPollDelay(absl::Duration jitter) {
  const int64_t max_seconds = absl::ToInt64Seconds(jitter);
  if (max_seconds < 1) return absl::ZeroDuration();
  std::mt19937 rng(static_cast<uint32_t>(::getpid()));
  std::uniform_int_distribution<int64_t> seconds(1, max_seconds);
  return absl::Seconds(seconds(rng));
}

}  // namespace

class AgentClient::Impl {
 public:
  Impl(AgentClientOptions options, std::unique_ptr<rpc::Channel> channel)
      : options_(std::move(options)),
        channel_(std::move(channel)),
        stub_(channel_.get()),
        settings_(std::make_shared<const RuntimeSettings>()) {}

  ~Impl() { Stop(); }

  // RESOURCE_EXHAUSTED when the schedule thread cannot be created (a task
  // limit): the worker then has no client, instead of terminating.
  absl::Status Start() {
    return threads_.TrySpawn([this] { ScheduleLoop(); });
  }

  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
      wake_.SignalAll();
    }
    // Channel first: a poll or flush in flight on the schedule thread then
    // fails at once (CANCELLED) instead of running out its deadline.
    if (channel_ != nullptr) channel_->Stop();
    threads_.JoinAll();
  }

  std::shared_ptr<const RuntimeSettings> settings() const {
    MutexLock lock(&mu_);
    return settings_;
  }

  void RecordEvent(CollectorEvent event) ABSL_LOCKS_EXCLUDED(mu_) {
    // The reference tracks no user-agent or IP-list event without keys, and
    // its parent could not read one.
    if ((event.type == CollectorEventType::kUserAgent ||
         event.type == CollectorEventType::kIpList) &&
        event.keys.empty()) {
      return;
    }
    MutexLock lock(&mu_);
    ++stats_.events_recorded;
    if (events_.size() >= options_.max_buffered_events) {
      events_.pop_front();
      ++stats_.events_dropped;
    }
    events_.push_back(std::move(event));
  }

  absl::Status Flush() ABSL_LOCKS_EXCLUDED(mu_, flush_mu_) {
    MutexLock flushing(&flush_mu_);  // One flush at a time keeps order.
    for (;;) {
      std::vector<CollectorEvent> batch;
      {
        MutexLock lock(&mu_);
        if (stopped_) return absl::CancelledError("agent client stopped");
        const size_t n = std::min(events_.size(), kMaxEventsPerFlush);
        if (n == 0) return absl::OkStatus();
        batch.assign(std::make_move_iterator(events_.begin()),
                     std::make_move_iterator(events_.begin() + n));
        events_.erase(events_.begin(), events_.begin() + n);
      }
      agent::SendCollectorEventsRequest request;
      absl::Status encoded = EncodeEventsJson(batch, request.mutable_events());
      if (!encoded.ok()) {
        // An event the host built badly (a schema that is not JSON) would
        // fail every retry: drop the batch, say why.
        MutexLock lock(&mu_);
        stats_.events_dropped += batch.size();
        return encoded;
      }
      absl::StatusOr<agent::SendCollectorEventsResponse> sent =
          stub_.SendCollectorEvents(
              request, rpc::CallOptions::WithTimeout(options_.call_timeout));
      MutexLock lock(&mu_);
      if (!sent.ok()) {
        // Keep them for the next try (the reference drops them), oldest
        // first, within the cap.
        ++stats_.flush_failures;
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
          if (events_.size() >= options_.max_buffered_events) {
            ++stats_.events_dropped;  // The oldest are the ones to go.
            continue;
          }
          events_.push_front(std::move(*it));
        }
        return sent.status();
      }
      stats_.events_sent += batch.size();
    }
  }

  absl::Status PollSettings() ABSL_LOCKS_EXCLUDED(mu_, poll_mu_) {
    MutexLock polling(&poll_mu_);
    agent::UpdatedSettingsRequest request;
    {
      MutexLock lock(&mu_);
      ++stats_.settings_polls;
      if (stats_.config_generation) {
        request.set_known_config_generation(
            static_cast<int32_t>(*stats_.config_generation));
      }
      if (stats_.firewall_lists_generation) {
        request.set_known_firewall_lists_generation(
            static_cast<int32_t>(*stats_.firewall_lists_generation));
      }
    }
    ZEN_ASSIGN_OR_RETURN(
        const agent::UpdatedSettingsResponse response,
        stub_.UpdatedSettings(
            request, rpc::CallOptions::WithTimeout(options_.call_timeout)));

    std::shared_ptr<const RuntimeSettings> current = settings();
    auto updated = std::make_shared<RuntimeSettings>(*current);
    bool changed = false;
    absl::Status status;
    std::optional<int64_t> config_generation, lists_generation;
    // A null (or absent) document does not advance the known generation
    // (reference item 66): the next poll asks again.
    if (response.has_config_generation() && IsDocument(response.config())) {
      status = updated->ApplyConfig(response.config());
      if (status.ok()) {
        config_generation = response.config_generation();
        changed = true;
      }
    }
    if (response.has_firewall_lists_generation() &&
        IsDocument(response.firewall_lists())) {
      absl::Status lists =
          updated->ApplyFirewallLists(response.firewall_lists());
      if (lists.ok()) {
        lists_generation = response.firewall_lists_generation();
        changed = true;
      } else if (status.ok()) {
        status = lists;
      }
    }
    if (!changed) return status;
    std::shared_ptr<const RuntimeSettings> applied = std::move(updated);
    {
      MutexLock lock(&mu_);
      settings_ = applied;
      if (config_generation) stats_.config_generation = config_generation;
      if (lists_generation) stats_.firewall_lists_generation = lists_generation;
      ++stats_.settings_applied;
    }
    if (options_.on_settings) options_.on_settings(applied);
    return status;
  }

  RateLimitAnswer CalculateRateLimits(
      const RouteKey& route, absl::string_view client_ip,
      std::optional<absl::string_view> actor_id) {
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
      if (!client_ip.empty())
        actor->set_last_ip_address(std::string(client_ip));
      const int64_t now_ms = absl::ToUnixSeconds(zen::Now()) * 1000;
      actor->set_first_seen_at(now_ms);
      actor->set_last_seen_at(now_ms);
    }
    absl::StatusOr<agent::CalculateRateLimitsResponse> response =
        stub_.CalculateRateLimits(request, rpc::CallOptions::WithTimeout(
                                               options_.rate_limit_timeout));
    RateLimitAnswer answer;
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
    // The parent could not answer in time: decide locally (limits then hold
    // per worker only) and say so.
    LogWarning("failed to get rate limits from parent: ",
               response.status().message());
    answer.from_parent = false;
    answer.result = local_limiter_.Check(route, client_ip, actor_id,
                                         *settings(), zen::Now());
    MutexLock lock(&mu_);
    ++stats_.rate_limit_fallbacks;
    return answer;
  }

  AttackWaveAnswer RecordAttackWave(absl::string_view client_ip,
                                    absl::string_view method,
                                    absl::string_view url) {
    agent::RecordAttackWaveRequest request;
    request.set_client_ip(std::string(client_ip));
    request.set_verb(std::string(method));
    request.set_path(std::string(url));
    absl::StatusOr<agent::RecordAttackWaveResponse> response =
        stub_.RecordAttackWave(request, rpc::CallOptions::WithTimeout(
                                            options_.attack_wave_timeout));
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
    // Short timeout, as the reference's: attackers can trigger this at will.
    // Then this worker's own detector decides (waves may be missed or
    // doubled while the parent does not answer, as in the reference).
    LogWarning("failed to record attack wave sample with parent: ",
               response.status().message());
    answer.from_parent = false;
    answer.samples =
        local_attack_waves_.Record(client_ip, method, url, zen::Now());
    MutexLock lock(&mu_);
    ++stats_.attack_wave_fallbacks;
    return answer;
  }

  bool connected() const { return channel_->connected(); }

  AgentClientStats stats() const {
    MutexLock lock(&mu_);
    return stats_;
  }

  void AbandonAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    channel_.release()->AbandonAfterFork();
    threads_.AbandonAfterFork();
  }

 private:
  static bool IsDocument(const std::string& raw) {
    return !raw.empty() && raw != "null";
  }

  // Settings polling and event flushing share this thread (as the
  // reference's shared worker); keepalive runs on the channel's own thread.
  void ScheduleLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::Time next_poll =
        zen::Now() + InitialPollDelay(options_.polling_jitter);
    absl::Time next_flush = zen::Now() + options_.heartbeat_interval;
    for (;;) {
      {
        MutexLock lock(&mu_);
        const absl::Time due = std::min(next_poll, next_flush);
        while (!stopped_ && zen::Now() < due) wake_.WaitUntil(&mu_, due);
        if (stopped_) return;
      }
      const absl::Time now = zen::Now();
      if (now >= next_poll) {
        absl::Status polled = PollSettings();
        if (!polled.ok()) {
          LogWarning("failed to get settings from parent: ", polled.message());
        }
        next_poll = zen::Now() + options_.polling_interval;
      }
      if (now >= next_flush) {
        absl::Status flushed = Flush();
        if (!flushed.ok()) {
          LogWarning("failed to send collector events to parent: ",
                     flushed.message());
        }
        next_flush = zen::Now() + options_.heartbeat_interval;
      }
    }
  }

  const AgentClientOptions options_;
  std::unique_ptr<rpc::Channel> channel_;
  agent::WorkerAgent::Stub stub_;
  RateLimiter local_limiter_;
  AttackWaveDetector local_attack_waves_{options_.attack_wave};

  Mutex flush_mu_;
  Mutex poll_mu_;
  mutable Mutex mu_;
  CondVar wake_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<const RuntimeSettings> settings_ ABSL_GUARDED_BY(mu_);
  std::deque<CollectorEvent> events_ ABSL_GUARDED_BY(mu_);
  AgentClientStats stats_ ABSL_GUARDED_BY(mu_);
  ForkGuardRegistration fork_guard_{&mu_};
  ThreadGroup threads_;
};

absl::StatusOr<std::unique_ptr<AgentClient>> AgentClient::Create(
    const ipc::Secret* secret, AgentClientOptions options) {
  rpc::ChannelOptions channel_options;
  channel_options.connector.transport = options.transport;
  channel_options.connector.host = options.host;
  channel_options.connector.port = options.port;
  channel_options.connector.unix_path = options.unix_path;
  channel_options.connector.stream.spin_before_block =
      options.spin_before_block;
  channel_options.keepalive_interval = options.keepalive_interval;
  channel_options.reconnect = true;
  channel_options.reconnect_policy.initial_delay = options.reconnect_delay;
  ZEN_ASSIGN_OR_RETURN(std::unique_ptr<rpc::Channel> channel,
                       rpc::Channel::Create(secret, channel_options));
  auto impl = std::make_unique<Impl>(std::move(options), std::move(channel));
  ZEN_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<AgentClient>(new AgentClient(std::move(impl)));
}

AgentClient::AgentClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AgentClient::~AgentClient() = default;

void AgentClient::Stop() { impl_->Stop(); }
std::shared_ptr<const RuntimeSettings> AgentClient::settings() const {
  return impl_->settings();
}
void AgentClient::RecordEvent(CollectorEvent event) {
  impl_->RecordEvent(std::move(event));
}
absl::Status AgentClient::Flush() { return impl_->Flush(); }
absl::Status AgentClient::PollSettings() { return impl_->PollSettings(); }
RateLimitAnswer AgentClient::CalculateRateLimits(
    const RouteKey& route, absl::string_view client_ip,
    std::optional<absl::string_view> actor_id) {
  return impl_->CalculateRateLimits(route, client_ip, actor_id);
}
AttackWaveAnswer AgentClient::RecordAttackWave(absl::string_view client_ip,
                                               absl::string_view method,
                                               absl::string_view url) {
  return impl_->RecordAttackWave(client_ip, method, url);
}
bool AgentClient::connected() const { return impl_->connected(); }
AgentClientStats AgentClient::stats() const { return impl_->stats(); }
void AgentClient::AbandonAfterFork() { impl_.release()->AbandonAfterFork(); }

}  // namespace zen
