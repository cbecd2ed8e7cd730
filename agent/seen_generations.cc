#include "agent/seen_generations.h"

namespace zen {

void SeenGenerations::NoteAnswer(
    const agent::UpdatedSettingsResponse& response) {
  if (response.has_config_generation()) {
    answered_.config = response.config_generation();
  }
  if (response.has_firewall_lists_generation()) {
    answered_.firewall_lists = response.firewall_lists_generation();
  }
}

void SeenGenerations::NoteApplied(std::optional<int64_t> config,
                                  std::optional<int64_t> firewall_lists) {
  if (config) applied_.config = *config;
  if (firewall_lists) applied_.firewall_lists = *firewall_lists;
}

}  // namespace zen
