#include "agent/client_parent_watch.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "base/clock.h"
#include "base/log.h"

namespace zen {

ParentExitWatch::ParentExitWatch(AgentTransport* transport, ParentDeath* death,
                                 absl::Duration check_interval,
                                 absl::Duration log_interval,
                                 std::function<void()> on_exited,
                                 std::function<void()> on_reached)
    : transport_(transport),
      death_(death),
      check_interval_(check_interval),
      on_exited_(std::move(on_exited)),
      on_reached_(std::move(on_reached)),
      log_(log_interval) {}

absl::Status ParentExitWatch::NoteFailure(const absl::Status& status) {
  // kCancelled: the connection was stopped under the call because the
  // parent was found gone meanwhile.
  if (absl::IsCancelled(status) && exited()) return ExitedError();
  if (!absl::IsUnavailable(status) || !death_->Gone()) return status;
  if (MarkExited() && on_exited_) on_exited_();
  return ExitedError();
}

bool ParentExitWatch::MarkExited() {
  return !exited_.exchange(true, std::memory_order_acq_rel);
}

absl::Duration ParentExitWatch::Step() {
  if (!exited()) {
    CheckParent();
    if (!exited()) return check_interval_;
  }
  if (!exit_handled_) {
    OnExited();
    exit_handled_ = true;
    return death_->NextRetryDelay();
  }
  if (!TryReconnect()) return death_->NextRetryDelay();
  exit_handled_ = false;
  if (on_reached_) on_reached_();
  return check_interval_;
}

void ParentExitWatch::CheckParent() {
  if (!death_->Gone()) return;
  if (!transport_->connected()) {
    MarkExited();
    return;
  }
  // A live server after the parent's exit keeps the client working; it is
  // asked once, then calls tell.
  if (orphan_probed_) return;
  const absl::Status pong = transport_->Ping(check_interval_);
  if (pong.ok() || absl::IsCancelled(pong)) {
    orphan_probed_ = true;
    return;
  }
  MarkExited();
}

void ParentExitWatch::OnExited() {
  // The connection's own retries would each log; ours are spaced out.
  transport_->Disconnect();
  log_.Log(LogLevel::kWarning,
           absl::StrCat(ExitedError().message(),
                        "; agent calls fail fast until it can be"),
           zen::Now());
  death_->RestartRetries();
  death_->ReportOnce();
}

bool ParentExitWatch::TryReconnect() {
  const absl::Status reconnected = transport_->Reconnect();
  if (absl::IsCancelled(reconnected)) return false;  // Stopped meanwhile.
  if (!reconnected.ok()) {
    log_.Log(LogLevel::kWarning,
             absl::StrCat("agent server still unreachable after the parent "
                          "exited: ",
                          reconnected.message()),
             zen::Now());
    return false;
  }
  orphan_probed_ = true;  // Reached after the parent's exit.
  exited_.store(false, std::memory_order_release);
  LogWarning("agent server reached again after the parent exited");
  return true;
}

}  // namespace zen
