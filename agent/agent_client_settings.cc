// AgentClient: settings polls, the watch thread and applying answers.
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/agent_client_impl.h"
#include "base/clock.h"
#include "base/log.h"

namespace zen {
namespace {

// How long a worker whose watch the parent refused (RESOURCE_EXHAUSTED: its
// connection or the parent's pool is full) polls before it tries a watch
// again: a polling interval, spread over the jitter so that refused workers
// do not come back in step.
absl::Duration WatchRetryDelay(const AgentClientOptions& options) {
  thread_local std::minstd_rand rng(static_cast<uint32_t>(::getpid()));
  const int64_t jitter_ms =
      std::max<int64_t>(absl::ToInt64Milliseconds(options.polling_jitter), 0);
  std::uniform_int_distribution<int64_t> spread(0, jitter_ms);
  return options.polling_interval + absl::Milliseconds(spread(rng));
}

}  // namespace

absl::Status AgentClient::Impl::PollSettings() {
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

void AgentClient::Impl::WatchLoop() {
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
      {
        // Answered, so parked (or the settings had changed): the watch
        // brings changes again, polls are skipped again.
        MutexLock lock(&mu_);
        watching_settings_ = true;
      }
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
    if (absl::IsResourceExhausted(failed)) {
      // The parent has no room for this watch: poll on the usual schedule
      // (with its jitter) until a watch is answered again.
      ++stats_.settings_watches_refused;
      watching_settings_ = false;
      wake_.SignalAll();
      const absl::Time retry = zen::Now() + WatchRetryDelay(options_);
      while (!stopped_ && zen::Now() < retry) wake_.WaitUntil(&mu_, retry);
      continue;
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

bool AgentClient::Impl::IsDocument(const std::string& raw) {
  return !raw.empty() && raw != "null";
}

void AgentClient::Impl::SetKnownGenerations(
    agent::UpdatedSettingsRequest* request) {
  if (stats_.config_generation) {
    request->set_known_config_generation(
        static_cast<int32_t>(*stats_.config_generation));
  }
  if (stats_.firewall_lists_generation) {
    request->set_known_firewall_lists_generation(
        static_cast<int32_t>(*stats_.firewall_lists_generation));
  }
}

absl::Status AgentClient::Impl::Apply(
    const agent::UpdatedSettingsResponse& response) {
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
  // A null (or absent) document does not advance the known generation (as
  // in the reference; docs/architecture.md): the next poll asks again.
  if (response.has_config_generation() && IsDocument(response.config())) {
    status = updated->ApplyConfig(response.config());
    if (status.ok()) {
      config_generation = response.config_generation();
      changed = true;
    }
  }
  if (response.has_firewall_lists_generation() &&
      IsDocument(response.firewall_lists())) {
    absl::Status lists = updated->ApplyFirewallLists(response.firewall_lists());
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

absl::StatusOr<agent::UpdatedSettingsResponse>
AgentClient::Impl::CallUpdatedSettings(
    const agent::UpdatedSettingsRequest& request) {
  if (local_ == nullptr) {
    return Stub().UpdatedSettings(
        request, rpc::CallOptions::WithTimeout(options_.call_timeout));
  }
  agent::UpdatedSettingsResponse response;
  const SettingsChanges changes = local_->UpdatedSettings(request);
  PutChangedGenerations(changes, &response);
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

}  // namespace zen
