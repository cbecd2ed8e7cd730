#include "agent/socket_transport.h"

#include <utility>

namespace zen {

SocketAgentTransport::SocketAgentTransport(
    const ipc::Secret* secret, rpc::ChannelOptions options,
    std::unique_ptr<rpc::Channel> channel)
    : secret_(secret), options_(std::move(options)) {
  channel_.store(channel.get(), std::memory_order_release);
  MutexLock lock(&mu_);
  channels_.push_back(std::move(channel));
}

SocketAgentTransport::~SocketAgentTransport() { Stop(); }

agent::WorkerAgent::Stub SocketAgentTransport::Stub() const {
  return agent::WorkerAgent::Stub(channel_.load(std::memory_order_acquire));
}

std::vector<rpc::Channel*> SocketAgentTransport::Channels() const {
  MutexLock lock(&mu_);
  std::vector<rpc::Channel*> channels;
  channels.reserve(channels_.size());
  for (const auto& channel : channels_) channels.push_back(channel.get());
  return channels;
}

absl::StatusOr<agent::UpdatedSettingsResponse>
SocketAgentTransport::UpdatedSettings(
    const agent::UpdatedSettingsRequest& request, absl::Duration timeout) {
  return Stub().UpdatedSettings(request,
                                rpc::CallOptions::WithTimeout(timeout));
}

absl::StatusOr<agent::UpdatedSettingsResponse>
SocketAgentTransport::WatchSettings(const agent::WatchSettingsRequest& request,
                                    absl::Duration timeout) {
  return Stub().WatchSettings(request, rpc::CallOptions::WithTimeout(timeout));
}

absl::StatusOr<agent::SendCollectorEventsResponse>
SocketAgentTransport::SendCollectorEvents(
    const agent::SendCollectorEventsRequest& request, absl::Duration timeout) {
  return Stub().SendCollectorEvents(request,
                                    rpc::CallOptions::WithTimeout(timeout));
}

absl::StatusOr<agent::CalculateRateLimitsResponse>
SocketAgentTransport::CalculateRateLimits(
    const agent::CalculateRateLimitsRequest& request, absl::Duration timeout) {
  return Stub().CalculateRateLimits(request,
                                    rpc::CallOptions::WithTimeout(timeout));
}

absl::StatusOr<agent::RecordAttackWaveResponse>
SocketAgentTransport::RecordAttackWave(
    const agent::RecordAttackWaveRequest& request, absl::Duration timeout) {
  return Stub().RecordAttackWave(request,
                                 rpc::CallOptions::WithTimeout(timeout));
}

absl::Status SocketAgentTransport::Ping(absl::Duration timeout) {
  return Stub()
      .Ping(agent::PingRequest(), rpc::CallOptions::WithTimeout(timeout))
      .status();
}

absl::Status SocketAgentTransport::ReportMetrics(absl::Duration timeout) {
  const std::vector<rpc::Channel*> channels = Channels();
  MutexLock lock(&report_mu_);
  return metrics_reporter_.Report(channels, Stub(), timeout);
}

bool SocketAgentTransport::connected() const {
  return channel_.load(std::memory_order_acquire)->connected();
}

void SocketAgentTransport::Disconnect() {
  channel_.load(std::memory_order_acquire)->Stop();
}

absl::Status SocketAgentTransport::Reconnect() {
  absl::StatusOr<std::unique_ptr<rpc::Channel>> channel =
      rpc::Channel::Create(secret_, options_);
  if (!channel.ok()) return channel.status();
  MutexLock lock(&mu_);
  if (stopped_) {
    (*channel)->Stop();
    return absl::CancelledError("agent client stopped");
  }
  channel_.store(channel->get(), std::memory_order_release);
  channels_.push_back(std::move(*channel));
  return absl::OkStatus();
}

void SocketAgentTransport::Stop() {
  {
    MutexLock lock(&mu_);
    if (stopped_) return;
    stopped_ = true;
  }
  // Without mu_: Stop() waits for the channel's threads. Only Reconnect()
  // adds channels, and it has seen stopped_ or will.
  for (rpc::Channel* channel : Channels()) channel->Stop();
}

void SocketAgentTransport::AbandonAfterFork() {
  // The fork guard released mu_ in the child after the fork, consistent.
  MutexLock lock(&mu_);
  for (std::unique_ptr<rpc::Channel>& channel : channels_) {
    channel.release()->AbandonAfterFork();
  }
  channels_.clear();
}

}  // namespace zen
