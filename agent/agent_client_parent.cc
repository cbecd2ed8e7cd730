// AgentClient: noticing the parent's death, failing fast, and reaching a
// server again after it.
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/agent_client_impl.h"
#include "base/clock.h"
#include "base/log.h"

namespace zen {

absl::Status AgentClient::Impl::NoteFailure(const absl::Status& status) {
  // kCancelled: the channel was stopped under the call because the parent
  // was found gone meanwhile.
  if (absl::IsCancelled(status) &&
      parent_exited_.load(std::memory_order_acquire)) {
    return parent_death_->ExitedError();
  }
  if (!absl::IsUnavailable(status) || !parent_death_->Gone()) return status;
  MarkParentExited();
  return parent_death_->ExitedError();
}

void AgentClient::Impl::MarkParentExited() {
  if (parent_exited_.exchange(true, std::memory_order_acq_rel)) return;
  MutexLock lock(&mu_);
  wake_.SignalAll();
}

void AgentClient::Impl::CheckParent() {
  if (!parent_death_->Gone()) return;
  if (!transport_->connected()) {
    MarkParentExited();
    return;
  }
  if (orphan_probed_) return;
  const absl::Status pong = transport_->Ping(options_.parent_check_interval);
  if (pong.ok() || absl::IsCancelled(pong)) {
    orphan_probed_ = true;
    return;
  }
  MarkParentExited();
}

void AgentClient::Impl::OnParentExited() {
  transport_->Disconnect();
  parent_log_.Log(LogLevel::kWarning,
                  absl::StrCat(parent_death_->ExitedError().message(),
                               "; agent calls fail fast until it can be"),
                  zen::Now());
  parent_death_->RestartRetries();
  parent_death_->ReportOnce();
}

bool AgentClient::Impl::TryReconnect() {
  const absl::Status reconnected = transport_->Reconnect();
  if (absl::IsCancelled(reconnected)) return false;  // Stopped meanwhile.
  if (!reconnected.ok()) {
    parent_log_.Log(
        LogLevel::kWarning,
        absl::StrCat("agent server still unreachable after the parent "
                     "exited: ",
                     reconnected.message()),
        zen::Now());
    return false;
  }
  orphan_probed_ = true;  // Reached after the parent's exit.
  parent_exited_.store(false, std::memory_order_release);
  LogWarning("agent server reached again after the parent exited");
  return true;
}

}  // namespace zen
