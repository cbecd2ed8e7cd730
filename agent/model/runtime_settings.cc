#include "agent/model/runtime_settings.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "base/status_macros.h"

namespace zen {
namespace {

// A document's text as kept: none for what Apply* reads as "none yet".
std::shared_ptr<const std::string> KeptText(absl::string_view json) {
  const absl::string_view trimmed = absl::StripAsciiWhitespace(json);
  if (trimmed.empty() || trimmed == "null") return nullptr;
  return std::make_shared<const std::string>(json);
}

}  // namespace

RuntimeSettings::RuntimeSettings()
    : config_(std::make_shared<const RuntimeConfig>()),
      lists_(std::make_shared<const FirewallLists>()) {}

absl::StatusOr<RuntimeSettings> RuntimeSettings::Parse(
    absl::string_view config_json, absl::string_view firewall_lists_json) {
  RuntimeSettings settings;
  ZEN_RETURN_IF_ERROR(settings.ApplyConfig(config_json));
  ZEN_RETURN_IF_ERROR(settings.ApplyFirewallLists(firewall_lists_json));
  return settings;
}

absl::Status RuntimeSettings::ApplyConfig(absl::string_view config_json) {
  ZEN_ASSIGN_OR_RETURN(RuntimeConfig config, RuntimeConfig::Parse(config_json));
  config_ = std::make_shared<const RuntimeConfig>(std::move(config));
  config_json_ = KeptText(config_json);
  return absl::OkStatus();
}

absl::Status RuntimeSettings::ApplyFirewallLists(
    absl::string_view firewall_lists_json) {
  ZEN_ASSIGN_OR_RETURN(FirewallLists lists,
                       FirewallLists::Parse(firewall_lists_json));
  lists_ = std::make_shared<const FirewallLists>(std::move(lists));
  lists_json_ = KeptText(firewall_lists_json);
  return absl::OkStatus();
}

std::optional<IpListInfo> RuntimeSettings::IsIpBlocked(
    absl::string_view ip) const {
  const std::optional<IpAddress> address = IpAddress::Parse(ip);
  if (!address.has_value()) return std::nullopt;
  return IsIpBlocked(*address);
}

std::optional<IpListInfo> RuntimeSettings::IsIpBlocked(
    const IpAddress& ip) const {
  const IpListInfo* list = lists_->FindBlockingList(ip);
  if (list == nullptr) return std::nullopt;
  return *list;
}

bool RuntimeSettings::IsIpAllowed(absl::string_view ip) const {
  return lists_->IsAllowed(ip);
}

std::vector<std::string> RuntimeSettings::MonitoredIpLists(
    absl::string_view ip) const {
  const std::optional<IpAddress> address = IpAddress::Parse(ip);
  if (!address.has_value()) return {};
  return lists_->MonitoredListKeys(*address);
}

}  // namespace zen
