// InProcessAgentTransport: agent calls answered by the AgentService of this
// very process (the parent's own client), with no socket and no copy of the
// settings texts beyond the response's.
#ifndef ZEN_AGENT_IN_PROCESS_TRANSPORT_H_
#define ZEN_AGENT_IN_PROCESS_TRANSPORT_H_

#include "agent/agent_service.h"
#include "agent/agent_transport.h"

namespace zen {

// Thread-safe as AgentService is. `service` is not owned and must outlive
// this object. Stop() changes nothing: the service answers as long as it
// lives (a client stopped in the parent still decides from it).
class InProcessAgentTransport : public AgentTransport {
 public:
  explicit InProcessAgentTransport(AgentService* service) : service_(service) {}

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
  // Nothing to report: the service counts no calls that did not cross its
  // server.
  absl::Status ReportMetrics(absl::Duration timeout) override;

  bool remote() const override { return false; }
  bool connected() const override { return true; }
  void Disconnect() override {}
  absl::Status Reconnect() override { return absl::OkStatus(); }
  void Stop() override {}
  void AbandonAfterFork() override {}

 private:
  AgentService* const service_;
};

}  // namespace zen

#endif  // ZEN_AGENT_IN_PROCESS_TRANSPORT_H_
