// AgentClient: noticing the parent's death, failing fast, and reaching a
// server again after it.
#include <unistd.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "agent/agent_client_impl.h"
#include "agent/parent_death.h"
#include "base/clock.h"
#include "base/log.h"

namespace zen {

absl::Status AgentClient::Impl::ParentExitedError() const {
  return absl::UnavailableError(
      absl::StrCat("parent process ", options_.parent_pid,
                   " exited; its agent server cannot be reached"));
}

bool AgentClient::Impl::ParentGone() const {
  return options_.parent_pid != 0 && ::getppid() != options_.parent_pid;
}

absl::Status AgentClient::Impl::NoteFailure(const absl::Status& status) {
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

void AgentClient::Impl::MarkParentExited() {
  if (parent_exited_.exchange(true, std::memory_order_acq_rel)) return;
  MutexLock lock(&mu_);
  wake_.SignalAll();
}

void AgentClient::Impl::CheckParent() {
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

void AgentClient::Impl::OnParentExited() {
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

bool AgentClient::Impl::TryReconnect() {
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

}  // namespace zen
