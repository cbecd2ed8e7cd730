#include "examples/settings_source.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "examples/default_settings.h"

namespace zen::examples {
namespace {

// Reads `file` if it changed and pushes it with `update`.
template <typename Update>
absl::Status PushFile(FileWatcher& file, Update update) {
  absl::StatusOr<std::optional<std::string>> text = file.ReadIfChanged();
  if (!text.ok()) return text.status();
  if (!text->has_value()) return absl::OkStatus();
  absl::Status status = update(std::move(**text));
  if (!status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat(file.path(), ": ", status.message()));
  }
  return absl::OkStatus();
}

}  // namespace

SettingsSource::SettingsSource(std::string config_path,
                               std::string firewall_lists_path) {
  if (!config_path.empty()) config_file_.emplace(std::move(config_path));
  if (!firewall_lists_path.empty()) {
    firewall_lists_file_.emplace(std::move(firewall_lists_path));
  }
}

absl::Status SettingsSource::PushChanges(AgentServer* server) {
  absl::Status first_error;
  auto update_config = [server](std::string text) {
    return server->UpdateConfig(std::move(text));
  };
  auto update_lists = [server](std::string text) {
    return server->UpdateFirewallLists(std::move(text));
  };
  if (!defaults_pushed_) {
    defaults_pushed_ = true;
    if (!config_file_.has_value()) {
      first_error.Update(update_config(std::string(kDefaultConfigJson)));
    }
    if (!firewall_lists_file_.has_value()) {
      first_error.Update(update_lists(std::string(kDefaultFirewallListsJson)));
    }
  }
  if (config_file_.has_value()) {
    first_error.Update(PushFile(*config_file_, update_config));
  }
  if (firewall_lists_file_.has_value()) {
    first_error.Update(PushFile(*firewall_lists_file_, update_lists));
  }
  return first_error;
}

}  // namespace zen::examples
