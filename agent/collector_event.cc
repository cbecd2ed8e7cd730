#include "agent/collector_event.h"

namespace zen {
namespace {

struct NamedType {
  absl::string_view name;
  CollectorEventType type;
};

constexpr NamedType kNamedTypes[] = {
    {"track_request", CollectorEventType::kRequest},
    {"track_rate_limited_request", CollectorEventType::kRateLimitedRequest},
    {"track_user_agent", CollectorEventType::kUserAgent},
    {"track_ip_list", CollectorEventType::kIpList},
    {"track_attack_wave", CollectorEventType::kAttackWave},
    {"track_scan", CollectorEventType::kScan},
    {"track_attack", CollectorEventType::kAttack},
    {"track_user", CollectorEventType::kUser},
    {"track_outbound", CollectorEventType::kOutbound},
    {"track_route", CollectorEventType::kRoute},
};

}  // namespace

absl::string_view CollectorEventTypeName(CollectorEventType type) {
  for (const NamedType& named : kNamedTypes) {
    if (named.type == type) return named.name;
  }
  return "unknown";
}

std::optional<CollectorEventType> CollectorEventTypeFromName(
    absl::string_view name) {
  for (const NamedType& named : kNamedTypes) {
    if (named.name == name) return named.type;
  }
  return std::nullopt;
}

}  // namespace zen
