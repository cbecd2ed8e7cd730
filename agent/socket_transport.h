// SocketAgentTransport: agent calls over an authenticated connection to the
// parent's AgentServer (rpc::Channel), with the generated stub.
#ifndef ZEN_AGENT_SOCKET_TRANSPORT_H_
#define ZEN_AGENT_SOCKET_TRANSPORT_H_

#include <atomic>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "agent/agent_transport.h"
#include "agent/call_metrics.h"
#include "base/fork_guard.h"
#include "base/mutex.h"
#include "ipc/secret.h"
#include "proto/zen/agent/worker_agent.zenrpc.h"
#include "rpc/channel.h"

namespace zen {

class SocketAgentTransport : public AgentTransport {
 public:
  // Over `channel` (connected); Reconnect() makes new ones from `secret`
  // (not owned, outlives this object) and `options`.
  SocketAgentTransport(const ipc::Secret* secret, rpc::ChannelOptions options,
                       std::unique_ptr<rpc::Channel> channel);
  ~SocketAgentTransport() override;

  absl::StatusOr<agent::UpdatedSettingsResponse> UpdatedSettings(
      const agent::UpdatedSettingsRequest& request,
      absl::Duration timeout) override;
  absl::StatusOr<agent::UpdatedSettingsResponse> WatchSettings(
      const agent::WatchSettingsRequest& request,
      absl::Duration timeout) override;
  absl::StatusOr<agent::SendCollectorEventsResponse> SendCollectorEvents(
      const agent::SendCollectorEventsRequest& request,
      absl::Duration timeout) override;
  absl::StatusOr<agent::CalculateRateLimitsResponse> CalculateRateLimits(
      const agent::CalculateRateLimitsRequest& request,
      absl::Duration timeout) override;
  absl::StatusOr<agent::RecordAttackWaveResponse> RecordAttackWave(
      const agent::RecordAttackWaveRequest& request,
      absl::Duration timeout) override;
  absl::Status Ping(absl::Duration timeout) override;
  absl::Status ReportMetrics(absl::Duration timeout) override
      ABSL_LOCKS_EXCLUDED(mu_, report_mu_);

  bool remote() const override { return true; }
  bool connected() const override;
  void Disconnect() override;
  absl::Status Reconnect() override ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() override ABSL_LOCKS_EXCLUDED(mu_);
  void AbandonAfterFork() override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The current connection's stub. A caller may hold a replaced channel's
  // stub while Reconnect() installs a new one: replaced channels are
  // stopped (their calls fail with kCancelled) but freed only with this
  // object, so there is one per reconnect after a parent's death.
  agent::WorkerAgent::Stub Stub() const;
  std::vector<rpc::Channel*> Channels() const ABSL_LOCKS_EXCLUDED(mu_);

  const ipc::Secret* const secret_;
  const rpc::ChannelOptions options_;
  std::atomic<rpc::Channel*> channel_{nullptr};
  mutable Mutex mu_;
  // Every channel made, the current one last.
  std::vector<std::unique_ptr<rpc::Channel>> channels_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  ForkGuardRegistration fork_guard_{&mu_};
  Mutex report_mu_;  // One report at a time.
  MetricsReporter metrics_reporter_ ABSL_GUARDED_BY(report_mu_);
};

}  // namespace zen

#endif  // ZEN_AGENT_SOCKET_TRANSPORT_H_
