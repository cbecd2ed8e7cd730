#include "agent/event_conversion.h"

#include <string>

namespace zen {

std::optional<CollectorEvent> EventFromProto(const agent::CollectorEvent& in) {
  std::optional<CollectorEventType> type =
      CollectorEventTypeFromName(in.type());
  if (!type) return std::nullopt;
  CollectorEvent out;
  out.type = *type;
  out.timestamp_ms = in.timestamp_ms();
  out.method = in.route().method();
  out.path = in.route().path();
  out.sink_name = in.sink_name();
  out.attack_kind = in.kind();
  out.blocked = in.being_blocked();
  out.duration = absl::Seconds(in.duration());
  out.has_errors = in.has_errors();
  out.user_id = in.actor().id();
  out.user_name = in.actor().name();
  out.ip_address = in.actor().last_ip_address();
  out.first_seen_ms = in.actor().first_seen_at();
  out.last_seen_ms = in.actor().last_seen_at();
  out.hostname = in.connection().hostname();
  out.port = in.connection().port();
  if (*type == CollectorEventType::kUserAgent) {
    out.keys.assign(in.user_agent_keys().begin(), in.user_agent_keys().end());
  } else if (*type == CollectorEventType::kIpList) {
    out.keys.assign(in.ip_list_keys().begin(), in.ip_list_keys().end());
  }
  return out;
}

void EventToProto(const CollectorEvent& in, agent::CollectorEvent* out) {
  out->set_type(std::string(CollectorEventTypeName(in.type)));
  out->set_timestamp_ms(in.timestamp_ms);
  if (!in.method.empty() || !in.path.empty()) {
    out->mutable_route()->set_method(in.method);
    out->mutable_route()->set_path(in.path);
  }
  if (!in.sink_name.empty()) out->set_sink_name(in.sink_name);
  if (!in.attack_kind.empty()) out->set_kind(in.attack_kind);
  out->set_being_blocked(in.blocked);
  if (in.duration != absl::ZeroDuration()) {
    out->set_duration(absl::ToDoubleSeconds(in.duration));
  }
  out->set_has_errors(in.has_errors);
  if (!in.user_id.empty() || !in.user_name.empty() || !in.ip_address.empty()) {
    agent::Actor* actor = out->mutable_actor();
    actor->set_id(in.user_id);
    actor->set_name(in.user_name);
    actor->set_last_ip_address(in.ip_address);
    actor->set_first_seen_at(in.first_seen_ms);
    actor->set_last_seen_at(in.last_seen_ms);
  }
  if (!in.hostname.empty()) {
    out->mutable_connection()->set_hostname(in.hostname);
    out->mutable_connection()->set_port(in.port);
  }
  if (in.type == CollectorEventType::kUserAgent) {
    for (const std::string& k : in.keys) out->add_user_agent_keys(k);
  } else if (in.type == CollectorEventType::kIpList) {
    for (const std::string& k : in.keys) out->add_ip_list_keys(k);
  }
}

}  // namespace zen
