// Conversion between the Collector's plain events and the wire, in both
// directions: the child sends what the parent folds. The JSON of each event
// is the reference's Collector::Event#as_json, key for key
// (docs/protocol.md, "Collector events").
#ifndef ZEN_AGENT_EVENT_CONVERSION_H_
#define ZEN_AGENT_EVENT_CONVERSION_H_

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "agent/model/collector_event.h"
#include "proto/zen/agent/worker_agent.pb.h"

namespace zen {

// nullopt when the message's `type` is not one of the ten known types.
std::optional<CollectorEvent> EventFromProto(const agent::CollectorEvent& in);

// Sets exactly the keys the reference writes for `in.type` (and ours:
// `kind` of an attack and `timestamp_ms`, when not empty). A route's empty
// schema is sent as `{}`; kInvalidArgument if `schema_json` is not JSON.
absl::Status EventToProto(const CollectorEvent& in, agent::CollectorEvent* out);

// Client side: appends the JSON array of `events`, in order, to *json.
// kInvalidArgument naming the event if one cannot be encoded (a route
// schema that is not JSON, a string that is not UTF-8); *json then holds a
// partial text.
absl::Status EncodeEventsJson(absl::Span<const CollectorEvent> events,
                              std::string* json);

struct DecodedEvents {
  std::vector<CollectorEvent> events;  // the good ones, in order
  size_t unknown_type = 0;             // well-formed, of a type we do not know
  size_t undecodable = 0;              // not an object of the event's shape
};

// Server side: decodes `json_array` (one JSON value, already validated)
// element by element, so one bad event costs only itself (the reference
// drops the rest of its batch). kInvalidArgument if it is not an array.
absl::StatusOr<DecodedEvents> DecodeEventsJson(absl::string_view json_array);

}  // namespace zen

#endif  // ZEN_AGENT_EVENT_CONVERSION_H_
