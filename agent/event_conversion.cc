#include "agent/event_conversion.h"

#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "codegen_runtime/json_value.h"
#include "codegen_runtime/message_json.h"
#include "codegen_runtime/padded_json.h"
#include "codegen_runtime/protobuf_state.h"
#include "simdjson.h"

namespace zen {
namespace {

namespace od = simdjson::ondemand;

// ForkSafeLazy, not a function-local static: see
// codegen_runtime/protobuf_state.h.
const codegen_runtime::MessageJson& EventCodec() {
  static codegen_runtime::ForkSafeLazy<codegen_runtime::MessageJson> codec;
  return codec.Get([] {
    return new codegen_runtime::MessageJson(agent::CollectorEvent::descriptor(),
                                            {});
  });
}

// The reference's Actor#as_json: nil name and IP dropped, both times sent.
void ActorToProto(const CollectorEvent& in, agent::Actor* out) {
  out->set_id(in.user_id);
  if (!in.user_name.empty()) out->set_name(in.user_name);
  if (!in.ip_address.empty()) out->set_last_ip_address(in.ip_address);
  out->set_first_seen_at(in.first_seen_ms != 0 ? in.first_seen_ms
                                               : in.timestamp_ms);
  out->set_last_seen_at(in.last_seen_ms != 0 ? in.last_seen_ms
                                             : in.timestamp_ms);
}

absl::Status SchemaToProto(absl::string_view schema_json,
                           google::protobuf::Value* out) {
  if (absl::StripAsciiWhitespace(schema_json).empty()) {
    out->mutable_struct_value();  // `{}`: the reference reads it unchecked.
    return absl::OkStatus();
  }
  absl::Status status = codegen_runtime::JsonToValue(schema_json, out);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("route schema is not JSON: ", status.message()));
  }
  return absl::OkStatus();
}

std::string SchemaFromProto(const agent::CollectorEvent& in) {
  if (!in.has_schema()) return std::string();
  std::string text;
  if (!codegen_runtime::ValueToJson(in.schema(), &text).ok())
    return std::string();
  return text == "{}" ? std::string() : text;
}

}  // namespace

std::optional<CollectorEvent> EventFromProto(const agent::CollectorEvent& in) {
  std::optional<CollectorEventType> type =
      CollectorEventTypeFromName(in.type());
  if (!type) return std::nullopt;
  CollectorEvent out;
  out.type = *type;
  out.timestamp_ms = in.timestamp_ms();
  out.method = in.route().method();
  out.path = in.route().path();
  out.schema_json = SchemaFromProto(in);
  out.sink_name = in.sink_name();
  out.sink_kind = in.sink_kind();
  out.attack_kind = in.kind();
  out.blocked = in.being_blocked();
  out.duration = absl::Seconds(in.duration());
  out.has_errors = in.has_errors();
  out.user_id = in.actor().id();
  out.user_name = in.actor().name();
  out.ip_address = in.actor().last_ip_address();
  out.first_seen_ms = in.actor().first_seen_at();
  out.last_seen_ms = in.actor().last_seen_at();
  // The reference's OutboundConnection lower-cases the host it is given.
  out.hostname = absl::AsciiStrToLower(in.connection().hostname());
  out.port = in.connection().port();
  if (*type == CollectorEventType::kUserAgent) {
    out.keys.assign(in.user_agent_keys().begin(), in.user_agent_keys().end());
  } else if (*type == CollectorEventType::kIpList) {
    out.keys.assign(in.ip_list_keys().begin(), in.ip_list_keys().end());
  }
  return out;
}

absl::Status EventToProto(const CollectorEvent& in,
                          agent::CollectorEvent* out) {
  out->set_type(std::string(CollectorEventTypeName(in.type)));
  if (in.timestamp_ms != 0) out->set_timestamp_ms(in.timestamp_ms);
  switch (in.type) {
    case CollectorEventType::kRequest:
    case CollectorEventType::kRateLimitedRequest:
      break;
    case CollectorEventType::kUserAgent:
      for (const std::string& k : in.keys) out->add_user_agent_keys(k);
      break;
    case CollectorEventType::kIpList:
      for (const std::string& k : in.keys) out->add_ip_list_keys(k);
      break;
    case CollectorEventType::kAttackWave:
      out->set_being_blocked(in.blocked);
      break;
    case CollectorEventType::kScan:
      out->set_sink_name(in.sink_name);
      out->set_sink_kind(in.sink_kind);
      out->set_duration(absl::ToDoubleSeconds(in.duration));
      out->set_has_errors(in.has_errors);
      break;
    case CollectorEventType::kAttack:
      out->set_sink_name(in.sink_name);
      out->set_sink_kind(in.sink_kind);
      out->set_being_blocked(in.blocked);
      if (!in.attack_kind.empty()) out->set_kind(in.attack_kind);
      break;
    case CollectorEventType::kUser:
      ActorToProto(in, out->mutable_actor());
      break;
    case CollectorEventType::kOutbound:
      out->mutable_connection()->set_hostname(
          absl::AsciiStrToLower(in.hostname));
      out->mutable_connection()->set_port(in.port);
      break;
    case CollectorEventType::kRoute:
      out->mutable_route()->set_method(in.method);
      out->mutable_route()->set_path(in.path);
      return SchemaToProto(in.schema_json, out->mutable_schema());
  }
  return absl::OkStatus();
}

absl::Status EncodeEventsJson(absl::Span<const CollectorEvent> events,
                              std::string* json) {
  json->push_back('[');
  agent::CollectorEvent message;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i > 0) json->push_back(',');
    message.Clear();
    absl::Status status = EventToProto(events[i], &message);
    if (status.ok()) status = EventCodec().Encode(message, json);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          absl::StrCat("event ", i, ": ", status.message()));
    }
  }
  json->push_back(']');
  return absl::OkStatus();
}

absl::StatusOr<DecodedEvents> DecodeEventsJson(absl::string_view json_array) {
  const codegen_runtime::PaddedJsonString padded(json_array);
  od::parser parser;
  od::document doc;
  od::array array;
  if (parser.iterate(padded.view().data(), json_array.size(),
                     json_array.size() + codegen_runtime::kJsonPadding)
              .get(doc) != simdjson::SUCCESS ||
      doc.get_array().get(array) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("events: expected a JSON array");
  }
  DecodedEvents decoded;
  agent::CollectorEvent message;
  for (auto element : array) {
    od::value value;
    if (std::move(element).get(value) != simdjson::SUCCESS) {
      // Not JSON at all (the raw_json check lets none through): stop, the
      // rest cannot be trusted.
      ++decoded.undecodable;
      break;
    }
    od::object object;
    std::string_view raw;
    if (value.get_object().get(object) != simdjson::SUCCESS ||
        object.raw_json().get(raw) != simdjson::SUCCESS) {
      ++decoded.undecodable;  // A scalar or array: skipped by the iterator.
      continue;
    }
    const codegen_runtime::PaddedJsonString one(
        absl::string_view(raw.data(), raw.size()));
    if (!EventCodec().Decode(one.view(), &message).ok()) {
      ++decoded.undecodable;
      continue;
    }
    std::optional<CollectorEvent> event = EventFromProto(message);
    if (!event) {
      ++decoded.unknown_type;
      continue;
    }
    // Before the next event is decoded: a batch holds no long text whole.
    BoundCollectorEventTexts(&*event);
    decoded.events.push_back(std::move(*event));
  }
  return decoded;
}

}  // namespace zen
