#include "agent/agent_client.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/call_metrics.h"
#include "agent/event_conversion.h"
#include "agent/log_throttle.h"
#include "agent/parent_death.h"
#include "base/clock.h"
#include "base/fork_guard.h"
#include "base/log.h"
#include "base/status_macros.h"
#include "ipc/connector.h"
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

rpc::ChannelOptions ChannelOptionsFor(const AgentClientOptions& options) {
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
  return channel_options;
}

}  // namespace

class AgentClient::Impl {
 public:
  // Over `channel` to a parent's server, or (channel null) straight to the
  // `local` service of this process.
  Impl(const ipc::Secret* secret, AgentClientOptions options,
       std::unique_ptr<rpc::Channel> channel, AgentService* local)
      : secret_(secret),
        local_(local),
        options_(std::move(options)),
        settings_(std::make_shared<const RuntimeSettings>()),
        dead_parent_retry_(DeadParentRetryPolicy(
            options_.reconnect_delay, options_.dead_parent_max_retry_delay)) {
    if (channel == nullptr) return;
    channel_.store(channel.get());
    MutexLock lock(&mu_);
    channels_.push_back(std::move(channel));
  }

  ~Impl() { Stop(); }

  // RESOURCE_EXHAUSTED when the schedule thread cannot be created (a task
  // limit): the worker then has no client, instead of terminating.
  absl::Status Start() {
    // In process there is nothing to wait on: polls read the service.
    if (options_.watch_settings && local_ == nullptr) {
      {
        MutexLock lock(&mu_);
        watching_settings_ = true;
      }
      absl::Status watching = threads_.TrySpawn([this] { WatchLoop(); });
      if (!watching.ok()) {
        MutexLock lock(&mu_);
        watching_settings_ = false;  // Polling instead.
      }
    }
    return threads_.TrySpawn([this] { ScheduleLoop(); });
  }

