#include "agent/client_settings.h"

#include <optional>
#include <utility>

#include "agent/model/settings_cache.h"

namespace zen {

ClientSettings::ClientSettings(OnApplied on_applied)
    : on_applied_(std::move(on_applied)),
      current_(std::make_shared<const RuntimeSettings>()) {}

std::shared_ptr<const RuntimeSettings> ClientSettings::current() const {
  MutexLock lock(&mu_);
  return current_;
}

std::shared_ptr<const RuntimeSettings> ClientSettings::current_with_config()
    const {
  MutexLock lock(&mu_);
  if (!seen_.applied().config) return nullptr;
  return current_;
}

absl::Status ClientSettings::Poll(const Ask& ask) {
  MutexLock polling(&poll_mu_);
  agent::UpdatedSettingsRequest request;
  {
    MutexLock lock(&mu_);
    ++counts_.polls;
    seen_.FillPoll(&request);
  }
  absl::StatusOr<agent::UpdatedSettingsResponse> answer = ask(request);
  if (!answer.ok()) return answer.status();
  return Apply(*answer);
}

void ClientSettings::StartWatch(agent::WatchSettingsRequest* request) {
  MutexLock lock(&mu_);
  ++counts_.watches;
  seen_.FillWatch(request);
}

absl::Status ClientSettings::Apply(
    const agent::UpdatedSettingsResponse& response) {
  MutexLock applying(&apply_mu_);
  std::shared_ptr<const RuntimeSettings> before;
  {
    MutexLock lock(&mu_);
    seen_.NoteAnswer(response);
    before = current_;
  }
  auto updated = std::make_shared<RuntimeSettings>(*before);
  bool changed = false;
  absl::Status status;
  std::optional<int64_t> config_generation, lists_generation;
  if (response.has_config_generation() &&
      IsSettingsDocument(response.config())) {
    status = updated->ApplyConfig(response.config());
    if (status.ok()) {
      config_generation = response.config_generation();
      changed = true;
    }
  }
  if (response.has_firewall_lists_generation() &&
      IsSettingsDocument(response.firewall_lists())) {
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
    current_ = applied;
    seen_.NoteApplied(config_generation, lists_generation);
    ++counts_.applied;
  }
  if (on_applied_) on_applied_(applied);
  return status;
}

KnownGenerations ClientSettings::applied_generations() const {
  MutexLock lock(&mu_);
  return seen_.applied();
}

ClientSettings::Counts ClientSettings::counts() const {
  MutexLock lock(&mu_);
  return counts_;
}

}  // namespace zen
