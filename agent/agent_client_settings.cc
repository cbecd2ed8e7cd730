// AgentClient: settings polls and the watch thread.
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
  if (parent_.exited()) return parent_.ExitedError();
  return settings_.Poll([this](const agent::UpdatedSettingsRequest& request)
                            -> absl::StatusOr<agent::UpdatedSettingsResponse> {
    absl::StatusOr<agent::UpdatedSettingsResponse> response =
        transport_->UpdatedSettings(request, options_.call_timeout);
    if (!response.ok()) return parent_.NoteFailure(response.status());
    return response;
  });
}

void AgentClient::Impl::WatchLoop() {
  const absl::Duration backoff =
      std::max(options_.reconnect_delay, absl::Milliseconds(100));
  for (;;) {
    // While the parent is gone, the schedule tries to reach a server again.
    while (parent_.exited()) {
      if (!stop_.SleepFor(backoff)) return;
    }
    if (stop_.stopped()) return;
    agent::WatchSettingsRequest request;
    settings_.StartWatch(&request);
    request.set_wait_ms(
        static_cast<int32_t>(absl::ToInt64Milliseconds(options_.watch_wait)));
    absl::StatusOr<agent::UpdatedSettingsResponse> response =
        transport_->WatchSettings(request,
                                  options_.watch_wait + options_.call_timeout);
    if (response.ok()) {
      // Answered, so parked (or the settings had changed): the watch brings
      // changes again, polls are skipped again.
      watching_settings_.store(true, std::memory_order_release);
      absl::Status applied = settings_.Apply(*response);
      if (!applied.ok()) {
        poll_log_.Log(LogLevel::kWarning,
                      absl::StrCat("failed to apply settings from parent: ",
                                   applied.message()),
                      zen::Now());
      }
      continue;
    }
    const absl::Status failed = parent_.NoteFailure(response.status());
    if (stop_.stopped()) return;
    if (absl::IsUnimplemented(failed)) {
      LogInfo("parent does not offer watch_settings (", failed.message(),
              "): polling updated_settings");
      // The schedule polls from now on.
      watching_settings_.store(false, std::memory_order_release);
      return;
    }
    if (absl::IsResourceExhausted(failed)) {
      // The parent has no room for this watch: poll on the usual schedule
      // (with its jitter) until a watch is answered again.
      watches_refused_.fetch_add(1, std::memory_order_relaxed);
      watching_settings_.store(false, std::memory_order_release);
      if (!stop_.SleepFor(WatchRetryDelay(options_))) return;
      continue;
    }
    // The parent is away (reconnecting) or busy: try again after a pause.
    if (!parent_.exited()) {
      poll_log_.Log(LogLevel::kWarning,
                    absl::StrCat("failed to watch settings from parent: ",
                                 failed.message()),
                    zen::Now());
    }
    if (!stop_.SleepFor(backoff)) return;
  }
}

}  // namespace zen
