#include "agent/in_process_transport.h"

#include <memory>
#include <string>

#include "agent/model/settings_cache.h"

namespace zen {

absl::StatusOr<agent::UpdatedSettingsResponse>
InProcessAgentTransport::UpdatedSettings(
    const agent::UpdatedSettingsRequest& request, absl::Duration) {
  agent::UpdatedSettingsResponse response;
  const SettingsChanges changes = service_->UpdatedSettings(request);
  PutChangedGenerations(changes, &response);
  // What a server splices into its frame: the cached bytes, or the text of
  // no document.
  const auto text = [](const std::shared_ptr<const std::string>& raw) {
    return raw != nullptr ? *raw : std::string(kNoSettingsDocument);
  };
  if (changes.config_changed) {
    response.set_config(text(changes.snapshot.config));
  }
  if (changes.firewall_lists_changed) {
    response.set_firewall_lists(text(changes.snapshot.firewall_lists));
  }
  return response;
}

absl::StatusOr<agent::UpdatedSettingsResponse>
InProcessAgentTransport::WatchSettings(const agent::WatchSettingsRequest&,
                                       absl::Duration) {
  // A poll reads the service itself; there is nothing to wait on.
  return absl::UnimplementedError("watch_settings: the agent is in process");
}

absl::StatusOr<agent::SendCollectorEventsResponse>
InProcessAgentTransport::SendCollectorEvents(
    const agent::SendCollectorEventsRequest& request, absl::Duration) {
  service_->SendCollectorEvents(request);
  return agent::SendCollectorEventsResponse();
}

absl::StatusOr<agent::CalculateRateLimitsResponse>
InProcessAgentTransport::CalculateRateLimits(
    const agent::CalculateRateLimitsRequest& request, absl::Duration) {
  agent::CalculateRateLimitsResponse response;
  service_->CalculateRateLimits(request, &response);
  return response;
}

absl::StatusOr<agent::RecordAttackWaveResponse>
InProcessAgentTransport::RecordAttackWave(
    const agent::RecordAttackWaveRequest& request, absl::Duration) {
  agent::RecordAttackWaveResponse response;
  service_->RecordAttackWave(request, &response);
  return response;
}

absl::Status InProcessAgentTransport::Ping(absl::Duration) {
  return absl::OkStatus();
}

absl::Status InProcessAgentTransport::ReportMetrics(absl::Duration) {
  return absl::OkStatus();
}

}  // namespace zen
