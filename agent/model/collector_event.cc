#include "agent/model/collector_event.h"

#include <string>

#include "absl/strings/ascii.h"
#include "agent/model/bounded_key.h"

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

namespace {

void Bound(std::string* text, size_t max_bytes) {
  if (text->size() > max_bytes) *text = BoundedText(*text, max_bytes);
}

void Cut(std::string* text, size_t max_bytes) {
  if (text->size() > max_bytes)
    text->resize(TruncateUtf8(*text, max_bytes).size());
}

}  // namespace

void BoundCollectorEventTexts(CollectorEvent* event) {
  using B = CollectorTextBounds;
  Cut(&event->method, B::kMethod);
  Bound(&event->path, B::kRoutePath);
  Bound(&event->sink_name, B::kSinkName);
  Cut(&event->sink_kind, B::kKind);
  Bound(&event->attack_kind, B::kKind);
  Bound(&event->user_id, B::kUserId);
  Cut(&event->user_name, B::kUserName);
  Cut(&event->ip_address, B::kIpAddress);
  // Lower-cased first, as the Collector keys hosts, so that one host's
  // spellings keep one digest.
  if (event->hostname.size() > B::kHostname) {
    event->hostname =
        BoundedText(absl::AsciiStrToLower(event->hostname), B::kHostname);
  }
  for (std::string& key : event->keys) Bound(&key, B::kListKey);
}

}  // namespace zen