  void Stop() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      MutexLock lock(&mu_);
      if (stopped_) return;
      stopped_ = true;
      wake_.SignalAll();
    }
    // Channels first: a poll or flush in flight on the schedule thread then
    // fails at once (CANCELLED) instead of running out its deadline. Only
    // the schedule thread adds channels, and it has seen stopped_ or will.
    for (rpc::Channel* channel : Channels()) channel->Stop();
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
      // Checked before each batch, so that a flush says the parent is gone
      // even with nothing buffered.
      if (parent_exited_.load(std::memory_order_acquire)) {
        return ParentExitedError();
      }
      std::vector<CollectorEvent> batch;
      {
        MutexLock lock(&mu_);
        if (stopped_) return absl::CancelledError("agent client stopped");
        const size_t n = std::min(events_.size(), kMaxEventsPerFlush);
        if (n == 0) break;
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
          CallSendCollectorEvents(request);
      if (!sent.ok()) {
        {
          MutexLock lock(&mu_);
          ++stats_.flush_failures;
        }
        Requeue(std::move(batch));
        return NoteFailure(sent.status());
      }
      MutexLock lock(&mu_);
      stats_.events_sent += batch.size();
    }
    // The calls' metrics ride on the flush's schedule (agent/call_metrics.h).
    if (local_ != nullptr) return absl::OkStatus();
    return NoteFailure(
        metrics_reporter_.Report(Channels(), Stub(), options_.call_timeout));
  }

  absl::Status PollSettings() ABSL_LOCKS_EXCLUDED(mu_, poll_mu_) {
    MutexLock polling(&poll_mu_);
    if (parent_exited_.load(std::memory_order_acquire)) {
      return ParentExitedError();
    }
    agent::UpdatedSettingsRequest request;
    {
      MutexLock lock(&mu_);
      ++stats_.settings_polls;
      SetKnownGenerations(&request);
    }
    absl::StatusOr<agent::UpdatedSettingsResponse> response =
        CallUpdatedSettings(request);
    if (!response.ok()) return NoteFailure(response.status());
    return Apply(*response);
  }

  // The watch thread: one watch_settings call outstanding at a time, each
  // answered as soon as the parent's settings change (or `{}` after
  // watch_wait). Ends when the client stops, or at once when the parent
  // does not know the method (a reference parent): polling then takes over.
  // While the parent is gone it waits for the schedule thread to reach a
  // server again.
  void WatchLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    const absl::Duration backoff =
        std::max(options_.reconnect_delay, absl::Milliseconds(100));
    for (;;) {
      agent::WatchSettingsRequest request;
      {
        MutexLock lock(&mu_);
        while (!stopped_ && parent_exited_.load(std::memory_order_acquire)) {
          wake_.WaitUntil(&mu_, zen::Now() + backoff);
        }
        if (stopped_) return;
        ++stats_.settings_watches;
        // The generations last answered, even when a document was null
        // (which polls ask for again): a watch that asked with an absent
        // generation would be answered at once, over and over.
        if (seen_config_) {
          request.set_known_config_generation(
              static_cast<int32_t>(*seen_config_));
        }
        if (seen_firewall_lists_) {
          request.set_known_firewall_lists_generation(
              static_cast<int32_t>(*seen_firewall_lists_));
        }
      }
      request.set_wait_ms(
          static_cast<int32_t>(absl::ToInt64Milliseconds(options_.watch_wait)));
      absl::StatusOr<agent::UpdatedSettingsResponse> response =
          Stub().WatchSettings(
              request, rpc::CallOptions::WithTimeout(options_.watch_wait +
                                                     options_.call_timeout));
      if (response.ok()) {
        absl::Status applied = Apply(*response);
        if (!applied.ok()) {
          poll_log_.Log(LogLevel::kWarning,
                        absl::StrCat("failed to apply settings from parent: ",
                                     applied.message()),
                        zen::Now());
        }
        continue;
      }
      const absl::Status failed = NoteFailure(response.status());
      MutexLock lock(&mu_);
      if (stopped_) return;
      if (absl::IsUnimplemented(failed)) {
        LogInfo("parent does not offer watch_settings (", failed.message(),
                "): polling updated_settings");
        watching_settings_ = false;
        wake_.SignalAll();  // The schedule thread polls from now on.
        return;
      }
      // The parent is away (reconnecting) or busy: try again after a pause.
      if (!parent_exited_.load(std::memory_order_acquire)) {
        poll_log_.Log(LogLevel::kWarning,
                      absl::StrCat("failed to watch settings from parent: ",
                                   failed.message()),
                      zen::Now());
      }
      wake_.WaitUntil(&mu_, zen::Now() + backoff);
    }
  }

  RateLimitAnswer CalculateRateLimits(
      const RouteKey& route, absl::string_view client_ip,
      std::optional<absl::string_view> actor_id) {
    if (parent_exited_.load(std::memory_order_acquire)) {
      return LocalRateLimits(route, client_ip, actor_id, ParentExitedError());
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
      if (!client_ip.empty())
        actor->set_last_ip_address(std::string(client_ip));
      const int64_t now_ms = absl::ToUnixSeconds(zen::Now()) * 1000;
      actor->set_first_seen_at(now_ms);
      actor->set_last_seen_at(now_ms);
    }
    absl::StatusOr<agent::CalculateRateLimitsResponse> response =
        CallCalculateRateLimits(request);
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
    return LocalRateLimits(route, client_ip, actor_id,
                           NoteFailure(response.status()));
  }

  // The parent could not answer in time (or is gone): decide locally
  // (limits then hold per worker only) and say so.
  RateLimitAnswer LocalRateLimits(const RouteKey& route,
                                  absl::string_view client_ip,
                                  std::optional<absl::string_view> actor_id,
                                  const absl::Status& why)
      ABSL_LOCKS_EXCLUDED(mu_) {
    rate_limit_log_.Log(
        LogLevel::kWarning,
        absl::StrCat("failed to get rate limits from parent: ", why.message()),
        zen::Now());
    RateLimitAnswer answer;
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
    if (parent_exited_.load(std::memory_order_acquire)) {
      return LocalAttackWave(client_ip, method, url, ParentExitedError());
    }
    agent::RecordAttackWaveRequest request;
    request.set_client_ip(std::string(client_ip));
    request.set_verb(std::string(method));
    request.set_path(std::string(url));
    absl::StatusOr<agent::RecordAttackWaveResponse> response =
        CallRecordAttackWave(request);
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
                           NoteFailure(response.status()));
  }

  // Short timeout, as the reference's: attackers can trigger this at will.
  // Then this worker's own detector decides (waves may be missed or doubled
  // while the parent does not answer, as in the reference).
  AttackWaveAnswer LocalAttackWave(absl::string_view client_ip,
                                   absl::string_view method,
                                   absl::string_view url,
                                   const absl::Status& why)
      ABSL_LOCKS_EXCLUDED(mu_) {
    attack_wave_log_.Log(
        LogLevel::kWarning,
        absl::StrCat("failed to record attack wave sample with parent: ",
                     why.message()),
        zen::Now());
    AttackWaveAnswer answer;
    answer.from_parent = false;
    answer.samples =
        local_attack_waves_.Record(client_ip, method, url, zen::Now());
    MutexLock lock(&mu_);
    ++stats_.attack_wave_fallbacks;
    return answer;
  }

  bool connected() const {
    if (local_ != nullptr) return true;
    return !parent_exited_.load(std::memory_order_acquire) &&
           channel_.load(std::memory_order_acquire)->connected();
  }

  bool parent_alive() const {
    return options_.parent_pid == 0 || ::getppid() == options_.parent_pid;
  }

  AgentClientStats stats() const {
    MutexLock lock(&mu_);
    return stats_;
  }

  void AbandonAfterFork() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (std::unique_ptr<rpc::Channel>& channel : channels_) {
      channel.release()->AbandonAfterFork();
    }
    threads_.AbandonAfterFork();
  }

 private:
  static bool IsDocument(const std::string& raw) {
    return !raw.empty() && raw != "null";
  }

  // The generations this worker holds, for updated_settings (absent: none
  // yet).
  void SetKnownGenerations(agent::UpdatedSettingsRequest* request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (stats_.config_generation) {
      request->set_known_config_generation(
          static_cast<int32_t>(*stats_.config_generation));
    }
    if (stats_.firewall_lists_generation) {
      request->set_known_firewall_lists_generation(
          static_cast<int32_t>(*stats_.firewall_lists_generation));
    }
  }

  // Applies what a settings answer carries (through the parser the parent
  // uses) and tells the host. One at a time: a poll's and a watch's answers
  // arriving together must not apply out of order.
  absl::Status Apply(const agent::UpdatedSettingsResponse& response)
      ABSL_LOCKS_EXCLUDED(mu_, apply_mu_) {
    MutexLock applying(&apply_mu_);
    {
      MutexLock lock(&mu_);
      if (response.has_config_generation()) {
        seen_config_ = response.config_generation();
      }
      if (response.has_firewall_lists_generation()) {
        seen_firewall_lists_ = response.firewall_lists_generation();
      }
    }
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

  // The four methods, over the socket or in this process. Same requests,
  // same responses, same parsing on both paths: only the transport
  // differs.
  absl::StatusOr<agent::UpdatedSettingsResponse> CallUpdatedSettings(
      const agent::UpdatedSettingsRequest& request) {
    if (local_ == nullptr) {
      return Stub().UpdatedSettings(
          request, rpc::CallOptions::WithTimeout(options_.call_timeout));
    }
    agent::UpdatedSettingsResponse response;
    const SettingsChanges changes = local_->UpdatedSettings(request, &response);
    // What the server splices into the frame: the cached bytes, `null` for
    // none.
    const auto text = [](const std::shared_ptr<const std::string>& raw) {
      return raw != nullptr ? *raw : std::string("null");
    };
    if (changes.config_changed) {
      response.set_config(text(changes.snapshot.config));
    }
    if (changes.firewall_lists_changed) {
      response.set_firewall_lists(text(changes.snapshot.firewall_lists));
    }
    return response;
  }

  absl::StatusOr<agent::SendCollectorEventsResponse> CallSendCollectorEvents(
      const agent::SendCollectorEventsRequest& request) {
    if (local_ == nullptr) {
      return Stub().SendCollectorEvents(
          request, rpc::CallOptions::WithTimeout(options_.call_timeout));
    }
    local_->SendCollectorEvents(request);
    return agent::SendCollectorEventsResponse();
  }

  absl::StatusOr<agent::CalculateRateLimitsResponse> CallCalculateRateLimits(
      const agent::CalculateRateLimitsRequest& request) {
    if (local_ == nullptr) {
      return Stub().CalculateRateLimits(
          request, rpc::CallOptions::WithTimeout(options_.rate_limit_timeout));
    }
    agent::CalculateRateLimitsResponse response;
    local_->CalculateRateLimits(request, &response);
    return response;
  }

  absl::StatusOr<agent::RecordAttackWaveResponse> CallRecordAttackWave(
      const agent::RecordAttackWaveRequest& request) {
    if (local_ == nullptr) {
      return Stub().RecordAttackWave(
          request, rpc::CallOptions::WithTimeout(options_.attack_wave_timeout));
    }
    agent::RecordAttackWaveResponse response;
    local_->RecordAttackWave(request, &response);
    return response;
  }

  // The current channel. Channels are never freed before the client, so a
  // caller still holding a replaced (stopped) one gets kCancelled, no crash.
  agent::WorkerAgent::Stub Stub() const {
    return agent::WorkerAgent::Stub(channel_.load(std::memory_order_acquire));
  }

  std::vector<rpc::Channel*> Channels() const ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    std::vector<rpc::Channel*> channels;
    for (const auto& channel : channels_) channels.push_back(channel.get());
    return channels;
  }

  absl::Status ParentExitedError() const {
    return absl::UnavailableError(
        absl::StrCat("parent process ", options_.parent_pid,
                     " exited; its agent server cannot be reached"));
  }

  bool ParentGone() const {
    return options_.parent_pid != 0 && ::getppid() != options_.parent_pid;
  }

  // A call failed. Refused or closed (kUnavailable) while the parent is
  // gone: the server went with it. Returns the status the caller reports.
  absl::Status NoteFailure(const absl::Status& status)
      ABSL_LOCKS_EXCLUDED(mu_) {
    // kCancelled: the channel was stopped under the call because the parent
    // was found gone meanwhile.
    if (absl::IsCancelled(status) &&
        parent_exited_.load(std::memory_order_acquire)) {
      return ParentExitedError();
    }
    if (!absl::IsUnavailable(status) || !ParentGone()) return status;
    MarkParentExited();
    return ParentExitedError();
  }

  // From now on calls fail fast; the schedule thread does the rest.
  void MarkParentExited() ABSL_LOCKS_EXCLUDED(mu_) {
    if (parent_exited_.exchange(true, std::memory_order_acq_rel)) return;
    MutexLock lock(&mu_);
    wake_.SignalAll();
  }

  // On the schedule thread, at the check interval: the parent is gone, and
  // the connection is down or a ping through it fails. A live server after
  // the parent's exit (a grandchild's server is its grandparent's) keeps the
  // client working; it is asked once, then calls tell.
  void CheckParent() ABSL_LOCKS_EXCLUDED(mu_) {
    if (!ParentGone()) return;
    rpc::Channel* channel = channel_.load(std::memory_order_acquire);
    if (!channel->connected()) {
      MarkParentExited();
      return;
    }
    if (orphan_probed_) return;
    absl::StatusOr<agent::PingResponse> pong = Stub().Ping(
        agent::PingRequest(),
        rpc::CallOptions::WithTimeout(options_.parent_check_interval));
    if (pong.ok() || absl::IsCancelled(pong.status())) {
      orphan_probed_ = true;
      return;
    }
    MarkParentExited();
  }

  // On the schedule thread, once per episode: stops the connection's own
  // retries (each would log), reports the exit once per process.
  void OnParentExited() ABSL_LOCKS_EXCLUDED(mu_) {
    channel_.load(std::memory_order_acquire)->Stop();
    parent_log_.Log(LogLevel::kWarning,
                    absl::StrCat(ParentExitedError().message(),
                                 "; agent calls fail fast until it can be"),
                    zen::Now());
    bool report = false;
    {
      MutexLock lock(&mu_);
      dead_parent_retry_ = DeadParentRetryPolicy(
          options_.reconnect_delay, options_.dead_parent_max_retry_delay);
      report = !exit_reported_;
      exit_reported_ = true;
    }
    if (report && options_.on_parent_exit) options_.on_parent_exit();
  }

  // On the schedule thread: one attempt to reach the server again. On
  // success the new channel serves every later call.
  bool TryReconnect() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
        rpc::Channel::Create(secret_, ChannelOptionsFor(options_));
    if (!channel.ok()) {
      parent_log_.Log(
          LogLevel::kWarning,
          absl::StrCat("agent server still unreachable after the parent "
                       "exited: ",
                       channel.status().message()),
          zen::Now());
      return false;
    }
    {
      MutexLock lock(&mu_);
      if (stopped_) {
        (*channel)->Stop();
        return false;
      }
      channel_.store(channel->get(), std::memory_order_release);
      channels_.push_back(std::move(*channel));
    }
    orphan_probed_ = true;  // Reached after the parent's exit.
    parent_exited_.store(false, std::memory_order_release);
    LogWarning("agent server reached again after the parent exited");
    return true;
  }

  // Settings polling, event flushing and the parent watch share this thread
  // (as the reference's shared worker); keepalive runs on the channel's.
  void ScheduleLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::Time next_poll =
        zen::Now() + InitialPollDelay(options_.polling_jitter);
    absl::Time next_flush = zen::Now() + options_.heartbeat_interval;
    const bool watch = options_.parent_pid != 0;
    absl::Time next_check = watch ? zen::Now() + options_.parent_check_interval
                                  : absl::InfiniteFuture();
    bool exit_handled = false;  // This episode's OnParentExited ran.
    absl::Time next_retry = absl::InfiniteFuture();
    for (;;) {
      {
        MutexLock lock(&mu_);
        for (;;) {
          if (stopped_) return;
          const bool exited = parent_exited_.load(std::memory_order_acquire);
          if (exited && !exit_handled) break;
          const absl::Time due =
              exited ? next_retry
                     : std::min({next_poll, next_flush, next_check});
          if (zen::Now() >= due) break;
          wake_.WaitUntil(&mu_, due);
        }
      }
      if (parent_exited_.load(std::memory_order_acquire)) {
        if (!exit_handled) {
          OnParentExited();
          exit_handled = true;
          MutexLock lock(&mu_);
          next_retry = zen::Now() + dead_parent_retry_.NextDelay();
        } else if (TryReconnect()) {
          exit_handled = false;
          next_poll = next_flush = zen::Now();
        } else {
          MutexLock lock(&mu_);
          next_retry = zen::Now() + dead_parent_retry_.NextDelay();
        }
        continue;
      }
      const absl::Time now = zen::Now();
      if (now >= next_check) {
        CheckParent();
        next_check = zen::Now() + options_.parent_check_interval;
        if (parent_exited_.load(std::memory_order_acquire)) continue;
      }
      bool watching_settings;
      {
        MutexLock lock(&mu_);
        watching_settings = watching_settings_;
      }
      // While a watch_settings call is kept outstanding, polls are skipped:
      // the watch brings every change sooner.
      if (now >= next_poll) {
        if (!watching_settings) {
          absl::Status polled = PollSettings();
          if (!polled.ok() && !parent_exited_.load()) {
            poll_log_.Log(LogLevel::kWarning,
                          absl::StrCat("failed to get settings from parent: ",
                                       polled.message()),
                          zen::Now());
          }
        }
        // Advanced even when the poll is skipped, or this loop would spin.
        next_poll = zen::Now() + options_.polling_interval;
      }
      if (now >= next_flush) {
        absl::Status flushed = Flush();
        if (!flushed.ok() && !parent_exited_.load()) {
          flush_log_.Log(
              LogLevel::kWarning,
              absl::StrCat("failed to send collector events to parent: ",
                           flushed.message()),
              zen::Now());
        }
        next_flush = zen::Now() + options_.heartbeat_interval;
      }
    }
  }

  // Puts a batch that did not go out back in front, oldest first, within
  // the cap (the reference drops them).
  void Requeue(std::vector<CollectorEvent> batch) ABSL_LOCKS_EXCLUDED(mu_) {
    MutexLock lock(&mu_);
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      if (events_.size() >= options_.max_buffered_events) {
        ++stats_.events_dropped;  // The oldest are the ones to go.
        continue;
      }
      events_.push_front(std::move(*it));
    }
  }

  const ipc::Secret* const secret_;  // Not owned; null in process.
  AgentService* const local_;        // Not owned; null over a socket.
  const AgentClientOptions options_;
  // Every channel this client made, the current one last; see Stub().
  std::vector<std::unique_ptr<rpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
  std::atomic<rpc::Channel*> channel_{nullptr};
  RateLimiter local_limiter_;
  AttackWaveDetector local_attack_waves_{options_.attack_wave};
  LogThrottle rate_limit_log_{options_.log_interval};
  LogThrottle attack_wave_log_{options_.log_interval};
  LogThrottle poll_log_{options_.log_interval};
  LogThrottle flush_log_{options_.log_interval};
  LogThrottle parent_log_{options_.log_interval};
  // The parent exited and its server is not reachable: calls fail fast.
  std::atomic<bool> parent_exited_{false};
  bool orphan_probed_ = false;  // Schedule thread only.

  Mutex flush_mu_;
  MetricsReporter metrics_reporter_ ABSL_GUARDED_BY(flush_mu_);
  Mutex poll_mu_;
  Mutex apply_mu_;
  mutable Mutex mu_;
  CondVar wake_;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  // A watch_settings call is kept outstanding (false: polling instead).
  bool watching_settings_ ABSL_GUARDED_BY(mu_) = false;
  // The generations of the last settings answers, null documents included.
  std::optional<int64_t> seen_config_ ABSL_GUARDED_BY(mu_);
  std::optional<int64_t> seen_firewall_lists_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const RuntimeSettings> settings_ ABSL_GUARDED_BY(mu_);
  std::deque<CollectorEvent> events_ ABSL_GUARDED_BY(mu_);
  AgentClientStats stats_ ABSL_GUARDED_BY(mu_);
  bool exit_reported_ ABSL_GUARDED_BY(mu_) = false;
  ipc::ReconnectPolicy dead_parent_retry_ ABSL_GUARDED_BY(mu_);
  ForkGuardRegistration fork_guard_{&mu_};
  ThreadGroup threads_;
};

absl::StatusOr<std::unique_ptr<AgentClient>> AgentClient::Create(
    const ipc::Secret* secret, AgentClientOptions options) {
  absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
      rpc::Channel::Create(secret, ChannelOptionsFor(options));
  if (!channel.ok()) return channel.status();
  auto impl = std::make_unique<Impl>(secret, std::move(options),
                                     std::move(*channel), nullptr);
  absl::Status started = impl->Start();
  if (!started.ok()) return started;
  return std::unique_ptr<AgentClient>(new AgentClient(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<AgentClient>> AgentClient::CreateInProcess(
    AgentService* service, AgentClientOptions options) {
  options.parent_pid = 0;  // The service lives in this process.
  auto impl =
      std::make_unique<Impl>(nullptr, std::move(options), nullptr, service);
  absl::Status started = impl->Start();
  if (!started.ok()) return started;
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
bool AgentClient::parent_alive() const { return impl_->parent_alive(); }
AgentClientStats AgentClient::stats() const { return impl_->stats(); }
void AgentClient::AbandonAfterFork() { impl_.release()->AbandonAfterFork(); }

}  // namespace zen
