// AgentClient: its lifecycle, the channel and the schedule's tasks.
#include <unistd.h>

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/agent_client_impl.h"
#include "agent/in_process_transport.h"
#include "agent/parent_death.h"
#include "agent/socket_transport.h"
#include "base/clock.h"
#include "base/log.h"

namespace zen {
namespace {

// The first poll's delay: a whole number of seconds in [1, jitter] seeded by
// the pid, because forked children inherit identical random state.
absl::Duration InitialPollDelay(absl::Duration jitter) {
  const int64_t max_seconds = absl::ToInt64Seconds(jitter);
  if (max_seconds < 1) return absl::ZeroDuration();
  std::mt19937 rng(static_cast<uint32_t>(::getpid()));
  std::uniform_int_distribution<int64_t> seconds(1, max_seconds);
  return absl::Seconds(seconds(rng));
}

// A limiter whose every window is in `zone`; null without a zone.
std::unique_ptr<RateLimiter> ZoneLimiter(RateLimitZone* zone) {
  if (zone == nullptr) return nullptr;
  RateLimiterOptions options;
  options.zone = zone;
  return std::make_unique<RateLimiter>(options);
}

}  // namespace

rpc::ChannelOptions AgentClient::Impl::ChannelOptionsFor(
    const AgentClientOptions& options) {
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

AgentClient::Impl::Impl(AgentClientOptions options,
                        std::unique_ptr<AgentTransport> transport)
    : options_(std::move(options)),
      transport_(std::move(transport)),
      parent_death_(options_.parent_death != nullptr
                        ? options_.parent_death
                        : std::make_shared<ParentDeath>(
                              options_.parent_pid, options_.reconnect_delay,
                              options_.dead_parent_max_retry_delay,
                              options_.on_parent_exit)),
      zone_limiter_(ZoneLimiter(options_.rate_limit_zone)),
      parent_(
          transport_.get(), parent_death_.get(), options_.parent_check_interval,
          options_.log_interval,
          // Calls fail fast from now on: the watch's next step (stopping
          // the connection's retries, reporting the exit) is due at once.
          [this] { schedule_.RunSoon(parent_task_); },
          // A server answers again: what waited for it goes at once.
          [this] {
            schedule_.RunSoon(poll_task_);
            schedule_.RunSoon(flush_task_);
          }),
      settings_(options_.on_settings) {
  // Added in this order, so that when several are due together the parent
  // is looked at first, as a poll or flush would fail fast after its exit.
  if (parent_.watching()) {
    parent_task_ = schedule_.Add("parent check", options_.parent_check_interval,
                                 [this] { return parent_.Step(); });
  }
  poll_task_ = schedule_.AddEvery(
      "settings poll", InitialPollDelay(options_.polling_jitter),
      options_.polling_interval, [this] { PollOnSchedule(); });
  flush_task_ = schedule_.AddEvery("event flush", options_.flush_interval,
                                   options_.flush_interval,
                                   [this] { FlushOnSchedule(); });
}

AgentClient::Impl::~Impl() { Stop(); }

absl::Status AgentClient::Impl::Start() {
  // In process there is nothing to wait on: polls read the service.
  if (options_.watch_settings && transport_->remote()) {
    watching_settings_.store(true, std::memory_order_release);
    absl::Status watching = threads_.TrySpawn([this] { WatchLoop(); });
    if (!watching.ok()) {
      watching_settings_.store(false, std::memory_order_release);  // Polls.
    }
  }
  return schedule_.Start();
}

void AgentClient::Impl::Stop() {
  if (!stop_.Stop()) return;
  // The transport first: a poll or flush in flight on the schedule thread
  // then fails at once (CANCELLED) instead of running out its deadline.
  transport_->Stop();
  schedule_.Stop();
  threads_.JoinAll();
}

std::shared_ptr<const RuntimeSettings> AgentClient::Impl::settings() const {
  return settings_.current();
}

bool AgentClient::Impl::connected() const {
  return !parent_.exited() && transport_->connected();
}

bool AgentClient::Impl::parent_alive() const { return !parent_death_->Gone(); }

AgentClientStats AgentClient::Impl::stats() const {
  AgentClientStats stats;
  const EventBuffer::Counts events = events_.counts();
  stats.events_recorded = events.recorded;
  stats.events_sent = events.sent;
  stats.events_dropped = events.dropped;
  stats.flush_failures = events.flush_failures;
  stats.settings_watches_refused =
      watches_refused_.load(std::memory_order_relaxed);
  stats.rate_limit_fallbacks =
      rate_limit_fallbacks_.load(std::memory_order_relaxed);
  stats.attack_wave_fallbacks =
      attack_wave_fallbacks_.load(std::memory_order_relaxed);
  stats.rate_limits_from_zone = zone_decisions_.load(std::memory_order_relaxed);
  stats.rate_limits_zone_deferred =
      zone_deferred_.load(std::memory_order_relaxed);
  const ClientSettings::Counts settings = settings_.counts();
  stats.settings_polls = settings.polls;
  stats.settings_watches = settings.watches;
  stats.settings_applied = settings.applied;
  const KnownGenerations applied = settings_.applied_generations();
  if (applied.config) stats.config_generation = *applied.config;
  if (applied.firewall_lists) {
    stats.firewall_lists_generation = *applied.firewall_lists;
  }
  return stats;
}

void AgentClient::Impl::AbandonAfterFork() {
  // Leaked with this object: see AgentTransport::AbandonAfterFork.
  transport_.get()->AbandonAfterFork();
  schedule_.AbandonAfterFork();
  threads_.AbandonAfterFork();
}

void AgentClient::Impl::PollOnSchedule() {
  if (watching_settings_.load(std::memory_order_acquire)) return;
  const absl::Status polled = PollSettings();
  if (!polled.ok() && !parent_.exited() && !stop_.stopped()) {
    poll_log_.Log(
        LogLevel::kWarning,
        absl::StrCat("failed to get settings from parent: ", polled.message()),
        zen::Now());
  }
}

void AgentClient::Impl::FlushOnSchedule() {
  const absl::Status flushed = Flush();
  // A flush that Stop() cut short is the host's doing, not the parent's
  // failure: no warning (a host flushes before it stops, as the bindings
  // do at exit).
  if (!flushed.ok() && !parent_.exited() && !stop_.stopped()) {
    flush_log_.Log(LogLevel::kWarning,
                   absl::StrCat("failed to send collector events to parent: ",
                                flushed.message()),
                   zen::Now());
  }
}

absl::StatusOr<std::unique_ptr<AgentClient>> AgentClient::Create(
    const ipc::Secret* secret, AgentClientOptions options) {
  rpc::ChannelOptions channel_options = Impl::ChannelOptionsFor(options);
  absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
      rpc::Channel::Create(secret, channel_options);
  if (!channel.ok()) return channel.status();
  auto impl = std::make_unique<Impl>(
      std::move(options),
      std::make_unique<SocketAgentTransport>(secret, std::move(channel_options),
                                             std::move(*channel)));
  absl::Status started = impl->Start();
  if (!started.ok()) return started;
  return std::unique_ptr<AgentClient>(new AgentClient(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<AgentClient>> AgentClient::CreateInProcess(
    AgentService* service, AgentClientOptions options) {
  options.parent_pid = 0;  // The service lives in this process.
  options.parent_death = nullptr;
  auto impl = std::make_unique<Impl>(
      std::move(options), std::make_unique<InProcessAgentTransport>(service));
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
